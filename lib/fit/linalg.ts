/**
 * Small dense solves the fitters need (3×3 normal equations, 1-D regressions).
 *
 * @module
 */

/**
 * A pivot below this fraction of the matrix's largest entry means the system is
 * singular to working precision (float64 ε ≈ 2.2e-16, with headroom for rounding
 * accumulated while forming normal equations).
 */
export const SINGULAR_PIVOT_REL = 1e-13;

/**
 * Solve the 3×3 system M·x = r by Gaussian elimination with partial pivoting.
 *
 * @param m Row-major 3×3 matrix (9 numbers); not modified.
 * @param r Right-hand side (3 numbers); not modified.
 * @returns x, or `null` when M is singular to working precision.
 *
 * @example
 * ```ts
 * import { solve3 } from "./linalg.ts";
 * const x = solve3([2, 0, 0, 0, 3, 0, 0, 0, 4], [2, 3, 4]);
 * if (x === null || x[2] !== 1) throw new Error("unexpected");
 * ```
 */
export function solve3(
  m: ArrayLike<number>,
  r: ArrayLike<number>,
): [number, number, number] | null {
  const a = [
    [m[0]!, m[1]!, m[2]!, r[0]!],
    [m[3]!, m[4]!, m[5]!, r[1]!],
    [m[6]!, m[7]!, m[8]!, r[2]!],
  ];
  let scale = 0;
  for (let i = 0; i < 9; i++) scale = Math.max(scale, Math.abs(m[i]!));
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let row = col + 1; row < 3; row++) {
      if (Math.abs(a[row]![col]!) > Math.abs(a[piv]![col]!)) piv = row;
    }
    if (Math.abs(a[piv]![col]!) <= SINGULAR_PIVOT_REL * scale) return null;
    [a[col], a[piv]] = [a[piv]!, a[col]!];
    const p = a[col]!;
    for (let row = col + 1; row < 3; row++) {
      const q = a[row]!;
      const f = q[col]! / p[col]!;
      for (let k = col; k < 4; k++) q[k] = q[k]! - f * p[k]!;
    }
  }
  const x2 = a[2]![3]! / a[2]![2]!;
  const x1 = (a[1]![3]! - a[1]![2]! * x2) / a[1]![1]!;
  const x0 = (a[0]![3]! - a[0]![1]! * x1 - a[0]![2]! * x2) / a[0]![0]!;
  return [x0, x1, x2];
}

/** Least-squares line y = intercept + slope·x with its R². */
export interface LineFit {
  /** Intercept. */
  intercept: number;
  /** Slope. */
  slope: number;
  /** 1 − SS_res/SS_tot; 1 when y has no spread. */
  r2: number;
}

/**
 * Ordinary least-squares line through (x, y).
 *
 * @param x Abscissae (at least two distinct).
 * @param y Ordinates.
 * @returns The line, or `null` when x has no spread.
 */
export function fitLine(x: readonly number[], y: readonly number[]): LineFit | null {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  const ssRes = Math.max(0, syy - slope * sxy);
  return { intercept: my - slope * mx, slope, r2: syy > 0 ? 1 - ssRes / syy : 1 };
}
