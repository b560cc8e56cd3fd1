/**
 * Adaptive planning: given the points trained so far, re-centre IsoFLOP curves whose optimum fell
 * on an edge, and propose the next budget (and its sizes) that most shrinks the bootstrap
 * uncertainty of N_opt at a target budget.
 *
 * Method (a pre-posterior bootstrap on the planner's Approach-2 estimate, see `isoflop.ts`; every
 * parabola, line and quantile is the fitter's, from `lib/fit`):
 * 1. Fit each curve's parabola; residuals r pooled into σ² = Σr² / (n − 3·curves).
 * 2. Current uncertainty: residual bootstrap — each replicate adds resampled residuals (scaled by
 *    √(n/(n−3)) to undo the fit's shrinkage) to each curve's fitted losses, refits the parabolas
 *    and the line ln N_opt = ln k + a·ln C, and predicts ln N_opt(C_target). The spread is the
 *    95 % percentile width of that prediction, in ln N (so e^spread is the hi/lo ratio).
 * 3. For each candidate budget C_c: plan its grid around the current prediction N_opt(C_c), give
 *    its points expected losses from a parabola with the median curvature of the existing curves,
 *    vertex ln N_opt(C_c) and minimum extrapolated linearly in ln C, draw them with noise σ in
 *    every replicate, and recompute the spread with the candidate included.
 * 4. Propose the candidate with the smallest spread.
 *
 * @module
 */
import type { SweepFamily } from "./family.ts";
import { type CurveFit, fitCurve, fitCurves, type ObservedPoint } from "./isoflop.ts";
import { evalParabola, fitLine, fitParabola, quantile } from "../fit/mod.ts";
import { mulberry32, normalDraw } from "../random.ts";
import { type BudgetGrid, planGrid, type PointTemplate } from "./grids.ts";

/** Options of {@linkcode planAdaptive}. */
export interface AdaptiveOptions extends PointTemplate {
  /** The family to plan for. */
  family: SweepFamily;
  /** Points trained so far (with their budget labels). */
  results: readonly ObservedPoint[];
  /** The budget whose N_opt should be pinned down (FLOPs). */
  targetBudget: number;
  /** Candidate next budgets; default the largest so far × 2, 3, 5, 10 (capped at the target). */
  candidates?: readonly number[];
  /** Sizes per new grid. @default 5 */
  sizesPerBudget?: number;
  /** Grid width (largest/smallest params). @default 16 */
  width?: number;
  /** Bootstrap replicates. @default 200 */
  bootstrap?: number;
  /** Seed of the bootstrap. @default 0 */
  seed?: number;
}

/** How uncertain N_opt(target) is. */
export interface Uncertainty {
  /** Point estimate of N_opt at the target budget. */
  n_opt: number;
  /** 95 % percentile interval. */
  ci: [number, number];
  /** ln(hi / lo): the width being minimised. */
  spread_ln: number;
}

/** The adaptive plan. */
export interface AdaptivePlan {
  /** N_opt at the target from the points so far. */
  current: Uncertainty | null;
  /** Curves whose optimum fell past an edge (or that are not convex), re-planned (new sizes only). */
  recentred: BudgetGrid[];
  /** Every candidate budget with the uncertainty it would leave. */
  candidates: { budget_flops: number; uncertainty: Uncertainty | null }[];
  /** The proposal: the candidate that most shrinks the spread, with its grid. */
  next: BudgetGrid | null;
  /** Why something could not be done. */
  notes: string[];
}

/** 95 % interval bounds. */
const LOWER_Q = 0.025;
const UPPER_Q = 0.975;
/** Smallest σ used to simulate new points: 1e-4 nats, below any real run-to-run noise. */
const MIN_SIGMA = 1e-4;

/**
 * Plan adaptively.
 *
 * @param options Results so far, the target budget, candidates and grid shape.
 * @returns Re-centred grids, candidate scores and the proposed next grid.
 * @throws {RangeError} For a non-positive target budget.
 */
