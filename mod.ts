/**
 * flops-fit as a library: the same functions the HTTP service calls, without HTTP.
 *
 * @module
 */
export { createApp } from "./routes/mod.ts";
export type { AppOptions } from "./routes/mod.ts";
export { loadConfig } from "./lib/service/config.ts";
export type { ServiceConfig } from "./lib/service/config.ts";
export {
  FitInputError,
  FitRequestSchema,
  FitResultSchema,
  fitScalingLaws,
  parsePointsCsv,
} from "./lib/fit/mod.ts";
export type { FitLimits, FitRequest, FitResult } from "./lib/fit/mod.ts";
export { fieldPath, FlopsFitError, LimitExceededError } from "./lib/errors.ts";
export type { FlopsFitErrorOptions, LimitInfo } from "./lib/errors.ts";
export { checkLimit, checkTrainingLimits, limitsOf } from "./lib/service/limits.ts";
export type { LimitName, Limits } from "./lib/service/limits.ts";
export { runTrainingInWorker, TrainingPool } from "./lib/service/training_pool.ts";
export {
  BusyError,
  CancelledError,
  DeadlineError,
  UnavailableError,
  WorkerFailedError,
} from "./lib/service/pool_errors.ts";
export type { FailureKind } from "./lib/service/pool_errors.ts";
export type { TrainerRef, TrainingPoolOptions } from "./lib/service/training_pool.ts";
export { JobPool } from "./lib/service/job_pool.ts";
export { startServer } from "./lib/service/server.ts";
export type { RunningServer, ShutdownReport } from "./lib/service/server.ts";
export { planTraining, trainPoint, TrainRequestSchema } from "./lib/train/mod.ts";
export type { TrainProgress, TrainRequest, TrainResult } from "./lib/train/mod.ts";
export { FAMILIES, getFamily } from "./models/mod.ts";
export type { ModelFamily } from "./models/mod.ts";
export { ensureBackend, selectBackend } from "./lib/backend/select.ts";
export type { SelectOptions } from "./lib/backend/select.ts";
export { BACKEND_NAMES, loadSettings, parseBackendChoice } from "./lib/config/mod.ts";
export type { BackendChoice, BackendName, Settings } from "./lib/config/mod.ts";
export {
  describeFamily,
  familyForSweep,
  familyFromDescription,
  parseFamilyDescription,
  planSweep,
} from "./lib/plan/mod.ts";
export type { BudgetGrid, FamilyDescription, PlannedPoint, SweepFamily } from "./lib/plan/mod.ts";
