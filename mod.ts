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
