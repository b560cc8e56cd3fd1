/**
 * Admission and isolation for trainings: at most K at once, each in its own Web Worker.
 *
 * Training is compute-bound and can take minutes, so it never runs on the thread that
 * answers requests. {@linkcode TrainingPool.run} starts a fresh worker
 * (`train_worker.ts`) per training and:
 * - refuses a training when K are already running ({@linkcode TrainingBusyError} → 429 with
 *   `Retry-After`) or the pool is closing ({@linkcode TrainingUnavailableError} → 503);
 * - terminates the worker — freeing its whole isolate, wasm heap included — when the caller's
 *   signal aborts (client gone: {@linkcode TrainingCancelledError}), when the wall-time limit
 *   passes ({@linkcode LimitExceededError} `max_train_wall_s`), or at shutdown;
 * - turns a crash inside the worker (a wasm `Aborted()`, an uncaught throw) into a
 *   {@linkcode TrainingFailedError} saying what happened, and leaves the server running.
 *
 * @module
 */
import type { ServiceConfig } from "./config.ts";
import { LimitExceededError, type LimitName } from "./limits.ts";
import {
  isOutOfMemory,
  type WorkerError,
  type WorkerRequest,
  type WorkerResponse,
} from "./worker_protocol.ts";

/** A module and the function in it that trains one point: `fn(request, { signal, onProgress })`. */
export interface TrainerRef {
  /** Module specifier the worker imports (an absolute `file:` URL or a mapped bare name). */
  module: string;
  /** Name of the exported training function. */
  exportName: string;
}

/**
 * The trainer workers run by default: the training library's `trainPoint` (issue 3) behind
 * `train_entry.ts`, which rebuilds the dataset registry inside the worker. The module is only
 * imported inside a worker, when a training starts.
 */
export const DEFAULT_TRAINER: TrainerRef = {
  module: new URL("./train_entry.ts", import.meta.url).href,
  exportName: "trainPoint",
};

/** Options of {@linkcode TrainingPool}. */
export interface TrainingPoolOptions {
  /** Trainings run at once; one more is refused. */
  maxConcurrent: number;
  /** Wall-time limit per training, in seconds. */
  maxWallS: number;
  /** `Retry-After` seconds suggested when every slot is taken. */
  retryAfterS: number;
  /** Default trainer for {@linkcode TrainingPool.run}. @default DEFAULT_TRAINER */
  trainer?: TrainerRef;
}

/** Options of one {@linkcode TrainingPool.run} call. */
export interface RunTrainingOptions {
  /** Aborts the training (client gone, caller's own deadline). */
  signal?: AbortSignal;
  /** Called on this thread with each progress event the trainer reports. */
  onProgress?: (event: unknown) => void;
  /** Trainer to run instead of the pool's default (tests use fixture modules). */
  trainer?: TrainerRef;
  /**
   * Extra options for the trainer function, e.g. `{ maxTrainFlops }`. They cross into the
   * worker by structured clone, so functions (a dataset resolver) cannot be passed.
   */
  trainerOptions?: Record<string, unknown>;
}

/** Counters reported by `/healthz`. */
export interface TrainingPoolStats {
  /** Trainings running now. */
  active: number;
  /** Most trainings run at once. */
  max_concurrent: number;
  /** Trainings that finished with a result. */
  completed: number;
  /** Trainings that ended in an error, a cancellation or a time-out. */
  failed: number;
  /** Requests refused because every slot was taken or the pool was closing. */
  rejected: number;
}

/** Every training slot is taken; try again after `retryAfterS`. */
export class TrainingBusyError extends Error {
  /** Suggested wait before retrying, in seconds. */
  readonly retryAfterS: number;
  /** Trainings running now (= the limit). */
  readonly active: number;

  /**
   * @param active Trainings running.
   * @param retryAfterS Suggested wait, in seconds.
   */
  constructor(active: number, retryAfterS: number) {
    super(
      `${active} training${active === 1 ? " is" : "s are"} already running ` +
        `(max_concurrent_trainings = ${active}); retry after ${retryAfterS} s.`,
    );
    this.name = "TrainingBusyError";
    this.active = active;
    this.retryAfterS = retryAfterS;
  }
}

