/**
 * What a place that trains points is, to the scheduler (`runner.ts`): a name, a concurrency and a
 * `train` function — the in-process trainer (`local.ts`), the mock (`mock.ts`) or any server
 * speaking `POST /v1/train` (`http_trainer.ts`) — and the one rule for which failures retrying
 * cannot fix.
 *
 * @module
 */
import { FlopsFitError } from "../errors.ts";
import type { PointRequest } from "../plan/mod.ts";

/**
 * Progress a trainer reports while a point trains: the part of the trainer's own progress events
 * (`TrainProgress`, lib/train/) that every trainer — in-process, HTTP or mock — can report.
 */
export interface PointProgress {
  /** Optimiser step done. */
  step?: number;
  /** Steps the run will take. */
  steps?: number;
  /** Latest (smoothed) training loss. */
  loss?: number;
}

/** Options every trainer receives. */
export interface TrainCallOptions {
  /** Aborted on timeout or when the sweep stops. */
  signal: AbortSignal;
  /** Called as training advances. */
  onProgress?: (progress: PointProgress) => void;
}

/** Anything that trains one point: `trainPoint`, an HTTP worker, the mock. */
export type TrainFn = (
  request: PointRequest,
  options: TrainCallOptions,
) => Promise<Record<string, unknown>>;

/** A place points can train: the in-process trainer, the mock, or a server speaking `POST /v1/train`. */
export interface Trainer {
  /** Shown in progress and stored in the results (`in-process`, `mock`, a URL). */
  name: string;
  /** Points in flight at once. */
  concurrency: number;
  /** Trains one point. */
  train: TrainFn;
}

/** An error that retrying cannot fix (the request itself is wrong): a 4xx other than 408/429. */
export class PermanentError extends FlopsFitError {
  /**
   * @param message What went wrong.
   * @param status HTTP status, when the error came from one. @default 422
   */
  constructor(message: string, status?: number) {
    super(message, status === undefined ? {} : { status });
    this.name = "PermanentError";
  }
}

/**
 * The one rule for HTTP failures: a 4xx is the request's own fault and will fail again, except
 * 408 (request timeout) and 429 (too many requests), which say "later". 5xx and network errors
 * are worth retrying, elsewhere if need be.
 *
 * @param status An HTTP status.
 * @returns Whether a retry cannot help.
 *
 * @example
 * ```ts
 * import { isPermanentStatus } from "./trainer.ts";
 * if (!isPermanentStatus(422) || isPermanentStatus(429) || isPermanentStatus(503)) throw new Error();
 * ```
 */
export function isPermanentStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/**
 * The error a failed status becomes: a {@linkcode PermanentError} when
 * {@linkcode isPermanentStatus} says so, else a plain (retryable) `Error`.
 *
 * @param status The HTTP status.
 * @param message What went wrong.
 * @returns The error to throw.
 */
export function statusError(status: number, message: string): Error {
  return isPermanentStatus(status) ? new PermanentError(message, status) : new Error(message);
}

/** Classes of errors a trainer throws for a request that can never train (its input is wrong). */
const INVALID_INPUT_ERRORS = new Set([
  "RangeError",
  "TypeError",
  "SyntaxError",
  "InvalidDataPathError",
  "UnknownDatasetError",
  "UnknownSplitError",
  "ConfigError",
]);

/** Messages of those classes that are about this process's memory, not the request. */
const RESOURCE_MESSAGE = /allocation failed|out of memory/i;

/**
 * The error an in-process trainer's failure becomes: a {@linkcode PermanentError} when it, or an
 * error in its `cause` chain, is an input error (`RangeError`, `TypeError`, a refused dataset or
 * config…) — the same request fails the same way however often it is retried, e.g. the
 * `RangeError` of a `text-file:` with no tokens — else the error itself (retryable).
 * Cancellations and memory exhaustion stay retryable. Only for errors thrown by training code: a
 * `TypeError` from `fetch` is a network failure, not a bad request.
 *
 * @param error What the trainer threw.
 * @returns The error to rethrow.
 *
 * @example
 * ```ts
 * import { PermanentError, permanentIfInvalid } from "./trainer.ts";
 * const wrapped = new Error("Training failed", { cause: new RangeError("The split holds 0 tokens") });
 * if (!(permanentIfInvalid(wrapped) instanceof PermanentError)) throw new Error("unexpected");
 * ```
 */
export function permanentIfInvalid(error: unknown): unknown {
  if (error instanceof PermanentError) return error;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if (current.name === "AbortError" || current.name === "TimeoutError") return error;
    if (INVALID_INPUT_ERRORS.has(current.name) && !RESOURCE_MESSAGE.test(current.message)) {
      const message = error instanceof Error ? error.message : String(error);
      return new PermanentError(message, 422);
    }
    current = current.cause;
  }
  return error;
}
