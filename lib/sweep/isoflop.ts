/**
 * The small amount of Approach-2 arithmetic the planner needs to re-centre grids and to score
 * candidate budgets: a least-squares parabola per IsoFLOP curve and a log-log line through the
 * optima. The reported fit always comes from `lib/fit` (the `POST /v1/fit` library); this is only
 * the planner's quick estimate, fast enough to bootstrap inside a search.
 *
 * Method: per budget C, loss ≈ c0 + c1·x + c2·x² with x = ln N (least squares, 3×3 normal
 * equations, solved by Cramer's rule on centred x for conditioning); the vertex x* = −c1 / (2·c2)
 * is ln N_opt(C) when c2 > 0. Then ln N_opt = ln k + a·ln C by ordinary least squares.
 *
 * @module
 */

/** A parabola y = c0 + c1·x + c2·x² in the original (uncentred) x. */
export interface Parabola {
  c0: number;
  c1: number;
  c2: number;
}

/**
 * Curvature below which a parabola counts as flat: the vertex of a curve this flat is not an
 * optimum (loss differences of 1e-9 nats per (ln N)² are below any training noise).
 */
export const MIN_CURVATURE = 1e-9;

/**
 * Least-squares parabola through (x, y).
 *
 * @param xs Abscissae (at least 3 distinct).
 * @param ys Ordinates.
 * @returns The coefficients, or `undefined` when the system is singular.
 */
export function fitParabola(xs: readonly number[], ys: readonly number[]): Parabola | undefined {
  const n = xs.length;
  if (n < 3 || ys.length !== n) return undefined;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  // Normal equations in u = x − mean: [S0 S1 S2; S1 S2 S3; S2 S3 S4]·[b0 b1 b2] = [T0 T1 T2].
  let s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0;
  for (let i = 0; i < n; i++) {
    const u = xs[i]! - mean;
    const y = ys[i]!;
    s1 += u;
    s2 += u * u;
    s3 += u * u * u;
    s4 += u * u * u * u;
    t0 += y;
    t1 += u * y;
    t2 += u * u * y;
  }
  const m = [[n, s1, s2], [s1, s2, s3], [s2, s3, s4]];
  const det3 = (a: number[][]) =>
    a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) -
    a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) +
    a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  const det = det3(m);
  // Relative singularity test: det is of order n·s2·s4 for a well-spread design.
  if (!(Math.abs(det) > 1e-12 * Math.max(1, n * s2 * s4))) return undefined;
  const t = [t0, t1, t2];
  const b = [0, 1, 2].map((col) =>
    det3(m.map((row, r) => row.map((v, c) => (c === col ? t[r]! : v)))) / det
  );
  const [b0, b1, b2] = b as [number, number, number];
  // Back to x: b0 + b1(x−m) + b2(x−m)² = (b0 − b1·m + b2·m²) + (b1 − 2·b2·m)x + b2·x².
  return { c0: b0 - b1 * mean + b2 * mean * mean, c1: b1 - 2 * b2 * mean, c2: b2 };
}

/**
 * Evaluate a parabola.
 *
 * @param p The parabola.
 * @param x Where.
 * @returns c0 + c1·x + c2·x².
 */
export function evalParabola(p: Parabola, x: number): number {
  return p.c0 + p.c1 * x + p.c2 * x * x;
}

/** A least-squares line y = intercept + slope·x. */
export interface Line {
  slope: number;
  intercept: number;
}

/**
 * Ordinary least-squares line.
 *
 * @param xs Abscissae (at least 2 distinct).
 * @param ys Ordinates.
 * @returns The line, or `undefined` when all x are equal.
 */
export function fitLine(xs: readonly number[], ys: readonly number[]): Line | undefined {
  const n = xs.length;
  if (n < 2) return undefined;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (!(sxx > 0)) return undefined;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

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
  /** Parabola of loss vs ln N, when there are ≥ 3 points. */
  parabola?: Parabola;
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
  const parabola = fitParabola(xs, ys);
  const argmin = ys.indexOf(Math.min(...ys));
  if (parabola === undefined) {
    return { C, points, position: "unknown", rms: 0 };
  }
  const rms = Math.sqrt(
    xs.reduce((s, x, i) => s + (evalParabola(parabola, x) - ys[i]!) ** 2, 0) / xs.length,
  );
  if (!(parabola.c2 > MIN_CURVATURE)) {
    // Concave or flat: the best observed point tells which edge to extend past.
    const position = argmin === 0 ? "below" : argmin === ys.length - 1 ? "above" : "unknown";
    return { C, points, parabola, position, rms };
  }
  const lnNopt = -parabola.c1 / (2 * parabola.c2);
  const position = lnNopt < xs[0]! ? "below" : lnNopt > xs[xs.length - 1]! ? "above" : "inside";
  return { C, points, parabola, lnNopt, lossMin: evalParabola(parabola, lnNopt), position, rms };
}

/**
 * A standard normal draw (Box–Muller) from a uniform generator.
 *
 * @param random Uniform generator on [0, 1).
 * @returns One N(0, 1) sample.
 */
export function normalDraw(random: () => number): number {
  const u = 1 - random(); // in (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * A stable 32-bit hash of a string (FNV-1a), for seeding per-point noise.
 *
 * @param text Any string.
 * @returns An unsigned 32-bit integer.
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The q-quantile of values by linear interpolation between order statistics.
 *
 * @param values Samples (not modified).
 * @param q In [0, 1].
 * @returns The quantile, NaN for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
