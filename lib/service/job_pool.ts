/**
 * Long-lived Web Workers for short CPU-bound jobs (a fit takes 0.1–1 s of CPU), so the thread
 * that answers requests stays free: `/healthz` answers in milliseconds while fits run.
 *
 * - Up to `size` workers, started on demand and stopped after `idleMs` without work (an idle
 *   server or a finished test holds none).
 * - Jobs beyond the busy workers wait in a queue of at most `maxQueued`; one more is refused
 *   with a `BusyError` (429 + `Retry-After`).
 * - A job that runs past `maxWallS`, or whose caller's signal aborts, has its worker
 *   terminated (a synchronous fit cannot be interrupted otherwise); a fresh one replaces it.
 * - A job's own refusal (an error declaring a 4xx `status`) comes back as a `WorkerFailedError`
 *   of kind `invalid` with its status, field, limit and extra members; a crash as kind `crashed`
 *   (500). Neither carries a stack. The error classes are the training pool's
 *   (`pool_errors.ts`).
 *
 * @module
 */
import type { ServiceConfig } from "./config.ts";
import { LimitExceededError } from "../errors.ts";
import type { LimitName } from "./limits.ts";
import { BusyError, CancelledError, classifyWorkerError, UnavailableError } from "./pool_errors.ts";
import type { JobReply } from "./job_worker.ts";

/** Options of {@linkcode JobPool}. */
export interface JobPoolOptions {
  /** Module whose exports the jobs call (absolute URL). */
  module: string;
  /** Most workers. */
  size: number;
  /** Most jobs waiting for a worker. */
  maxQueued: number;
  /** Wall-time limit per job, in seconds (queue time not counted). */
  maxWallS: number;
  /** Name of that limit in problems. */
  wallLimitName: LimitName;
  /** Name of the queue bound in problems. @default "max_queued_fits" */
  queueLimitName?: LimitName;
  /** `Retry-After` seconds when the queue is full. */
  retryAfterS: number;
  /** Stop a worker after this long without a job, in milliseconds. @default 10000 */
  idleMs?: number;
}

/** What a cancelled job's caller is told. */
const CANCELLED = "The job was cancelled.";

interface Job {
  id: number;
  module: string;
  exportName: string;
  args: unknown[];
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  wallTimer: ReturnType<typeof setTimeout> | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

const WORKER_URL = new URL("./job_worker.ts", import.meta.url);

/** Counters for `/healthz`. */
export interface JobPoolStats {
  /** Workers alive. */
  workers: number;
  /** Jobs running. */
  running: number;
  /** Jobs waiting. */
  queued: number;
  /** Jobs finished with a result or a refusal of their input. */
  completed: number;
  /** Jobs that crashed, timed out or were cancelled. */
  failed: number;
  /** Jobs refused because the queue was full. */
  rejected: number;
}

/**
 * Runs jobs on a few long-lived workers.
 *
 * @example
 * ```ts ignore
 * const pool = new JobPool({ module: new URL("../fit/mod.ts", import.meta.url).href, size: 1,
 *   maxQueued: 32, maxWallS: 60, wallLimitName: "max_fit_wall_s", retryAfterS: 1 });
 * const result = await pool.run("fitScalingLaws", [request, limits]);
 * ```
 */
export class JobPool {
  #options: Required<JobPoolOptions>;
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #completed = 0;
  #failed = 0;
  #rejected = 0;

  /** @param options Size, queue bound, limits. */
  constructor(options: JobPoolOptions) {
    this.#options = { idleMs: 10_000, queueLimitName: "max_queued_fits", ...options };
  }

  /** @returns Counters for `/healthz`. */
  stats(): JobPoolStats {
    return {
      workers: this.#slots.length,
      running: this.#slots.filter((s) => s.job !== undefined).length,
      queued: this.#queue.length,
      completed: this.#completed,
      failed: this.#failed,
      rejected: this.#rejected,
    };
  }

