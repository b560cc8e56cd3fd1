/**
 * Unconstrained L-BFGS in float64 with a strong-Wolfe line search.
 *
 * Method (Nocedal & Wright, *Numerical Optimization*, 2nd ed.):
 * - direction p = −H·g by the two-loop recursion (Alg. 7.4) over the last `memory`
 *   pairs s = x⁺ − x, y = g⁺ − g, with H₀ = (sᵀy / yᵀy)·I; a pair with
 *   sᵀy ≤ ε·yᵀy is skipped so H stays positive definite;
 * - step α from a line search satisfying the strong Wolfe conditions
 *   f(x+αp) ≤ f + c1·α·gᵀp and |g(x+αp)ᵀp| ≤ c2·|gᵀp| (Alg. 3.5 bracketing,
 *   Alg. 3.6 zoom with safeguarded cubic interpolation);
 * - stop when max|g| ≤ gtol, or when (f − f⁺)/max(|f|, |f⁺|, 1) ≤ ftol (SciPy's
 *   L-BFGS-B tests, whose defaults gtol = 1e-5, ftol = 2.22e-9 are the defaults here).
 *
 * Those SciPy-style tests are absolute for |f| < 1, which is why a scaling-law
 * objective must be a sum over points, not a mean: a mean shrinks f and g by the
 * point count and trips both tests early.
 *
 * @module
 */

/** Objective: writes ∇f(x) into `grad` and returns f(x). */
export type ObjectiveWithGradient = (x: Float64Array, grad: Float64Array) => number;

/** Options of {@linkcode lbfgs}; defaults are SciPy L-BFGS-B's. */
export interface LbfgsOptions {
  /** Correction pairs kept. @default 10 */
  memory?: number;
  /** Stop when max|∂f/∂x_i| ≤ gtol. @default 1e-5 */
  gtol?: number;
  /** Stop when the relative decrease (f − f⁺)/max(|f|,|f⁺|,1) ≤ ftol. @default 2.220446049250313e-9 */
  ftol?: number;
  /** Most iterations. @default 15000 */
  maxIterations?: number;
  /** Most objective evaluations. @default 15000 */
  maxEvaluations?: number;
}

/** Why {@linkcode lbfgs} stopped. */
export type LbfgsStatus =
  | "gtol"
  | "ftol"
  | "max_iterations"
  | "max_evaluations"
  | "line_search_failed"
  | "non_finite";

/** Result of {@linkcode lbfgs}. */
export interface LbfgsResult {
  /** Final point. */
  x: Float64Array;
  /** f(x). */
  f: number;
  /** ∇f(x). */
  grad: Float64Array;
  /** Iterations taken. */
  iterations: number;
  /** Objective evaluations. */
  evaluations: number;
  /** Why it stopped. */
  status: LbfgsStatus;
  /** True for `gtol` and `ftol`. */
  converged: boolean;
}

/** SciPy L-BFGS-B's default factr·ε = 1e7 · 2.22e-16. */
export const DEFAULT_FTOL = 1e7 * Number.EPSILON;
/** SciPy L-BFGS-B's default projected-gradient tolerance. */
export const DEFAULT_GTOL = 1e-5;
/** Armijo constant c1 (Nocedal & Wright's usual 1e-4). */
const C1 = 1e-4;
/** Curvature constant c2 for quasi-Newton directions (Nocedal & Wright: 0.9). */
const C2 = 0.9;
/** A pair with sᵀy ≤ CURVATURE_EPS·yᵀy would make H indefinite; skip it. */
const CURVATURE_EPS = 1e-12;
/** Most trial steps in one line search before giving up. */
const MAX_LINE_SEARCH_EVALS = 40;
/** Interpolated steps are kept this fraction of the bracket away from its ends. */
const SAFEGUARD = 0.1;

