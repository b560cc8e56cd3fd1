/**
 * Strong-Wolfe line search (Nocedal & Wright, *Numerical Optimization*, Alg. 3.5 + 3.6).
 *
 * Along p from x, find α with f(x+αp) ≤ f + c1·α·gᵀp (sufficient decrease) and
 * |g(x+αp)ᵀp| ≤ c2·|gᵀp| (curvature): grow α until the conditions hold or a bracket
 * forms, then zoom inside the bracket with safeguarded cubic interpolation. Steps
 * where f or its slope is not finite count as "too long".
 *
 * @module
 */
/** Objective: writes ∇f(x) into `grad` and returns f(x). */
export type ObjectiveWithGradient = (x: Float64Array, grad: Float64Array) => number;

/** Armijo constant c1 (Nocedal & Wright's usual 1e-4). */
const C1 = 1e-4;
/** Curvature constant c2 for quasi-Newton directions (Nocedal & Wright: 0.9). */
const C2 = 0.9;
/** Most trial steps in one line search before giving up. */
const MAX_LINE_SEARCH_EVALS = 40;
/** Interpolated steps are kept this fraction of the bracket away from its ends. */
const SAFEGUARD = 0.1;
/** Outcome of one line search; on success `xOut`/`gOut` hold the accepted point. */
export interface LineSearchResult {
  ok: boolean;
  f: number;
  evaluations: number;
}

/**
 * Strong-Wolfe line search (Nocedal & Wright Alg. 3.5 + 3.6).
 *
 * Writes the accepted point and its gradient into `xOut`, `gOut`.
 */
export function wolfeLineSearch(
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

/**
 * Dot product.
 *
 * @param a Vector.
 * @param b Vector of the same length.
 * @returns Σ a_i·b_i.
 */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