/** The pool is shutting down and accepts no new training. */
export class TrainingUnavailableError extends Error {
  /** Suggested wait before retrying elsewhere, in seconds. */
  readonly retryAfterS: number;

  /**
   * @param message What happened.
   * @param retryAfterS Suggested wait, in seconds.
   */
  constructor(message: string, retryAfterS: number) {
    super(message);
    this.name = "TrainingUnavailableError";
    this.retryAfterS = retryAfterS;
  }
}

/** The caller's signal aborted (client went away); the worker was terminated. */
export class TrainingCancelledError extends Error {
  /** @param message What happened. */
  constructor(message = "The training was cancelled and its worker stopped.") {
    super(message);
    this.name = "TrainingCancelledError";
  }
}

/** Why a training failed inside its worker. */
export type TrainingFailureKind = "out-of-memory" | "invalid" | "crashed";

/** The training failed inside its worker; the worker is gone, the server is not. */
export class TrainingFailedError extends Error {
  /** `out-of-memory`: the model/batch does not fit; `invalid`: the trainer rejected the request; `crashed`: anything else. */
  readonly kind: TrainingFailureKind;
  /** Status to answer with: the trainer's own 4xx when it declared one, else 422. */
  readonly status: number;
  /** The worker's error: class name and first message line. */
  readonly workerError: WorkerError;

  /**
   * @param kind Failure class.
   * @param cause The worker's error.
   */
  constructor(kind: TrainingFailureKind, cause: WorkerError) {
    const what = kind === "out-of-memory"
      ? "The training ran out of memory (the model or batch does not fit in the heap); " +
        "use a smaller model, a smaller batch_size or micro-batching."
      : kind === "invalid"
      ? "The trainer rejected the request."
      : "The training crashed; the server is unaffected.";
    super(`${what} ${cause.name}: ${cause.message}`.trim());
    this.name = "TrainingFailedError";
    this.kind = kind;
    this.workerError = cause;
    this.status = kind === "invalid" && cause.status !== undefined && cause.status < 500
      ? cause.status
      : 422;
  }
}

/** `Retry-After` when no backend could start: long enough for an operator to look. */
const BACKEND_RETRY_AFTER_S = 60;

/** Error classes a trainer throws for a bad request (its own validation), as opposed to a crash. */
const INVALID_REQUEST_ERRORS = new Set(["TypeError", "RangeError", "SyntaxError", "ZodError"]);

/**
 * Turn a worker's error into the error {@linkcode TrainingPool.run} rejects with.
 *
 * @param error The worker's error.
 * @returns A {@linkcode LimitExceededError} when the trainer threw one, a
 *   {@linkcode TrainingUnavailableError} when no backend could start, else a
 *   {@linkcode TrainingFailedError}.
 */
export function classifyWorkerError(error: WorkerError): Error {
  if (error.limit !== undefined) {
    const status = error.limit.status === 413 ? 413 : 422;
    return new LimitExceededError({
      name: error.limit.name as LimitName,
      value: error.limit.value,
      ...(error.limit.actual === undefined ? {} : { actual: error.limit.actual }),
      ...(error.limit.field === undefined ? {} : { field: error.limit.field }),
      status,
    });
  }
  if (isOutOfMemory(error)) return new TrainingFailedError("out-of-memory", error);
  if (error.name === "BackendError") {
    // No compute backend could start in the worker: the server's fault, not the request's.
    return new TrainingUnavailableError(
      `No training backend is available: ${error.message}`,
      BACKEND_RETRY_AFTER_S,
    );
  }
  if (error.status === 503) {
    // The trainer says a resource it needs is unavailable (e.g. a dataset that cannot be read).
    return new TrainingUnavailableError(error.message, BACKEND_RETRY_AFTER_S);
  }
  const declared4xx = error.status !== undefined && error.status < 500;
  if (INVALID_REQUEST_ERRORS.has(error.name) || declared4xx) {
    return new TrainingFailedError("invalid", error);
  }
  return new TrainingFailedError("crashed", error);
}

