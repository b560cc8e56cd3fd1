/**
 * Chinchilla Approach 2: IsoFLOP parabolas, then power laws across budgets.
 *
 * Method. For each budget, fit loss = c0 + c1·x + c2·x² by (weighted) least squares
 * with x = ln N, and separately with x = ln D. The vertex x* = −c1/(2·c2) gives
 * N_opt = e^{x*} (D_opt likewise) and the minimum loss c0 − c1²/(4·c2). A budget is
 * refused with fewer than 3 distinct N (or D) or when c2 ≤ 0 (no minimum); a vertex
 * outside the sampled x range is kept but flagged `edge` (extend the sweep). Across
 * the usable budgets, ln N_opt = ln k + a·ln C, ln D_opt = ln k + b·ln C and
 * ln L_opt = ln k + c·ln C are ordinary least-squares lines, with R². The loss forecast is the
 * saturating frontier L_opt = E + k·C^(−γ) through the same optima ({@link ./frontier.ts}); the
 * pure power law stays as the reported alternative.
 *
 * The regression is done in x − mean(x) for conditioning and converted back.
 *
 * @module
 */
import { evalFrontier, fitLossFrontier } from "./frontier.ts";
import type { EConstraint } from "./law.ts";
import { fitLine, solve3 } from "./linalg.ts";
import type { Budget } from "./points.ts";
import type { IsoflopBudget, IsoflopResult, Parabola, PowerLaw } from "./schema.ts";

/** Fewest distinct abscissae a parabola (3 coefficients) can be fitted to. */
export const MIN_PARABOLA_POINTS = 3;

/**
 * Curvature below this fraction of (loss spread)/(x range)² is rounding noise of an
 * exactly linear or flat set (the normal equations lose ~1e-12 of their scale), not a
 * minimum: refused like c2 ≤ 0.
 */
export const MIN_REL_CURVATURE = 1e-9;

/** The data Approach 2 reads. */
export interface IsoflopData {
  /** ln N per point. */
  lnParams: ArrayLike<number>;
  /** ln D per point. */
  lnData: ArrayLike<number>;
  /** Loss per point. */
  loss: ArrayLike<number>;
}

/** A parabola fit plus the minimum loss it implies. */
export interface ParabolaFit extends Parabola {
  /** c0 − c1²/(4·c2). */
  minimum: number;
}

/**
 * A least-squares quadratic y = c0 + c1·x + c2·x² of any curvature: what
 * {@linkcode fitQuadratic} returns and {@linkcode parabolaMinimum} reads. Callers that need a
 * curve's shape even when it has no minimum (the sweep planner extends a concave curve towards its
 * better edge) read `coefficients` here.
 */
export interface QuadraticFit {
  /** [c0, c1, c2] in the original x. */
  coefficients: [number, number, number];
  /** μ: the weighted mean of x, where the regression is centred. */
  centre: number;
  /** [d0, d1, d2] of y = d0 + d1·t + d2·t², t = x − μ. */
  centred: [number, number, number];
  /** Sampled [min, max] of x (points with weight > 0). */
  ln_range: [number, number];
  /** [min, max] of y over the same points. */
  y_range: [number, number];
  /** Σ w (the number of points when unweighted). */
  weight_sum: number;
  /** SS_res = Σ w·(y − ŷ)². */
  ss_res: number;
  /** 1 − SS_res/SS_tot; 1 when y has no spread. */
  r2: number;
}

/**
 * Weighted least-squares quadratic y = c0 + c1·x + c2·x², whatever the sign of c2.
 *
 * @param x Abscissae.
 * @param y Ordinates.
 * @param weights Non-negative weights (resample counts); all 1 when omitted.
 * @returns The fit, or a reason string when it has < 3 distinct x or singular normal equations.
 *
 * @example
 * ```ts
 * import { fitQuadratic } from "./isoflop.ts";
 * const fit = fitQuadratic([0, 1, 2, 3], [0, 1, 1, 0]); // concave: no minimum, but a shape
 * if (typeof fit === "string" || Math.abs(fit.coefficients[2] + 0.5) > 1e-12) throw new Error("bad");
 * ```
 */
