/**
 * IsoFLOP study planning: which model sizes to train at which compute budgets, for any family
 * whose sizes come with exact parameter and FLOP counts. `POST /v1/plan` serves it and the sweep
 * (`lib/sweep/`) runs what it plans.
 *
 * @example
 * ```ts
 * import { familyForSweep, planSweep } from "./mod.ts";
 * const family = familyForSweep("gpt", { model: { depth: 2, context: 64 } });
 * const grids = planSweep({ family, budgets: [1e10, 1e11], dataset: "synthetic-text" });
 * if (grids.length !== 2 || grids[0]!.points.length !== 5) throw new Error("unexpected");
 * ```
 *
 * @module
 */

export type { FamilySize, SweepFamily } from "./family.ts";
export {
  addReplicates,
  type BudgetGrid,
  centreByRatio,
  type PlannedPoint,
  type PlanOptions,
  planSweep,
  pointKey,
  type PointRequest,
  type PointTemplate,
  snapSizes,
} from "./grids.ts";
export {
  type AdaptiveOptions,
  type AdaptivePlan,
  planAdaptive,
  type Uncertainty,
} from "./adaptive.ts";
export { type AdaptiveJobInput, planAdaptiveJob } from "./adaptive_job.ts";
export {
  CANDIDATE_SIZES,
  describeFamily,
  familyForSweep,
  type FamilyOptions,
  type ParamCount,
} from "./study.ts";
export {
  type FamilyDescription,
  FamilyDescriptionError,
  FamilyDescriptionSchema,
  familyFromDescription,
  FamilyListSchema,
  parseFamilyDescription,
  tableDifference,
} from "./family_description.ts";
export { type CurveFit, fitCurve, fitCurves, type ObservedPoint } from "./isoflop.ts";
