/**
 * The trainer's errors: {@linkcode TrainInputError} for a request it refuses before training,
 * {@linkcode TrainingError} for a run that failed after it started.
 *
 * @module
 */
import type { BackendInfo } from "../backend/select.ts";
import type { TrainPlan } from "./plan.ts";

/** A request the trainer refuses; `field` names the offending request field. */
export class TrainInputError extends Error {
  /** Offending field as a dotted path, e.g. `config.heads`. */
  readonly field: string;
  /** HTTP status the route answers with. */
  readonly status: number;
  /** Extra problem members, e.g. `limit`. */
  readonly extra: Record<string, unknown>;
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
    super(message);
    this.name = "TrainInputError";
    this.field = field;
    this.status = options.status ?? 422;
    this.extra = options.extra ?? {};
  }
}

/** Training failed after it started (dataset unavailable, the wasm heap ran out…). */
export class TrainingError extends Error {
  /** HTTP status the route answers with: 503 when the dataset is unavailable, else 500. */
  readonly status: number;
  /** True when the backend itself crashed (and was replaced by a fresh instance). */
  readonly crashed: boolean;
  /**
   * @param message What went wrong, in sentence case.
   * @param options The cause and the HTTP status (default 500).
   */
  constructor(
    message: string,
    options: { cause?: unknown; status?: number; crashed?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "TrainingError";
    this.status = options.status ?? 500;
    this.crashed = options.crashed ?? false;
  }
}

/**
 * Turn a backend crash into a clear error; pass cancellations and input errors through.
 *
 * @param error What training threw.
 * @param backend The backend it ran on.
 * @param plan The run's plan (for the micro-batch in the message).
 * @returns The error to rethrow.
 */
export function explainFailure(error: unknown, backend: BackendInfo, plan: TrainPlan): unknown {
  if (
    error instanceof DOMException && (error.name === "AbortError" || error.name === "TimeoutError")
  ) {
    return error;
  }
  if (error instanceof TrainInputError || error instanceof TrainingError) return error;
  const text = String(error);
  if (/memory access out of bounds|Aborted\(|out of memory|Cannot enlarge memory/i.test(text)) {
    return new TrainingError(
      `The ${backend.name} backend ran out of memory at micro-batch ${plan.microBatchSize}; ` +
        `retry with a smaller micro_batch_size. (${text})`,
      { cause: error, status: 503, crashed: true },
    );
  }
  return new TrainingError(`Training failed on ${backend.name}: ${text}`, { cause: error });
}
