/**
 * The trainer's errors: {@linkcode TrainInputError} for a request it refuses before training,
 * {@linkcode TrainingError} for a run that failed after it started.
 *
 * @module
 */
import type { BackendInfo } from "../backend/select.ts";
import { FlopsFitError, isOutOfMemoryText } from "../errors.ts";

/** A request the trainer refuses; `field` names the offending request field. */
export class TrainInputError extends FlopsFitError {
  /** Offending field as a dotted path, e.g. `config.heads`. */
  declare readonly field: string;

  /**
   * @param field Offending field.
   * @param message What is wrong, in sentence case.
   * @param options HTTP status (default 422) and extra problem members.
   */
  constructor(
    field: string,
    message: string,
    options: { status?: number; extra?: Record<string, unknown> } = {},
  ) {
    super(message, { field, status: options.status ?? 422, extra: options.extra ?? {} });
    this.name = "TrainInputError";
  }
}

/** Training failed after it started (dataset unavailable, the wasm heap ran out…). */
export class TrainingError extends FlopsFitError {
  /** True when the backend itself crashed (and was replaced by a fresh instance). */
  readonly crashed: boolean;

  /**
   * @param message What went wrong, in sentence case.
   * @param options The cause and the HTTP status: 503 when a resource (the dataset, memory) is
   *   unavailable, else 500.
   */
  constructor(
    message: string,
    options: { cause?: unknown; status?: number; crashed?: boolean } = {},
  ) {
    super(message, { cause: options.cause, status: options.status ?? 500 });
    this.name = "TrainingError";
    this.crashed = options.crashed ?? false;
  }
}

/**
 * Turn a backend crash into a clear error; pass cancellations and input errors through.
 *
 * @param error What training threw.
 * @param backend The backend it ran on.
 * @param plan The run's plan (its micro-batch, for the message).
 * @returns The error to rethrow.
 */
export function explainFailure(
  error: unknown,
  backend: BackendInfo,
  plan: { microBatchSize: number },
): unknown {
  if (
    error instanceof DOMException && (error.name === "AbortError" || error.name === "TimeoutError")
  ) {
    return error;
  }
  if (error instanceof TrainInputError || error instanceof TrainingError) return error;
  const text = String(error);
  if (isOutOfMemoryText(text)) {
    return new TrainingError(
      `The ${backend.name} backend ran out of memory at micro-batch ${plan.microBatchSize}; ` +
        `retry with a smaller micro_batch_size. (${text})`,
      { cause: error, status: 503, crashed: true },
    );
  }
  return new TrainingError(`Training failed on ${backend.name}: ${text}`, { cause: error });
}
