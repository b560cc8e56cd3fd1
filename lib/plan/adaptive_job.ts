/**
 * The adaptive planner as a worker job: plain, structured-cloneable input (the family by name or
 * table, not the `SweepFamily` object with its functions), so `POST /v1/plan` can run its
 * bootstrap of fits on the service's fit workers under their wall-time limit instead of on the
 * request thread.
 *
 * @module
 */
import { type AdaptivePlan, planAdaptive } from "./adaptive.ts";
import type { FamilyDescription } from "./family_description.ts";
import type { ObservedPoint } from "./isoflop.ts";
import type { PointTemplate } from "./grids.ts";
import { familyForSweep, type ParamCount } from "./study.ts";

/** Input of {@linkcode planAdaptiveJob}: what `POST /v1/plan` validated, as plain data. */
export interface AdaptiveJobInput extends PointTemplate {
  /** A registry family's name, or a whole family table. */
  family: string | FamilyDescription;
  /** Which parameter count is N. @default "non_embedding" */
  params?: ParamCount;
  /** Points trained so far (with their budget labels). */
  results: readonly ObservedPoint[];
  /** The budget whose N_opt should be pinned down (FLOPs). */
  targetBudget: number;
  /** Candidate next budgets. */
  candidates?: readonly number[];
  /** Sizes per new grid. */
  sizesPerBudget?: number;
  /** Grid width (largest/smallest params). */
  width?: number;
  /** Bootstrap replicates. */
  bootstrap?: number;
}

/**
 * Rebuild the family and plan adaptively (see {@linkcode planAdaptive}).
 *
 * @param input The family by name or table, its options, and the adaptive options.
 * @returns The adaptive plan (plain data).
 * @throws {ConfigError} For a model the family cannot build; see also `planAdaptive`.
 *
 * @example
 * ```ts
 * import { planAdaptiveJob } from "./adaptive_job.ts";
 * const losses = [3.1, 3, 3.05];
 * const results = [1e5, 2e5, 4e5].map((N, i) => ({ N, D: 1e11 / (6 * N), loss: losses[i]!, C: 1e11 }));
 * const plan = planAdaptiveJob({
 *   family: "gpt",
 *   dataset: "synthetic-text",
 *   results,
 *   targetBudget: 1e13,
 *   bootstrap: 20,
 * });
 * // Too few points for an estimate: the plan says why.
 * if (plan.current === null && plan.notes.length === 0) throw new Error("unexpected");
 * ```
 */
export function planAdaptiveJob(input: AdaptiveJobInput): AdaptivePlan {
  const { family, params, ...options } = input;
  return planAdaptive({
    ...options,
    family: familyForSweep(family, {
      ...(params === undefined ? {} : { params }),
      ...(input.model === undefined ? {} : { model: input.model }),
    }),
  });
}
