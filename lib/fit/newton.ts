/**
 * A damped Newton polish after L-BFGS, for optima that L-BFGS reaches only slowly.
 *
 * Method. At x, build the Hessian by central differences of the analytic gradient,
 * H_ij = (g_i(x + h_j e_j) − g_i(x − h_j e_j)) / (2 h_j), symmetrise it, and solve
 * (H + λ·diag(H))·p = −g by Cholesky (Levenberg–Marquardt damping, λ from 0 upward
 * when H is not positive definite or the step does not lower f). A step is taken only
 * if it lowers f; the polish stops when no step does. Near a smooth minimum it
 * converges quadratically — e.g. noiseless data, where the Huber loss is quadratic and
 * the objective falls to rounding level — and elsewhere it changes nothing.
 *
 * @module
 */
import type { ObjectiveWithGradient } from "./line_search.ts";

/** Relative finite-difference step for the Hessian: ~ε^(1/3) for central differences. */
const FD_STEP = 6e-6;
/** Most Newton steps. */
const MAX_STEPS = 20;
/** Damping tries per step (λ grows ×100 each). */
const MAX_DAMPING_TRIES = 6;
/** First non-zero damping, relative to diag(H). */
const LAMBDA_START = 1e-8;

/** Result of {@linkcode newtonPolish}. */
export interface NewtonResult {
  /** Final point. */
  x: Float64Array;
  /** f(x). */
  f: number;
  /** Steps taken. */
  steps: number;
}

/**
 * Polish a point with damped Newton steps that must lower f.
 *
 * @param fg Objective with gradient.
 * @param x0 Start (not modified).
 * @returns The best point found (x0 itself when no step helps).
 *
 * @example
 * ```ts
 * import { newtonPolish } from "./newton.ts";
 * const res = newtonPolish((x, g) => {
 *   g[0] = 2 * (x[0]! - 3);
 *   return (x[0]! - 3) ** 2;
 * }, [1]);
 * if (Math.abs(res.x[0]! - 3) > 1e-9) throw new Error("no convergence");
 * ```
 */
export function newtonPolish(fg: ObjectiveWithGradient, x0: ArrayLike<number>): NewtonResult {
  const n = x0.length;
  let x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  let steps = 0;
  if (!Number.isFinite(f)) return { x, f, steps };
  const gp = new Float64Array(n);
  const gm = new Float64Array(n);
  const h = new Float64Array(n * n);
  const trial = new Float64Array(n);
  const gTrial = new Float64Array(n);
  for (; steps < MAX_STEPS; steps++) {
    // Central-difference Hessian of the analytic gradient.
    for (let j = 0; j < n; j++) {
      const step = FD_STEP * Math.max(1, Math.abs(x[j]!));
      const xj = x[j]!;
      x[j] = xj + step;
      fg(x, gp);
      x[j] = xj - step;
      fg(x, gm);
      x[j] = xj;
      for (let i = 0; i < n; i++) h[i * n + j] = (gp[i]! - gm[i]!) / (2 * step);
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const s = (h[i * n + j]! + h[j * n + i]!) / 2;
        h[i * n + j] = s;
        h[j * n + i] = s;
      }
    }
    let improved = false;
    let lambda = 0;
    for (let t = 0; t < MAX_DAMPING_TRIES && !improved; t++) {
      const p = choleskySolve(h, g, lambda, n);
      if (p !== null) {
        for (let i = 0; i < n; i++) trial[i] = x[i]! - p[i]!;
        const fTrial = fg(trial, gTrial);
        if (Number.isFinite(fTrial) && fTrial < f) {
          x = Float64Array.from(trial);
          g.set(gTrial);
          f = fTrial;
          improved = true;
        }
      }
      lambda = lambda === 0 ? LAMBDA_START : lambda * 100;
    }
    if (!improved) break;
  }
  return { x, f, steps };
}

/**
 * Solve (H + λ·diag(H))·p = g by Cholesky; `null` when not positive definite.
 */
function choleskySolve(
  h: Float64Array,
  g: Float64Array,
  lambda: number,
  n: number,
): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = h[i * n + j]! + (i === j ? lambda * Math.abs(h[i * n + i]!) : 0);
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j]!;
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = g[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const p = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * p[k]!;
    p[i] = s / l[i * n + i]!;
  }
  return p;
}
