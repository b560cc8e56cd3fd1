/**
 * Admission and isolation for trainings: at most K at once, each in its own Web Worker.
 *
 * Training is compute-bound and can take minutes, so it never runs on the thread that
 * answers requests. {@linkcode TrainingPool.run} starts a fresh worker
 * (`train_worker.ts`) per training and:
 * - refuses a training when K are already running ({@linkcode BusyError} → 429 with
 *   `Retry-After`) or the pool is closing ({@linkcode UnavailableError} → 503);
 * - owns every deadline: terminates the worker — freeing its whole isolate, wasm heap included —
 *   when the caller's signal aborts (client gone: {@linkcode CancelledError}), when the request's
 *   own `timeout_s` passes ({@linkcode DeadlineError}, 408), when the wall-time limit passes
 *   ({@linkcode LimitExceededError} `max_train_wall_s`), or at shutdown;
 * - turns a crash inside the worker (a wasm `Aborted()`, an uncaught throw) into a
 *   `WorkerFailedError` saying what happened, and leaves the server running.
 *
 * The error classes are shared with the job pool (`pool_errors.ts`).
 *
 * @module
 */
import type { ServiceConfig } from "./config.ts";
import { LimitExceededError } from "../errors.ts";
import {
  BusyError,
  CancelledError,
  classifyWorkerError,
  DeadlineError,
  UnavailableError,
} from "./pool_errors.ts";
import type { WorkerRequest, WorkerResponse } from "./worker_protocol.ts";

/** A module and the function in it that trains one point: `fn(request, { signal, onProgress })`. */
export interface TrainerRef {
  /** Module specifier the worker imports (an absolute `file:` URL or a mapped bare name). */
  module: string;
  /** Name of the exported training function. */
  exportName: string;
}

/**
 * The trainer workers run by default: the training library's `trainPoint` (lib/train/) behind
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
   * The request's own time limit: the worker is stopped after `seconds` (or at the pool's
   * wall-time limit, whichever comes first) and the run rejects with {@linkcode DeadlineError}
   * naming `field`.
   */
  deadline?: { seconds: number; field: string };
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

/** What a cancelled training's caller is told. */
const CANCELLED = "The training was cancelled and its worker stopped.";

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
   * @throws {BusyError} When every slot is taken (nothing started).
   * @throws {UnavailableError} When the pool is closing (nothing started), or the
   *   training was cancelled by {@linkcode cancelAll}.
   * @throws {CancelledError} When `options.signal` aborts.
   * @throws {DeadlineError} When `options.deadline` passes first.
   * @throws {LimitExceededError} `max_train_wall_s` when the wall-time limit passes, or any
   *   limit the trainer itself enforced.
   * @throws {WorkerFailedError} When the training failed or crashed in its worker.
   */
  run<T = unknown>(request: unknown, options: RunTrainingOptions = {}): Promise<T> {
    try {
      this.assertAdmissible();
    } catch (error) {
      return Promise.reject(error);
    }
    if (options.signal?.aborted) return Promise.reject(new CancelledError(CANCELLED));
    return this.#start<T>(request, options);
  }

  /**
   * Throw now if {@linkcode run} would refuse a training: lets a route answer 429/503 before
   * it commits to a 200 event stream. Call `run` in the same synchronous section.
   *
   * @throws {UnavailableError} When the pool is closing.
   * @throws {BusyError} When every slot is taken.
   */
  assertAdmissible(): void {
    if (this.#closed) {
      this.#rejected++;
      throw new UnavailableError(
        "The server is shutting down and accepts no new training.",
        this.#options.retryAfterS,
      );
    }
    if (this.#jobs.size >= this.#options.maxConcurrent) {
      this.#rejected++;
      const active = this.#jobs.size;
      throw new BusyError(
        `${active} training${active === 1 ? " is" : "s are"} already running ` +
          `(max_concurrent_trainings = ${active}); retry after ${this.#options.retryAfterS} s.`,
        {
          limit: "max_concurrent_trainings",
          value: active,
          retryAfterS: this.#options.retryAfterS,
        },
      );
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

    const onAbort = () => job.stop(new CancelledError(CANCELLED));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    // One timer for both deadlines: the request's own, when shorter, else the pool's wall limit.
    const deadline = options.deadline;
    const ownFirst = deadline !== undefined && deadline.seconds < this.#options.maxWallS;
    const timer = setTimeout(() => {
      job.stop(
        ownFirst ? new DeadlineError(deadline.field, deadline.seconds) : new LimitExceededError({
          name: "max_train_wall_s",
          value: this.#options.maxWallS,
          actual: Math.round((performance.now() - startedMs) / 100) / 10,
        }),
      );
    }, (ownFirst ? deadline.seconds : this.#options.maxWallS) * 1000);

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

  /** Refuse every new training from now on ({@linkcode UnavailableError}). */
  close(): void {
    this.#closed = true;
  }

  /**
   * Stop every running training now; each rejects with {@linkcode UnavailableError}.
   *
   * @param reason Sentence sent to the clients of the cancelled trainings.
   */
  cancelAll(reason = "The server is shutting down; the training was cancelled."): void {
    for (const job of [...this.#jobs]) {
      job.stop(new UnavailableError(reason, this.#options.retryAfterS));
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