export function fitQuadratic(
  x: readonly number[],
  y: readonly number[],
  weights?: readonly number[],
): QuadraticFit | string {
  const distinct = new Set<number>();
  let sw = 0;
  let mean = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i]! : 1;
    if (w <= 0) continue;
    distinct.add(x[i]!);
    sw += w;
    mean += w * x[i]!;
    lo = Math.min(lo, x[i]!);
    hi = Math.max(hi, x[i]!);
  }
  if (distinct.size < MIN_PARABOLA_POINTS) {
    return `${distinct.size} distinct point(s); a parabola needs ${MIN_PARABOLA_POINTS}`;
  }
  mean /= sw;
  // Normal equations of y ≈ d0 + d1·t + d2·t², t = x − mean.
  const m = new Float64Array(9);
  const r = new Float64Array(3);
  let ySum = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i]! : 1;
    if (w <= 0) continue;
    const t = x[i]! - mean;
    const t2 = t * t;
    const yi = y[i]!;
    m[1] = m[1]! + w * t;
    m[2] = m[2]! + w * t2;
    m[5] = m[5]! + w * t2 * t;
    m[8] = m[8]! + w * t2 * t2;
    r[0] = r[0]! + w * yi;
    r[1] = r[1]! + w * yi * t;
    r[2] = r[2]! + w * yi * t2;
    ySum += w * yi;
  }
  m[0] = sw;
  m[3] = m[1]!;
  m[4] = m[2]!;
  m[6] = m[2]!;
  m[7] = m[5]!;
  const d = solve3(m, r);
  if (d === null) return "the points are collinear in ln space (singular normal equations)";
  const [d0, d1, d2] = d;
  const yMean = ySum / sw;
  let yLo = Infinity;
  let yHi = -Infinity;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i]! : 1;
    if (w <= 0) continue;
    yLo = Math.min(yLo, y[i]!);
    yHi = Math.max(yHi, y[i]!);
    const t = x[i]! - mean;
    const e = y[i]! - (d0 + d1 * t + d2 * t * t);
    ssRes += w * e * e;
    ssTot += w * (y[i]! - yMean) ** 2;
  }
  return {
    // Back to x: c0 = d0 − d1·μ + d2·μ², c1 = d1 − 2·d2·μ, c2 = d2.
    coefficients: [d0 - d1 * mean + d2 * mean * mean, d1 - 2 * d2 * mean, d2],
    centre: mean,
    centred: [d0, d1, d2],
    ln_range: [lo, hi],
    y_range: [yLo, yHi],
    weight_sum: sw,
    ss_res: ssRes,
    r2: ssTot > 0 ? 1 - ssRes / ssTot : 1,
  };
}

/**
 * The minimum of a fitted quadratic: vertex x* = μ − d1/(2·d2) (in centred form), N_opt = e^{x*},
 * minimum loss d0 − d1²/(4·d2).
 *
 * @param fit A {@linkcode fitQuadratic} result.
 * @returns The parabola fit, or a reason string when c2 ≤ 0 (relative to the data's spread, see
 *   {@linkcode MIN_REL_CURVATURE}) or e^{x*} overflows or underflows.
 */
export function parabolaMinimum(fit: QuadraticFit): ParabolaFit | string {
  const [d0, d1, d2] = fit.centred;
  const [lo, hi] = fit.ln_range;
  const [yLo, yHi] = fit.y_range;
  if (!(d2 > MIN_REL_CURVATURE * (yHi - yLo) / ((hi - lo) * (hi - lo)))) {
    return `non-positive curvature (c2 = ${d2.toPrecision(3)}): no minimum`;
  }
  const vertexX = fit.centre - d1 / (2 * d2);
  if (!Number.isFinite(Math.exp(vertexX)) || Math.exp(vertexX) === 0) {
    return `the vertex (x = ${vertexX.toPrecision(3)}) is out of range: no usable minimum`;
  }
  return {
    coefficients: fit.coefficients,
    vertex: Math.exp(vertexX),
    ln_range: fit.ln_range,
    edge: vertexX < lo || vertexX > hi,
    r2: fit.r2,
    minimum: d0 - (d1 * d1) / (4 * d2),
  };
}

/**
 * Weighted least-squares parabola y = c0 + c1·x + c2·x² and its minimum:
 * {@linkcode fitQuadratic}, then {@linkcode parabolaMinimum}.
 *
 * @param x Abscissae.
 * @param y Ordinates.
 * @param weights Non-negative weights (resample counts); all 1 when omitted.
 * @returns The fit, or a reason string when it has < 3 distinct x or c2 ≤ 0.
 *
 * @example
 * ```ts
 * import { fitParabola } from "./isoflop.ts";
 * const fit = fitParabola([0, 1, 2, 3], [4, 1, 0, 1]);
 * if (typeof fit === "string" || Math.abs(Math.log(fit.vertex) - 2) > 1e-12) throw new Error("bad");
 * ```
 */
export function fitParabola(
  x: readonly number[],
  y: readonly number[],
  weights?: readonly number[],
): ParabolaFit | string {
  const fit = fitQuadratic(x, y, weights);
  return typeof fit === "string" ? fit : parabolaMinimum(fit);
}

