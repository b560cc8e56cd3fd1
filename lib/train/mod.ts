/**
 * Training one sweep point, callable without HTTP: `trainPoint(request, options)`.
 *
 * @module
 */
export { AdamW } from "./adamw.ts";
export type { AdamWOptions, StepOptions } from "./adamw.ts";
export { defaultDatasetResolver, registryResolver } from "./datasets.ts";
export { planData, planTraining, resolvePlan, wholeSteps } from "./run_plan.ts";
export { TrainingError, TrainInputError } from "./errors.ts";
export type { DatasetResolver, PlanData, PlanOptions, TrainPlan } from "./run_plan.ts";
export {
  AdapterReportSchema,
  BudgetSchema,
  DEFAULT_BATCH_SIZE,
  MAX_LEARNING_RATE,
  TrainRequestSchema,
  TrainResultSchema,
} from "./request.ts";
export type { TrainProgress, TrainRequest, TrainRequestInput, TrainResult } from "./request.ts";
export { learningRate, warmupStepsFor } from "./schedule.ts";
export type { Schedule } from "./schedule.ts";
export { prepareTraining, runTraining, trainPoint } from "./train.ts";
export { buildResult } from "./result.ts";
export { evaluate } from "./evaluate.ts";
export type { TrainOptions } from "./train.ts";
