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
  // Augmented rows [M | r] in one reused buffer: this runs once per VarPro grid cell.
  const a = SCRATCH;
  let scale = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const v = m[3 * i + j]!;
      a[4 * i + j] = v;
      scale = Math.max(scale, Math.abs(v));
    }
    a[4 * i + 3] = r[i]!;
  }
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let row = col + 1; row < 3; row++) {
      if (Math.abs(a[4 * row + col]!) > Math.abs(a[4 * piv + col]!)) piv = row;
    }
    if (Math.abs(a[4 * piv + col]!) <= SINGULAR_PIVOT_REL * scale) return null;
    if (piv !== col) {
      for (let k = 0; k < 4; k++) {
        const t = a[4 * col + k]!;
        a[4 * col + k] = a[4 * piv + k]!;
        a[4 * piv + k] = t;
      }
    }
    for (let row = col + 1; row < 3; row++) {
      const f = a[4 * row + col]! / a[4 * col + col]!;
      for (let k = col; k < 4; k++) a[4 * row + k] = a[4 * row + k]! - f * a[4 * col + k]!;
    }
  }
  const x2 = a[11]! / a[10]!;
  const x1 = (a[7]! - a[6]! * x2) / a[5]!;
  const x0 = (a[3]! - a[1]! * x1 - a[2]! * x2) / a[0]!;
  return [x0, x1, x2];
}

/** Work buffer of {@linkcode solve3} (3 augmented rows of 4). */
const SCRATCH = new Float64Array(12);

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