export function planAdaptive(options: AdaptiveOptions): AdaptivePlan {
  if (!(options.targetBudget > 0 && Number.isFinite(options.targetBudget))) {
    throw new RangeError("targetBudget must be a positive, finite FLOP count.");
  }
  const count = options.sizesPerBudget ?? 5;
  const width = options.width ?? 16;
  const replicates = options.bootstrap ?? 200;
  const seed = options.seed ?? 0;
  const notes: string[] = [];
  const curves = fitCurves(options.results);
  const template = { ...options, width };

  // Re-centre curves whose optimum is past an edge.
  const recentred: BudgetGrid[] = [];
  for (const curve of curves) {
    if (curve.points.length < 3 || curve.position === "inside") continue;
    const lo = Math.log(curve.points[0]!.N);
    const hi = Math.log(curve.points[curve.points.length - 1]!.N);
    const half = Math.log(width) / 2;
    let centre: number;
    if (curve.lnNopt !== undefined) {
      // Vertex past the edge: centre on it, but move at most one half-width past the edge.
      centre = Math.min(Math.max(curve.lnNopt, lo - half), hi + half);
    } else {
      centre = curve.position === "below" ? lo : curve.position === "above" ? hi : (lo + hi) / 2;
    }
    const grid = planGrid(template, {
      budget: curve.C,
      centre: Math.exp(centre),
      from: "recentred",
      count,
    });
    const done = new Set(curve.points.map((p) => Math.round(p.N)));
    grid.points = grid.points.filter((p) => !done.has(Math.round(p.params)));
    const budget = `C=${curve.C.toExponential(1)}`;
    grid.warnings.push(
      curve.lnNopt !== undefined
        ? `The optimum of ${budget} fell ${curve.position} the sampled sizes; re-centred.`
        : `The IsoFLOP curve of ${budget} has no usable minimum (${curve.reason}); re-planned around ${
          curve.position === "below"
            ? "its smallest size"
            : curve.position === "above"
            ? "its largest size"
            : "its middle"
        }.`,
    );
    if (grid.points.length > 0) recentred.push(grid);
  }

  const usable = curves.filter((c) => c.points.length >= 3 && c.parabola !== undefined);
  const convex = usable.filter((c) => c.lnNopt !== undefined);
  if (convex.length < 2) {
    notes.push("Fewer than two convex IsoFLOP curves: N_opt(C) cannot be extrapolated yet.");
    return { current: null, recentred, candidates: [], next: null, notes };
  }
  const line = fitLine(convex.map((c) => Math.log(c.C)), convex.map((c) => c.lnNopt!))!;
  const lossLine = fitLine(convex.map((c) => Math.log(c.C)), convex.map((c) => c.lossMin!))!;
  const curvature = quantile(
    convex.map((c) => c.parabola!.coefficients[2]).sort((a, b) => a - b),
    0.5,
  );
  const residualCount = usable.reduce((s, c) => s + c.points.length, 0) - 3 * usable.length;
  const sumSq = usable.reduce((s, c) => s + c.rms ** 2 * c.points.length, 0);
  const sigma = Math.max(MIN_SIGMA, residualCount > 0 ? Math.sqrt(sumSq / residualCount) : 0);

  const current = bootstrapTarget(usable, [], options.targetBudget, replicates, seed);
  const largest = Math.max(...curves.map((c) => c.C));
  const candidates = (options.candidates ?? [2, 3, 5, 10].map((m) => largest * m))
    .filter((c) => c > 0 && c <= options.targetBudget * (1 + 1e-9));
  if (candidates.length === 0) notes.push("No candidate budget at or below the target.");
  const scored = candidates.map((budget) => {
    const lnC = Math.log(budget);
    const centre = Math.exp(line.intercept + line.slope * lnC);
    const grid = planGrid(template, { budget, centre, from: "prior", count });
    const vertex = line.intercept + line.slope * lnC;
    const minimum = lossLine.intercept + lossLine.slope * lnC;
    const simulated = {
      C: budget,
      points: grid.points.map((p) => ({
        N: p.params,
        D: p.data,
        C: budget,
        loss: minimum + curvature * (Math.log(p.params) - vertex) ** 2,
      })),
      sigma,
    };
    return {
      grid,
      budget_flops: budget,
      uncertainty: grid.points.length >= 3
        ? bootstrapTarget(usable, [simulated], options.targetBudget, replicates, seed)
        : null,
    };
  });
  let best: (typeof scored)[number] | undefined;
  for (const s of scored) {
    if (s.uncertainty === null) continue;
    if (best === undefined || s.uncertainty.spread_ln < best.uncertainty!.spread_ln) best = s;
  }
  return {
    current,
    recentred,
    candidates: scored.map(({ budget_flops, uncertainty }) => ({ budget_flops, uncertainty })),
    next: best?.grid ?? null,
    notes,
  };
}

/** A curve not yet trained: expected losses, redrawn with noise σ in every replicate. */
interface SimulatedCurve {
  C: number;
  points: ObservedPoint[];
  sigma: number;
}

function bootstrapTarget(
  curves: readonly CurveFit[],
  simulated: readonly SimulatedCurve[],
  target: number,
  replicates: number,
  seed: number,
): Uncertainty | null {
  const random = mulberry32(seed);
  const lnTarget = Math.log(target);
  const estimate = (fits: { C: number; lnNopt?: number }[]) => {
    const ok = fits.filter((f) => f.lnNopt !== undefined);
    if (ok.length < 2) return undefined;
    const line = fitLine(ok.map((f) => Math.log(f.C)), ok.map((f) => f.lnNopt!));
    return line === null ? undefined : line.intercept + line.slope * lnTarget;
  };
  const point = estimate([...curves, ...simulated.map((s) => fitCurve(s.C, s.points))]);
  if (point === undefined) return null;
  const draws: number[] = [];
  for (let r = 0; r < replicates; r++) {
    const fits: { C: number; lnNopt?: number }[] = [];
    for (const curve of curves) {
      const xs = curve.points.map((p) => Math.log(p.N));
      const fitted = xs.map((x) => evalParabola(curve.parabola!.coefficients, x));
      const residuals = curve.points.map((p, i) => p.loss - fitted[i]!);
      const inflate = Math.sqrt(xs.length / Math.max(1, xs.length - 3));
      const ys = fitted.map((f) =>
        f + inflate * residuals[Math.floor(random() * residuals.length)]!
      );
      fits.push({ C: curve.C, ...vertexOf(xs, ys) });
    }
    for (const s of simulated) {
      const xs = s.points.map((p) => Math.log(p.N));
      const ys = s.points.map((p) => p.loss + s.sigma * normalDraw(random));
      fits.push({ C: s.C, ...vertexOf(xs, ys) });
    }
    const value = estimate(fits);
    if (value !== undefined && Number.isFinite(value)) draws.push(value);
  }
  if (draws.length < Math.max(10, replicates / 2)) return null;
  draws.sort((a, b) => a - b);
  const lo = quantile(draws, LOWER_Q);
  const hi = quantile(draws, UPPER_Q);
  return { n_opt: Math.exp(point), ci: [Math.exp(lo), Math.exp(hi)], spread_ln: hi - lo };
}

/** ln N_opt of one replicate's curve: the fitter's parabola vertex, absent when it refuses. */
function vertexOf(xs: number[], ys: number[]): { lnNopt?: number } {
  const p = fitParabola(xs, ys);
  return typeof p === "string" ? {} : { lnNopt: Math.log(p.vertex) };
}
