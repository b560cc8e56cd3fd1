/**
 * Scaling-law fitting without HTTP: the entry point the route and the sweep share.
 *
 * @module
 */
import { FitInputError } from "./errors.ts";
import type { FitRequest, FitResult } from "./schema.ts";

export { FitInputError } from "./errors.ts";
export * from "./schema.ts";

/**
 * Fit Chinchilla Approaches 2 and 3 to trained runs, with bootstrap intervals.
 *
 * @param input Exactly the body of `POST /v1/fit` (options may be omitted).
 * @returns The fit.
 * @throws {FitInputError} When the input cannot be fitted; `field` names the culprit.
 */
export function fitScalingLaws(input: FitRequest): FitResult {
  // Work in progress: the signature and types are final; the body lands in the next commits.
  throw new FitInputError("(body)", `fitter not built yet (${input.points.length} points)`);
}
