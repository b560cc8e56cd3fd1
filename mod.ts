/**
 * flops-fit as a library: the same functions the HTTP service calls, without HTTP.
 *
 * @module
 */
export { createApp } from "./routes/mod.ts";
export type { AppOptions } from "./routes/mod.ts";
export { loadConfig } from "./lib/service/config.ts";
export type { ServiceConfig } from "./lib/service/config.ts";
export { planTraining, trainPoint, TrainRequestSchema } from "./lib/train/mod.ts";
export type { TrainProgress, TrainRequest, TrainResult } from "./lib/train/mod.ts";
export { FAMILIES, getFamily } from "./models/mod.ts";
export type { ModelFamily } from "./models/mod.ts";
export { ensureBackend, selectBackend } from "./lib/backend/select.ts";
export {
  FitInputError,
  FitRequestSchema,
  FitResultSchema,
  fitScalingLaws,
  parsePointsCsv,
} from "./lib/fit/mod.ts";
export type { FitLimits, FitRequest, FitResult } from "./lib/fit/mod.ts";