/**
 * Minimise f from x0 with L-BFGS.
 *
 * @param fg Objective with gradient.
 * @param x0 Start (not modified).
 * @param options Tolerances and limits.
 * @returns The final point and why it stopped.
 *
 * @example
 * ```ts
 * import { lbfgs } from "./lbfgs.ts";
 * // Rosenbrock: minimum at (1, 1).
 * const res = lbfgs((x, g) => {
 *   const [a, b] = [x[0]!, x[1]!];
 *   g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
 *   g[1] = 200 * (b - a * a);
 *   return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
 * }, Float64Array.of(-1.2, 1), { gtol: 1e-10 });
 * if (Math.abs(res.x[0]! - 1) > 1e-6) throw new Error("did not converge");
 * ```
 */
export function lbfgs(
  fg: ObjectiveWithGradient,
  x0: ArrayLike<number>,
  options: LbfgsOptions = {},
): LbfgsResult {
  const m = options.memory ?? 10;
  const gtol = options.gtol ?? DEFAULT_GTOL;
  const ftol = options.ftol ?? DEFAULT_FTOL;
  const maxIterations = options.maxIterations ?? 15000;
  const maxEvaluations = options.maxEvaluations ?? 15000;
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const done = (status: LbfgsStatus, iterations: number): LbfgsResult => ({
    x,
    f,
    grad: g,
    iterations,
    evaluations,
    status,
    converged: status === "gtol" || status === "ftol",
  });
  if (!Number.isFinite(f) || g.some((v) => !Number.isFinite(v))) return done("non_finite", 0);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  const rho: number[] = [];
  const alphaTmp = new Float64Array(m);
  const p = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  for (let iter = 0; iter < maxIterations; iter++) {
    if (maxAbs(g) <= gtol) return done("gtol", iter);
    // Two-loop recursion: p = −H·g.
    for (let i = 0; i < n; i++) p[i] = -g[i]!;
    const k = sList.length;
    for (let j = k - 1; j >= 0; j--) {
      const a = rho[j]! * dot(sList[j]!, p);
      alphaTmp[j] = a;
      axpy(-a, yList[j]!, p);
    }
    if (k > 0) {
      const s = sList[k - 1]!;
      const y = yList[k - 1]!;
      scale(dot(s, y) / dot(y, y), p);
    }
    for (let j = 0; j < k; j++) {
      const beta = rho[j]! * dot(yList[j]!, p);
      axpy(alphaTmp[j]! - beta, sList[j]!, p);
    }
    let slope = dot(g, p);
    if (!(slope < 0)) {
      // Not a descent direction (rounding in H): restart from steepest descent.
      sList.length = yList.length = rho.length = 0;
      for (let i = 0; i < n; i++) p[i] = -g[i]!;
      slope = dot(g, p);
    }
    const step0 = k === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;
    const ls = wolfeLineSearch(fg, x, f, slope, p, step0, xNew, gNew);
    evaluations += ls.evaluations;
    if (!ls.ok) return done("line_search_failed", iter);
    const fOld = f;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i]! - x[i]!;
      y[i] = gNew[i]! - g[i]!;
    }
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = ls.f;
    const sy = dot(s, y);
    if (sy > CURVATURE_EPS * dot(y, y)) {
      if (sList.length === m) {
        sList.shift();
        yList.shift();
        rho.shift();
      }
      sList.push(s);
      yList.push(y);
      rho.push(1 / sy);
    }
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      return done("ftol", iter + 1);
    }
    if (evaluations >= maxEvaluations) return done("max_evaluations", iter + 1);
  }
  return done("max_iterations", maxIterations);
}

/** Outcome of one line search; on success `xOut`/`gOut` hold the accepted point. */
interface LineSearchResult {
  ok: boolean;
  f: number;
  evaluations: number;
}

/**
 * Strong-Wolfe line search (Nocedal & Wright Alg. 3.5 + 3.6).
 *
 * Writes the accepted point and its gradient into `xOut`, `gOut`.
 */