/** The worker script; one fresh worker per training. */
const WORKER_URL = new URL("./train_worker.ts", import.meta.url);

/** One running training: its worker and how to stop it. */
interface Job {
  worker: Worker;
  stop: (error: Error) => void;
}

/**
 * Runs trainings in Web Workers, at most `maxConcurrent` at once.
 *
 * @example
 * ```ts ignore
 * import { TrainingPool } from "./training_pool.ts";
 * const pool = new TrainingPool({ maxConcurrent: 1, maxWallS: 600, retryAfterS: 30 });
 * const result = await pool.run({ family: "gpt", size: 64, dataset: "synthetic-text", budget: { flops: 1e11 } });
 * ```
 */
export class TrainingPool {
  #options: Required<TrainingPoolOptions>;
  #jobs = new Set<Job>();
  #closed = false;
  #completed = 0;
  #failed = 0;
  #rejected = 0;
  #idleWaiters: Array<() => void> = [];

  /** @param options Limits and the default trainer. */
  constructor(options: TrainingPoolOptions) {
    this.#options = { trainer: DEFAULT_TRAINER, ...options };
  }

  /** Trainings running now. */
  get active(): number {
    return this.#jobs.size;
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @returns Counters for `/healthz`. */
  stats(): TrainingPoolStats {
    return {
      active: this.#jobs.size,
      max_concurrent: this.#options.maxConcurrent,
      completed: this.#completed,
      failed: this.#failed,
      rejected: this.#rejected,
    };
  }

  /**
   * Run one training in a fresh worker.
   *
   * @param request The training request, passed as-is (structured clone) to the trainer.
   * @param options Cancellation signal, progress callback, trainer override.
   * @returns The trainer's result.
   * @throws {TrainingBusyError} When every slot is taken (nothing started).
   * @throws {TrainingUnavailableError} When the pool is closing (nothing started), or the
   *   training was cancelled by {@linkcode cancelAll}.
   * @throws {TrainingCancelledError} When `options.signal` aborts.
   * @throws {LimitExceededError} `max_train_wall_s` when the wall-time limit passes, or any
   *   limit the trainer itself enforced.
   * @throws {TrainingFailedError} When the training failed or crashed in its worker.
   */
  run<T = unknown>(request: unknown, options: RunTrainingOptions = {}): Promise<T> {
    try {
      this.assertAdmissible();
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal?.aborted) return Promise.reject(new TrainingCancelledError());
    return this.#start<T>(request, options);
  }

  /**
   * Throw now if {@linkcode run} would refuse a training: lets a route answer 429/503 before
   * it commits to a 200 event stream. Call `run` in the same synchronous section.
   *
   * @throws {TrainingUnavailableError} When the pool is closing.
   * @throws {TrainingBusyError} When every slot is taken.
   */
  assertAdmissible(): void {
    if (this.#closed) {
      this.#rejected++;
      throw new TrainingUnavailableError(
        "The server is shutting down and accepts no new training.",
        this.#options.retryAfterS,
      );
    }
    if (this.#jobs.size >= this.#options.maxConcurrent) {
      this.#rejected++;
      throw new TrainingBusyError(this.#jobs.size, this.#options.retryAfterS);
    }
  }

  #start<T>(request: unknown, options: RunTrainingOptions): Promise<T> {
    const trainer = options.trainer ?? this.#options.trainer;
    const worker = new Worker(WORKER_URL, { type: "module", name: "flops-fit-training" });
    const startedMs = performance.now();
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    let settled = false;
    const job: Job = { worker, stop: () => {} };

    const finish = (outcome: { ok: true; value: T } | { ok: false; error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      worker.onmessage = null;
      worker.onerror = null;
      worker.onmessageerror = null;
      // Terminating drops the worker's isolate: its JS heap, wasm memory and tensors go with it.
      worker.terminate();
      this.#jobs.delete(job);
      if (outcome.ok) this.#completed++;
      else this.#failed++;
      if (this.#jobs.size === 0) {
        for (const wake of this.#idleWaiters.splice(0)) wake();
      }
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    };
    job.stop = (error) => {
      if (settled) return;
      try {
        worker.postMessage({ type: "abort" } satisfies WorkerRequest);
      } catch {
        // The worker is already gone; terminate below is enough.
      }
      finish({ ok: false, error });
    };

    const onAbort = () => job.stop(new TrainingCancelledError());
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const wallMs = this.#options.maxWallS * 1000;
    const timer = setTimeout(() => {
      job.stop(
        new LimitExceededError({
          name: "max_train_wall_s",
          value: this.#options.maxWallS,
          actual: Math.round((performance.now() - startedMs) / 100) / 10,
        }),
      );
    }, wallMs);

    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const message = event.data;
      if (message.type === "progress") {
        try {
          options.onProgress?.(message.event);
        } catch {
          // A consumer that cannot take progress (e.g. a closed stream) must not stop training;
          // its own signal does that.
        }
      } else if (message.type === "result") {
        finish({ ok: true, value: message.result as T });
      } else if (message.type === "error") {
        finish({ ok: false, error: classifyWorkerError(message.error) });
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an error escaping a worker would take this process down.
      event.preventDefault();
      finish({
        ok: false,
        error: classifyWorkerError({
          name: "WorkerError",
          message: String(event.message ?? "worker failed").split("\n")[0]!.slice(0, 300),
        }),
      });
    };
    worker.onmessageerror = () => {
      finish({
        ok: false,
        error: classifyWorkerError({
          name: "DataCloneError",
          message: "The trainer's result could not be passed back from its worker.",
        }),
      });
    };

    this.#jobs.add(job);
    worker.postMessage(
      {
        type: "run",
        module: trainer.module,
        exportName: trainer.exportName,
        request,
        ...(options.trainerOptions === undefined ? {} : { options: options.trainerOptions }),
      } satisfies WorkerRequest,
    );
    return promise;
  }

  /** Refuse every new training from now on ({@linkcode TrainingUnavailableError}). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Stop every running training now; each rejects with {@linkcode TrainingUnavailableError}.
   *
   * @param reason Sentence sent to the clients of the cancelled trainings.
   */
  cancelAll(reason = "The server is shutting down; the training was cancelled."): void {
    for (const job of [...this.#jobs]) {
      job.stop(new TrainingUnavailableError(reason, this.#options.retryAfterS));
    }
  }

  /** @returns A promise that resolves once no training is running. */
  idle(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}

/**
 * A pool sized from the service configuration.
 *
 * @param config Parsed configuration.
 * @param trainer Trainer to run. @default DEFAULT_TRAINER
 * @returns A new pool.
 */
export function trainingPoolFromConfig(
  config: ServiceConfig,
  trainer: TrainerRef = DEFAULT_TRAINER,
): TrainingPool {
  return new TrainingPool({
    maxConcurrent: config.maxConcurrentTrainings,
    maxWallS: config.maxTrainWallS,
    retryAfterS: config.retryAfterS,
    trainer,
  });
}

/** Options of {@linkcode runTrainingInWorker}. */
export interface RunTrainingInWorkerOptions extends RunTrainingOptions {
  /** The pool whose slots and limits apply; routes pass `ctx.trainingPool`. */
  pool: TrainingPool;
}

/**
 * Run one training off the request thread, under the pool's admission and limits.
 *
 * The train route calls this with the validated request, `c.req.raw.signal` and a progress
 * callback that writes stream events.
 *
 * @param request The validated training request.
 * @param options The pool, cancellation signal and progress callback.
 * @returns The trainer's result.
 * @throws See {@linkcode TrainingPool.run}.
 */
export function runTrainingInWorker<T = unknown>(
  request: unknown,
  options: RunTrainingInWorkerOptions,
): Promise<T> {
  const { pool, ...rest } = options;
  return pool.run<T>(request, rest);
}