  /**
   * Run `module[exportName](...args)` on a worker.
   *
   * @param exportName The function to call.
   * @param args Its arguments (structured-cloned).
   * @param options `signal` cancels the job (queued: dropped; running: worker stopped);
   *   `module` runs an export of another module (absolute URL) on the same workers and limits,
   *   e.g. the adaptive planner's job (`lib/plan/adaptive_job.ts`).
   * @returns The function's result.
   * @throws {BusyError} When the queue is full (nothing started).
   * @throws {WorkerFailedError} When the function refused its input (`invalid`) or failed.
   * @throws {LimitExceededError} When the job ran past the wall-time limit, or the function
   *   reported a limit.
   * @throws {CancelledError} When `signal` aborted.
   */
  run<T = unknown>(
    exportName: string,
    args: unknown[],
    options: { signal?: AbortSignal; module?: string } = {},
  ): Promise<T> {
    const busy = this.#slots.filter((s) => s.job !== undefined).length;
    const free = this.#options.size - busy;
    if (free <= 0 && this.#queue.length >= this.#options.maxQueued) {
      this.#rejected++;
      const queued = this.#queue.length;
      const retryAfterS = this.#options.retryAfterS;
      return Promise.reject(
        new BusyError(
          `${queued} jobs are already waiting for a worker; retry after ${retryAfterS} s.`,
          { limit: this.#options.queueLimitName, value: queued, retryAfterS },
        ),
      );
    }
    if (options.signal?.aborted) return Promise.reject(new CancelledError(CANCELLED));
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    const job: Job = {
      id: this.#nextId++,
      module: options.module ?? this.#options.module,
      exportName,
      args,
      resolve,
      reject,
      signal: options.signal,
      onAbort: () => this.#cancel(job),
    };
    options.signal?.addEventListener("abort", job.onAbort, { once: true });
    this.#queue.push(job);
    this.#dispatch();
    return promise as Promise<T>;
  }

  /** Stop every worker now; running and queued jobs fail with a `CancelledError`. */
  close(): void {
    this.#stopAll(() => new CancelledError(CANCELLED));
  }

  /**
   * Stop every job now because the server is stopping: running and queued jobs fail with an
   * {@linkcode UnavailableError} (503 with `Retry-After`), and their workers are stopped.
   *
   * @param reason Sentence sent to their clients.
   */
  cancelAll(reason = "The server is shutting down; the computation was cancelled."): void {
    this.#stopAll(() => new UnavailableError(reason, this.#options.retryAfterS));
  }

  #stopAll(error: () => Error): void {
    for (const job of this.#queue.splice(0)) this.#settle(job, error());
    for (const slot of [...this.#slots]) {
      const job = slot.job;
      this.#retire(slot);
      if (job) this.#settle(job, error());
    }
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === undefined);
      if (slot === undefined) {
        if (this.#slots.length >= this.#options.size) return;
        slot = this.#spawn();
      }
      const job = this.#queue.shift()!;
      this.#start(slot, job);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(WORKER_URL, { type: "module", name: "flops-fit-job" });
    const slot: Slot = { worker, job: undefined, wallTimer: undefined, idleTimer: undefined };
    worker.onmessage = (event: MessageEvent<JobReply>) => {
      const job = slot.job;
      if (job === undefined || event.data.id !== job.id) return;
      this.#finishOnSlot(slot);
      if ("result" in event.data) {
        this.#completed++;
        this.#settle(job, undefined, event.data.result);
      } else {
        const error = event.data.error;
        const rejected = error.status !== undefined && error.status < 500;
        if (rejected) this.#completed++;
        else this.#failed++;
        this.#settle(job, classifyWorkerError(error, { subject: "job" }));
      }
      this.#dispatch();
    };
    worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an error escaping a worker would take this process down.
      event.preventDefault();
      const job = slot.job;
      this.#retire(slot);
      if (job) {
        this.#failed++;
        this.#settle(
          job,
          classifyWorkerError({
            name: "WorkerError",
            message: String(event.message ?? "worker failed").split("\n")[0]!.slice(0, 300),
          }, { subject: "job" }),
        );
      }
      this.#dispatch();
    };
    this.#slots.push(slot);
    return slot;
  }

  #start(slot: Slot, job: Job): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    const startedMs = performance.now();
    slot.wallTimer = setTimeout(() => {
      this.#retire(slot);
      this.#failed++;
      this.#settle(
        job,
        new LimitExceededError({
          name: this.#options.wallLimitName,
          value: this.#options.maxWallS,
          actual: Math.round((performance.now() - startedMs) / 100) / 10,
        }),
      );
      this.#dispatch();
    }, this.#options.maxWallS * 1000);
    slot.worker.postMessage({
      id: job.id,
      module: job.module,
      exportName: job.exportName,
      args: job.args,
    });
  }

  /** The slot's job is done: clear its timer, arm the idle timer. */
  #finishOnSlot(slot: Slot): void {
    clearTimeout(slot.wallTimer);
    slot.job = undefined;
    slot.idleTimer = setTimeout(() => {
      if (slot.job === undefined) this.#retire(slot);
    }, this.#options.idleMs);
    Deno.unrefTimer(slot.idleTimer as unknown as number);
  }

  /** Terminate a slot's worker and forget it (its job, if any, is settled by the caller). */
  #retire(slot: Slot): void {
    clearTimeout(slot.wallTimer);
    clearTimeout(slot.idleTimer);
    slot.worker.onmessage = null;
    slot.worker.onerror = null;
    slot.worker.terminate();
    slot.job = undefined;
    this.#slots = this.#slots.filter((s) => s !== slot);
  }

  #cancel(job: Job): void {
    const queued = this.#queue.indexOf(job);
    if (queued !== -1) {
      this.#queue.splice(queued, 1);
    } else {
      const slot = this.#slots.find((s) => s.job === job);
      if (slot === undefined) return;
      this.#retire(slot);
    }
    this.#failed++;
    this.#settle(job, new CancelledError(CANCELLED));
    this.#dispatch();
  }

  #settle(job: Job, error: Error | undefined, value?: unknown): void {
    job.signal?.removeEventListener("abort", job.onAbort);
    if (error === undefined) job.resolve(value);
    else job.reject(error);
  }
}

/**
 * Module whose `fitParsed` (the route's call, with the request validated once) and
 * `fitScalingLaws` the fit pool's workers run.
 */
export const FIT_MODULE: string = new URL("../fit/mod.ts", import.meta.url).href;

/**
 * Module whose `planAdaptiveJob` runs `POST /v1/plan`'s adaptive planning (a bootstrap of fits)
 * on the fit pool's workers, under the same queue bound and `max_fit_wall_s`.
 */
export const ADAPTIVE_PLAN_MODULE: string = new URL("../plan/adaptive_job.ts", import.meta.url)
  .href;

/**
 * The fit pool of a configuration: `fitWorkers` workers running `lib/fit/mod.ts`.
 *
 * @param config Parsed configuration.
 * @returns A pool (no worker starts before the first fit).
 */
export function fitPoolFromConfig(config: ServiceConfig): JobPool {
  return new JobPool({
    module: FIT_MODULE,
    size: config.fitWorkers,
    maxQueued: config.maxQueuedFits,
    maxWallS: config.maxFitWallS,
    wallLimitName: "max_fit_wall_s",
    queueLimitName: "max_queued_fits",
    retryAfterS: 1,
  });
}