function wolfeLineSearch(
  fg: ObjectiveWithGradient,
  x: Float64Array,
  f0: number,
  slope0: number,
  p: Float64Array,
  step0: number,
  xOut: Float64Array,
  gOut: Float64Array,
): LineSearchResult {
  let evaluations = 0;
  const phi = (step: number): [number, number] => {
    for (let i = 0; i < x.length; i++) xOut[i] = x[i]! + step * p[i]!;
    const f = fg(xOut, gOut);
    evaluations++;
    const d = dot(gOut, p);
    return Number.isFinite(f) && Number.isFinite(d) ? [f, d] : [Infinity, NaN];
  };
  const armijo = (step: number, f: number) => f <= f0 + C1 * step * slope0;
  const curvature = (d: number) => Math.abs(d) <= -C2 * slope0;

  // Zoom inside a bracket [lo, hi] where lo satisfies Armijo with the lowest f.
  const zoom = (
    lo: number,
    fLo: number,
    dLo: number,
    hi: number,
    fHi: number,
    dHi: number,
  ): LineSearchResult => {
    while (evaluations < MAX_LINE_SEARCH_EVALS) {
      const step = interpolate(lo, fLo, dLo, hi, fHi, dHi);
      const [f, d] = phi(step);
      if (!armijo(step, f) || f >= fLo) {
        hi = step;
        fHi = f;
        dHi = d;
      } else {
        if (curvature(d)) return { ok: true, f, evaluations };
        if (d * (hi - lo) >= 0) {
          hi = lo;
          fHi = fLo;
          dHi = dLo;
        }
        lo = step;
        fLo = f;
        dLo = d;
      }
      if (Math.abs(hi - lo) <= Number.EPSILON * Math.max(Math.abs(lo), Math.abs(hi))) break;
    }
    // Out of trials: accept the best Armijo point if it decreased f at all.
    if (lo > 0 && fLo < f0) {
      const [f] = phi(lo);
      return { ok: true, f, evaluations };
    }
    return { ok: false, f: f0, evaluations };
  };

  let prev = 0;
  let fPrev = f0;
  let dPrev = slope0;
  let step = step0;
  for (let i = 0; evaluations < MAX_LINE_SEARCH_EVALS; i++) {
    const [f, d] = phi(step);
    if (!armijo(step, f) || (i > 0 && f >= fPrev)) return zoom(prev, fPrev, dPrev, step, f, d);
    if (curvature(d)) return { ok: true, f, evaluations };
    if (d >= 0) return zoom(step, f, d, prev, fPrev, dPrev);
    prev = step;
    fPrev = f;
    dPrev = d;
    step *= 2;
  }
  return { ok: false, f: f0, evaluations };
}

/**
 * Minimiser of the cubic through (lo, fLo, dLo), (hi, fHi, dHi), kept at least
 * SAFEGUARD·|hi − lo| inside the bracket; bisection when the cubic has no usable
 * minimiser or an end value is not finite.
 */
function interpolate(
  lo: number,
  fLo: number,
  dLo: number,
  hi: number,
  fHi: number,
  dHi: number,
): number {
  const width = hi - lo;
  const mid = lo + width / 2;
  if (!Number.isFinite(fHi) || !Number.isFinite(dHi)) return lo + width * 0.25;
  // Nocedal & Wright eq. (3.59).
  const d1 = dLo + dHi - 3 * (fLo - fHi) / (lo - hi);
  const disc = d1 * d1 - dLo * dHi;
  if (disc < 0) return mid;
  const d2 = Math.sign(hi - lo) * Math.sqrt(disc);
  const t = hi - (hi - lo) * (dHi + d2 - d1) / (dHi - dLo + 2 * d2);
  if (!Number.isFinite(t)) return mid;
  const a = Math.min(lo, hi) + SAFEGUARD * Math.abs(width);
  const b = Math.max(lo, hi) - SAFEGUARD * Math.abs(width);
  return Math.min(Math.max(t, a), b);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + alpha * x[i]!;
}

function scale(alpha: number, x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * alpha;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
