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
export {
  checkLimit,
  checkTrainingLimits,
  LimitExceededError,
  limitsOf,
} from "./lib/service/limits.ts";
export type { LimitName, Limits } from "./lib/service/limits.ts";
export {
  runTrainingInWorker,
  TrainingBusyError,
  TrainingCancelledError,
  TrainingFailedError,
  TrainingPool,
  TrainingUnavailableError,
} from "./lib/service/training_pool.ts";
export type { TrainerRef, TrainingPoolOptions } from "./lib/service/training_pool.ts";
export { JobPool } from "./lib/service/job_pool.ts";
export { startServer } from "./lib/service/server.ts";
export type { RunningServer, ShutdownReport } from "./lib/service/server.ts";
