/**
 * The planner's per-curve view of Approach 2: which budgets have a convex IsoFLOP curve, where its
 * optimum sits relative to the sampled sizes, and how noisy it is. The arithmetic is the fitter's
 * (`lib/fit/isoflop.ts`, the `POST /v1/fit` library): {@linkcode fitQuadratic} for the
 * least-squares parabola loss ≈ c0 + c1·x + c2·x², x = ln N (kept even when it is not convex, so
 * the planner can extend a concave curve towards its better edge), and {@linkcode parabolaMinimum}
 * for the vertex x* = −c1 / (2·c2) = ln N_opt(C) and the refusals (no positive curvature, vertex out
 * of range). The adaptive planner runs these inside its bootstrap between sweep rounds.
 *
 * @module
 */
import { fitQuadratic, parabolaMinimum, type QuadraticFit } from "../fit/mod.ts";

/** One finished point as the planner reads it. */
export interface ObservedPoint {
  /** Parameters. */
  N: number;
  /** Data seen (tokens or images). */
  D: number;
  /** Final loss. */
  loss: number;
  /** The budget label (planned FLOPs) the point belongs to. */
  C: number;
}

/** One IsoFLOP curve's quick fit. */
export interface CurveFit {
  /** Budget (FLOPs). */
  C: number;
  /** Points on the curve, ascending in N. */
  points: ObservedPoint[];
  /** Least-squares parabola of loss vs ln N (any curvature), when there are ≥ 3 distinct N. */
  parabola?: QuadraticFit;
  /** Why the curve has no vertex (the fitter's reason), when `lnNopt` is absent. */
  reason?: string;
  /** ln N_opt (the vertex) when the curvature is positive. */
  lnNopt?: number;
  /** Loss at the vertex. */
  lossMin?: number;
  /** Where the optimum sits: inside the sampled range, or past one of its edges. */
  position: "inside" | "below" | "above" | "unknown";
  /** Root-mean-square residual of the parabola (nats). */
  rms: number;
}

/**
 * Group points by budget and fit each curve's parabola.
 *
 * @param points Finished points.
 * @returns One fit per budget, ascending in C.
 */
export function fitCurves(points: readonly ObservedPoint[]): CurveFit[] {
  const byBudget = new Map<number, ObservedPoint[]>();
  for (const p of points) {
    const list = byBudget.get(p.C) ?? [];
    list.push(p);
    byBudget.set(p.C, list);
  }
  return [...byBudget.entries()].sort((a, b) => a[0] - b[0]).map(([C, list]) => {
    const sorted = [...list].sort((a, b) => a.N - b.N);
    return fitCurve(C, sorted);
  });
}

/**
 * Fit one IsoFLOP curve.
 *
 * @param C Budget (FLOPs).
 * @param points Its points, ascending in N.
 * @returns The curve fit.
 */
export function fitCurve(C: number, points: ObservedPoint[]): CurveFit {
  const xs = points.map((p) => Math.log(p.N));
  const ys = points.map((p) => p.loss);
  const parabola = fitQuadratic(xs, ys);
  if (typeof parabola === "string") {
    return { C, points, reason: parabola, position: "unknown", rms: 0 };
  }
  // rms = √(SS_res / n), in nats.
  const rms = Math.sqrt(parabola.ss_res / xs.length);
  const minimum = parabolaMinimum(parabola);
  if (typeof minimum === "string") {
    // Concave or flat: the best observed point tells which edge to extend past.
    const argmin = ys.indexOf(Math.min(...ys));
    const position = argmin === 0 ? "below" : argmin === ys.length - 1 ? "above" : "unknown";
    return { C, points, parabola, reason: minimum, position, rms };
  }
  const lnNopt = Math.log(minimum.vertex);
  const position = lnNopt < xs[0]! ? "below" : lnNopt > xs[xs.length - 1]! ? "above" : "inside";
  return { C, points, parabola, lnNopt, lossMin: minimum.minimum, position, rms };
}