/**
 * Evaluate y = c0 + c1·x + c2·x².
 *
 * @param coefficients [c0, c1, c2].
 * @param x Where (ln N or ln D for IsoFLOP parabolas).
 * @returns y (loss in nats for IsoFLOP parabolas).
 */
export function evalParabola(coefficients: readonly [number, number, number], x: number): number {
  return coefficients[0] + coefficients[1] * x + coefficients[2] * x * x;
}

/**
 * Approach 2 over the given budgets.
 *
 * @param data ln N, ln D and loss per point.
 * @param budgets The budgets (indices into `data`).
 * @param weights Per-point weights (bootstrap counts); all 1 when omitted.
 * @param E Constraint on the loss frontier's floor.
 * @returns The fit, or `null` when fewer than 2 budgets give a parabola minimum.
 */
export function fitIsoflop(
  data: IsoflopData,
  budgets: readonly Pick<Budget, "label" | "flops" | "indices">[],
  weights?: ArrayLike<number>,
  E?: EConstraint,
): IsoflopResult | null {
  const rows: IsoflopBudget[] = [];
  for (const budget of budgets) {
    const idx = budget.indices;
    const y = idx.map((i) => data.loss[i]!);
    const w = weights ? idx.map((i) => weights[i]!) : undefined;
    const nFit = fitParabola(idx.map((i) => data.lnParams[i]!), y, w);
    const dFit = fitParabola(idx.map((i) => data.lnData[i]!), y, w);
    const nPoints = w ? w.reduce((s, v) => s + v, 0) : idx.length;
    const base = { label: budget.label, C: budget.flops, n_points: nPoints };
    if (typeof nFit === "string" || typeof dFit === "string") {
      const reason = typeof nFit === "string" ? `loss vs ln N: ${nFit}` : `loss vs ln D: ${dFit}`;
      rows.push({ ...base, status: "refused", reason, N: null, D: null, loss_opt: null });
    } else {
      const { minimum, ...n } = nFit;
      const { minimum: _unused, ...dd } = dFit;
      rows.push({ ...base, status: "ok", reason: null, N: n, D: dd, loss_opt: minimum });
    }
  }
  const ok = rows.filter((r) => r.status === "ok");
  const lnC = ok.map((r) => Math.log(r.C));
  const nLaw = powerLaw(lnC, ok.map((r) => Math.log(r.N!.vertex)));
  const dLaw = powerLaw(lnC, ok.map((r) => Math.log(r.D!.vertex)));
  const lLaw = powerLaw(lnC, ok.map((r) => Math.log(r.loss_opt!)));
  if (ok.length < 2 || nLaw === null || dLaw === null || lLaw === null) return null;
  return {
    budgets: rows,
    n_used: ok.length,
    a: nLaw.exponent,
    b: dLaw.exponent,
    N_opt: nLaw,
    D_opt: dLaw,
    loss_opt: lLaw,
    loss_frontier: fitLossFrontier(ok.map((r) => r.C), ok.map((r) => r.loss_opt!), E),
  };
}

/** Approach 2's compute optimum at one budget. */
export interface IsoflopOptimum {
  /** N_opt = k_N·C^a. */
  params: number;
  /** D_opt = k_D·C^b. */
  data: number;
  /** The frontier's E + k·C^(−γ), or the power law when there is no frontier. */
  loss: number;
  /** The power law's k·C^c. */
  lossPowerLaw: number;
}

/**
 * Approach 2's compute optimum at C.
 *
 * @param iso The fit.
 * @param flops C in FLOPs.
 * @returns N, D and the loss there (frontier and power law).
 */
export function isoflopOptimum(iso: IsoflopResult, flops: number): IsoflopOptimum {
  const lossPowerLaw = evalPowerLaw(iso.loss_opt, flops);
  return {
    params: evalPowerLaw(iso.N_opt, flops),
    data: evalPowerLaw(iso.D_opt, flops),
    loss: iso.loss_frontier === null ? lossPowerLaw : evalFrontier(iso.loss_frontier, flops),
    lossPowerLaw,
  };
}

/** ln y = ln k + exponent·ln C by least squares. */
function powerLaw(lnC: number[], lnY: number[]): PowerLaw | null {
  if (lnC.length < 2 || lnY.some((v) => !Number.isFinite(v))) return null;
  const line = fitLine(lnC, lnY);
  if (line === null) return null;
  return { k: Math.exp(line.intercept), exponent: line.slope, r2: line.r2 };
}

/**
 * Evaluate a power law at C.
 *
 * @param law The law.
 * @param flops C in FLOPs.
 * @returns k·C^exponent.
 */
export function evalPowerLaw(law: PowerLaw, flops: number): number {
  return law.k * Math.pow(flops, law.exponent);
}
