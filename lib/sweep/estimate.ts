/**
 * How long a study will take on this machine, measured before it starts: a few short probe runs
 * (the smallest and the largest model of the plan, each for two step counts) give, at each end,
 * the time per optimiser step and the fixed time per point (building the model, the final
 * evaluation). A point's cost is then its planned steps × the step time at its FLOPs per step,
 * plus the fixed time, both interpolated linearly in FLOPs per step between the two probed models.
 * The progress display scales these costs by what the finished points really took.
 *
 * @module
 */
import type { PlannedPoint } from "../plan/mod.ts";
import type { Trainer } from "./trainer.ts";

/** One probed model: its FLOPs per step and what a step and a point cost there. */
export interface ProbeFit {
  /** The step counts of the two runs the fit came from. */
  steps: [number, number];
  /** FLOPs per optimiser step (FLOPs per sample × batch). */
  stepFlops: number;
  /** Seconds per optimiser step. */
  stepS: number;
  /** Seconds per point besides its steps (build, evaluation), ≥ 0. */
  fixedS: number;
}

/** A measured cost model of a plan's points. */
export interface CostModel {
  /** The probed models, ascending in FLOPs per step (one or two). */
  probes: ProbeFit[];
  /** Seconds the probes took. */
  probeS: number;
}

/**
 * Probe runs per model start at this many steps and grow ×4 until one lasts
 * {@linkcode PROBE_TARGET_S} (or reaches the point's planned steps): the last two runs' difference
 * is pure steps, long enough that a busy machine's jitter does not swamp it.
 */
export const PROBE_FIRST_STEPS = 8;
/** How long the longest probe run of a model should last, seconds. */
export const PROBE_TARGET_S = 1.2;

/**
 * Optimiser steps a planned point takes.
 *
 * @param point The point.
 * @returns Its samples over its batch size (at least 1).
 */
export function plannedSteps(point: PlannedPoint): number {
  return Math.max(1, Math.ceil(point.samples / batchSize(point)));
}

/**
 * FLOPs one optimiser step of a point spends.
 *
 * @param point The point.
 * @returns FLOPs per sample × batch size.
 */
export function stepFlops(point: PlannedPoint): number {
  return point.flops_per_sample * batchSize(point);
}

function batchSize(point: PlannedPoint): number {
  const b = (point.request as { batch_size?: unknown }).batch_size;
  return typeof b === "number" && b > 0 ? b : 1;
}

/**
 * Seconds a point should take under a cost model.
 *
 * @param model The measured model.
 * @param point The point.
 * @returns Planned steps × step time + fixed time, at the point's FLOPs per step.
 *
 * @example
 * ```ts
 * import { pointCostS } from "./estimate.ts";
 * const model = {
 *   probeS: 1,
 *   probes: [{ steps: [8, 32] as [number, number], stepFlops: 1e6, stepS: 0.01, fixedS: 0.5 }],
 * };
 * const point = { samples: 160, flops_per_sample: 62500, request: { batch_size: 16 } };
 * // 10 steps × 0.01 s + 0.5 s
 * if (Math.abs(pointCostS(model, point as never) - 0.6) > 1e-12) throw new Error();
 * ```
 */
export function pointCostS(model: CostModel, point: PlannedPoint): number {
  const f = stepFlops(point);
  const [a, b] = model.probes;
  if (a === undefined) return 0;
  if (b === undefined || b.stepFlops === a.stepFlops) {
    return plannedSteps(point) * a.stepS + a.fixedS;
  }
  const t = (f - a.stepFlops) / (b.stepFlops - a.stepFlops);
  const lerp = (x: number, y: number) => x + (y - x) * t;
  // Past either probe, keep the trend but never below a fraction of the nearer probe.
  const stepS = Math.max(lerp(a.stepS, b.stepS), 0.5 * Math.min(a.stepS, b.stepS));
  const fixedS = Math.max(lerp(a.fixedS, b.fixedS), 0);
  return plannedSteps(point) * stepS + fixedS;
}

/**
 * Seconds a set of points should take, one at a time.
 *
 * @param model The measured model.
 * @param points The points.
 * @returns The sum of their costs.
 */
export function studyCostS(model: CostModel, points: readonly PlannedPoint[]): number {
  return points.reduce((s, p) => s + pointCostS(model, p), 0);
}

/** Options of {@linkcode measureCosts}. */
export interface MeasureOptions {
  /** Stops the probes. */
  signal?: AbortSignal;
  /** Clock in ms. @default performance.now */
  now?: () => number;
}

/**
 * Measure a cost model on this machine: a warm-up run, then the plan's smallest and largest
 * model (by FLOPs per step), each in runs of growing length (from {@linkcode PROBE_FIRST_STEPS}
 * steps, ×4 until one lasts {@linkcode PROBE_TARGET_S}), through the trainer that will train the
 * study.
 *
 * @param trainer The in-process trainer.
 * @param points The planned points still to train.
 * @param options Cancellation and clock.
 * @returns The model, or `undefined` when there is nothing to train.
 */
export async function measureCosts(
  trainer: Trainer,
  points: readonly PlannedPoint[],
  options: MeasureOptions = {},
): Promise<CostModel | undefined> {
  if (points.length === 0) return undefined;
  const now = options.now ?? (() => performance.now());
  const signal = options.signal ?? new AbortController().signal;
  const sorted = [...points].sort((a, b) => stepFlops(a) - stepFlops(b));
  const ends = [sorted[0]!, sorted[sorted.length - 1]!];
  const started = now();
  const run = async (point: PlannedPoint, steps: number) => {
    const t0 = now();
    await trainer.train(
      { ...point.request, budget: { steps } } as unknown as PlannedPoint["request"],
      { signal },
    );
    return (now() - t0) / 1000;
  };
  // The first run of a process pays for compiling kernels: not part of any point's cost later.
  await run(ends[0]!, 2);
  const probes: ProbeFit[] = [];
  for (const point of stepFlops(ends[0]!) === stepFlops(ends[1]!) ? [ends[0]!] : ends) {
    const planned = plannedSteps(point);
    let short = { steps: Math.min(PROBE_FIRST_STEPS, planned), s: 0 };
    short.s = await run(point, short.steps);
    let long = short;
    while (long.s < PROBE_TARGET_S && long.steps < planned) {
      short = long;
      const steps = Math.min(long.steps * 4, planned);
      long = { steps, s: await run(point, steps) };
    }
    if (long === short) {
      // A point of very few steps: its whole run is the probe.
      probes.push({
        steps: [short.steps, short.steps],
        stepFlops: stepFlops(point),
        stepS: short.s / short.steps,
        fixedS: 0,
      });
      continue;
    }
    const stepS = Math.max((long.s - short.s) / (long.steps - short.steps), 1e-6);
    probes.push({
      steps: [short.steps, long.steps],
      stepFlops: stepFlops(point),
      stepS,
      fixedS: Math.max(short.s - short.steps * stepS, 0),
    });
  }
  return { probes, probeS: (now() - started) / 1000 };
}
