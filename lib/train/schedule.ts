/**
 * The learning-rate schedule: linear warm-up, then cosine decay that ends exactly at the run's
 * last step (Chinchilla, Hoffmann et al. 2022, §3: a schedule longer than the run biases the
 * scaling law).
 *
 * @module
 */

/** Schedule of one run. */
export interface Schedule {
  /** Peak learning rate η_max. */
  peak: number;
  /** Final learning rate η_min = min_lr_ratio · η_max. */
  min: number;
  /** Warm-up steps W. */
  warmupSteps: number;
  /** Steps in the run S. */
  totalSteps: number;
}

/**
 * Learning rate of step s (0-based):
 *
 *     s < W:   η = η_max · (s + 1) / W
 *     s ≥ W:   η = η_min + ½ (η_max − η_min) (1 + cos(π · (s − W) / (S − 1 − W)))
 *
 * so the first post-warm-up step runs at η_max and the last step (s = S − 1) at exactly η_min.
 *
 * @param step 0-based step.
 * @param schedule The run's schedule.
 * @returns η for that step.
 *
 * @example
 * ```ts
 * import { learningRate } from "./schedule.ts";
 * const s = { peak: 1, min: 0.1, warmupSteps: 0, totalSteps: 11 };
 * if (learningRate(10, s) !== 0.1) throw new Error();
 * ```
 */
export function learningRate(step: number, schedule: Schedule): number {
  const { peak, min, warmupSteps, totalSteps } = schedule;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const decaySteps = totalSteps - 1 - warmupSteps;
  if (decaySteps <= 0) return step >= totalSteps - 1 && warmupSteps < totalSteps ? min : peak;
  const progress = Math.min(1, (step - warmupSteps) / decaySteps);
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}

/**
 * Warm-up steps of a run: the explicit count, or a fraction of the steps, never the whole run.
 * @param totalSteps Steps in the run.
 * @param options Explicit `steps` or a `fraction`.
 */
export function warmupStepsFor(
  totalSteps: number,
  options: { steps?: number; fraction: number },
): number {
  const wanted = options.steps ?? Math.round(options.fraction * totalSteps);
  return Math.max(0, Math.min(wanted, totalSteps - 1));
}
