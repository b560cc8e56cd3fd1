/**
 * The errors both worker pools reject with — the training pool (`training_pool.ts`) and the job
 * pool that runs fits (`job_pool.ts`) — and how an error reported by a worker becomes one of them.
 * Each is a {@linkcode FlopsFitError}, so `routes/problem.ts` maps it to problem+json by its
 * `status`, `field`, `limit` and `retryAfterS`.
 *
 * @module
 */
import { BACKEND_RETRY_AFTER_S, FlopsFitError, LimitExceededError } from "../errors.ts";
import { isOutOfMemory, type WorkerError } from "./worker_protocol.ts";

/** Every slot (or the queue) is full; try again after `retryAfterS` (429). */
export class BusyError extends FlopsFitError {
  /**
   * @param message What is full.
   * @param options The limit reached (`max_concurrent_trainings`, `max_queued_fits`) and the wait.
   */
  constructor(message: string, options: { limit: string; value: number; retryAfterS: number }) {
    super(message, {
      status: 429,
      limit: { name: options.limit, value: options.value },
      retryAfterS: options.retryAfterS,
    });
    this.name = "BusyError";
  }
}

/** The pool is closing, or a resource the work needs is unavailable (503). */
export class UnavailableError extends FlopsFitError {
  /**
   * @param message What is unavailable.
   * @param retryAfterS Suggested wait, in seconds.
   */
  constructor(message: string, retryAfterS: number) {
    super(message, { status: 503, retryAfterS });
    this.name = "UnavailableError";
  }
}

/** The caller's signal aborted (client went away); the worker was stopped (499). */
export class CancelledError extends FlopsFitError {
  /** @param message What happened. */
  constructor(message = "The work was cancelled and its worker stopped.") {
    super(message, { status: 499 });
    this.name = "CancelledError";
  }
}

/** The request's own time limit passed (e.g. `timeout_s`); the worker was stopped (408). */
export class DeadlineError extends FlopsFitError {
  /**
   * @param field The request field that set the deadline.
   * @param seconds The deadline, in seconds.
   */
  constructor(field: string, seconds: number) {
    super(`The run exceeded its ${field} of ${seconds} s and was stopped.`, {
      status: 408,
      field,
    });
    this.name = "DeadlineError";
  }
}

/** Why work failed inside its worker. */
export type FailureKind = "out-of-memory" | "invalid" | "crashed";

/** What failed: a training or a job (a fit). */
export type FailureSubject = "training" | "job";

/** The work failed inside its worker; the worker is gone, the server is not. */
export class WorkerFailedError extends FlopsFitError {
  /** `out-of-memory`: it does not fit; `invalid`: the work rejected its input; `crashed`: anything else. */
  readonly kind: FailureKind;
  /** A training or a job. */
  readonly subject: FailureSubject;
  /** The worker's error: class name and first message line. */
  readonly workerError: WorkerError;

  /**
   * @param kind Failure class.
   * @param cause The worker's error.
   * @param options What failed, and the status (default: the declared 4xx for `invalid`, else 422).
   */
  constructor(
    kind: FailureKind,
    cause: WorkerError,
    options: { subject?: FailureSubject; status?: number } = {},
  ) {
    const subject = options.subject ?? "training";
    const what = kind === "out-of-memory"
      ? "The training ran out of memory (the model or batch does not fit in the heap); " +
        "use a smaller model, a smaller batch_size or micro-batching."
      : kind === "invalid"
      ? subject === "training" ? "The trainer rejected the request." : ""
      : subject === "training"
      ? "The training crashed; the server is unaffected."
      : "The computation failed unexpectedly; the server is unaffected.";
    const message = subject === "job" && kind === "crashed"
      ? what
      : `${what} ${subject === "job" ? "" : `${cause.name}: `}${cause.message}`.trim();
    super(message, {
      status: options.status ??
        (kind === "invalid" && cause.status !== undefined && cause.status < 500
          ? cause.status
          : 422),
      ...(cause.field === undefined ? {} : { field: cause.field }),
      ...(cause.extra === undefined ? {} : { extra: cause.extra }),
    });
    this.name = "WorkerFailedError";
    this.kind = kind;
    this.subject = subject;
    this.workerError = cause;
  }
}

/** Error classes a trainer throws for a bad request (its own validation), as opposed to a crash. */
const INVALID_REQUEST_ERRORS = new Set(["TypeError", "RangeError", "SyntaxError", "ZodError"]);

/** Options of {@linkcode classifyWorkerError}. */
export interface ClassifyOptions {
  /** A training or a job. @default "training" */
  subject?: FailureSubject;
}

/**
 * Turn a worker's error into the error a pool rejects with.
 *
 * - a limit the work reported → {@linkcode LimitExceededError} with that name and value;
 * - out of memory → `out-of-memory` (422);
 * - a declared 503 (no training backend, an unreadable dataset) → {@linkcode UnavailableError};
 * - a declared 4xx (or, for trainings, a `TypeError`/`RangeError`/`SyntaxError`/`ZodError`) →
 *   `invalid` with that status;
 * - anything else → `crashed`: 422 for a training (documented), 500 for a job (a bug).
 *
 * @param error The worker's error.
 * @param options What failed.
 * @returns The error to reject with.
 */
export function classifyWorkerError(
  error: WorkerError,
  options: ClassifyOptions = {},
): FlopsFitError {
  const subject = options.subject ?? "training";
  if (error.limit !== undefined) {
    return new LimitExceededError({
      ...error.limit,
      ...(error.field === undefined ? {} : { field: error.field }),
      status: error.status === 413 ? 413 : 422,
      message: error.message,
    });
  }
  if (isOutOfMemory(error)) return new WorkerFailedError("out-of-memory", error, { subject });
  if (error.status === 503) {
    // A resource the work needs is unavailable: no compute backend could start in the worker
    // (BackendError), or a dataset cannot be read. The server's fault, not the request's; told
    // by the status every library error carries across the worker boundary, not by class name.
    return new UnavailableError(error.message, BACKEND_RETRY_AFTER_S);
  }
  const declared4xx = error.status !== undefined && error.status < 500;
  if (declared4xx || (subject === "training" && INVALID_REQUEST_ERRORS.has(error.name))) {
    return new WorkerFailedError("invalid", error, { subject });
  }
  return new WorkerFailedError("crashed", error, {
    subject,
    ...(subject === "job" ? { status: 500 } : {}),
  });
}
