/**
 * The service's limits: one table of names and values built from the configuration,
 * reported by `/healthz`, and one error type that names the limit a request went past.
 *
 * A request past a limit gets `LimitExceededError` (lib/errors.ts); the HTTP layer turns it into
 * a 413 or 422 problem+json whose `limit` member says `{ name, value, actual }`.
 *
 * @module
 */
import { LimitExceededError } from "../errors.ts";
import type { ServiceConfig } from "./config.ts";

/** Names of every limit, as reported by `/healthz` and in a problem's `limit.name`. */
export type LimitName =
  | "max_body_bytes"
  | "max_fit_points"
  | "max_bootstrap"
  | "max_train_flops"
  | "max_model_params"
  | "max_batch_size"
  | "max_train_wall_s"
  | "max_concurrent_trainings"
  | "max_fit_wall_s"
  | "max_queued_fits";

/** Every limit with its configured value. */
export type Limits = Record<LimitName, number>;

/**
 * The limits of a configuration, keyed by their public names.
 *
 * @param config Parsed service configuration.
 * @returns The limits table `/healthz` reports.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * import { limitsOf } from "./limits.ts";
 * const limits = limitsOf(loadConfig({ FLOPS_FIT_MAX_BATCH_SIZE: "64" }));
 * if (limits.max_batch_size !== 64) throw new Error("unexpected");
 * ```
 */
export function limitsOf(config: ServiceConfig): Limits {
  return {
    max_body_bytes: config.maxBodyBytes,
    max_fit_points: config.maxFitPoints,
    max_bootstrap: config.maxBootstrap,
    max_train_flops: config.maxTrainFlops,
    max_model_params: config.maxModelParams,
    max_batch_size: config.maxBatchSize,
    max_train_wall_s: config.maxTrainWallS,
    max_concurrent_trainings: config.maxConcurrentTrainings,
    max_fit_wall_s: config.maxFitWallS,
    max_queued_fits: config.maxQueuedFits,
  };
}

/**
 * Throw {@linkcode LimitExceededError} when `actual` is above the limit's value.
 *
 * @param limits The limits table (see {@linkcode limitsOf}).
 * @param name Which limit to check.
 * @param actual What the request asks for.
 * @param options Field name and status for the error.
 * @throws {LimitExceededError} When `actual > limits[name]` or `actual` is not a finite number.
 *
 * @example
 * ```ts
 * import { checkLimit, limitsOf } from "./limits.ts";
 * import { loadConfig } from "./config.ts";
 * checkLimit(limitsOf(loadConfig({})), "max_batch_size", 32, { field: "batch_size" });
 * ```
 */
export function checkLimit(
  limits: Limits,
  name: LimitName,
  actual: number,
  options: { field?: string; status?: 413 | 422 } = {},
): void {
  const value = limits[name];
  if (!Number.isFinite(actual) || actual > value) {
    throw new LimitExceededError({ name, value, actual, ...options });
  }
}

/** What a training request will cost, as the trainer works it out before starting. */
export interface TrainingCost {
  /** Total training FLOPs the request asks for. */
  flops?: number;
  /** The request field that set the budget, e.g. `budget.steps` (named when over the cap). */
  budgetField?: string;
  /** Parameter count of the model it builds. */
  params?: number;
  /** Samples per optimiser step. */
  batchSize?: number;
}

/**
 * Check a training's cost against `max_train_flops`, `max_model_params` and `max_batch_size`.
 *
 * Call it after the model's exact parameter count and FLOPs are known and before any work.
 *
 * @param limits The limits table.
 * @param cost What the training will spend; absent members are not checked.
 * @throws {LimitExceededError} Naming the first limit exceeded.
 *
 * @example
 * ```ts
 * import { checkTrainingLimits, limitsOf } from "./limits.ts";
 * import { loadConfig } from "./config.ts";
 * checkTrainingLimits(limitsOf(loadConfig({})), { flops: 1e12, params: 1e6, batchSize: 64 });
 * ```
 */
export function checkTrainingLimits(limits: Limits, cost: TrainingCost): void {
  if (cost.flops !== undefined) {
    checkLimit(limits, "max_train_flops", cost.flops, { field: cost.budgetField ?? "budget" });
  }
  if (cost.params !== undefined) {
    checkLimit(limits, "max_model_params", cost.params, { field: "size" });
  }
  if (cost.batchSize !== undefined) {
    checkLimit(limits, "max_batch_size", cost.batchSize, { field: "batch_size" });
  }
}
