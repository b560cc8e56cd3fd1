/**
 * Points → arrays and budgets: the validation every later stage relies on.
 *
 * Method: C_i is the point's own `C` or m·N_i·D_i (m = flops_per_param_token).
 * Points with a `budget` label form one budget per label; the others are sorted by
 * C and a new budget starts whenever C exceeds the current budget's first C by more
 * than the relative tolerance. A budget's C is the median of its points' C.
 *
 * @module
 */
import { FitInputError } from "./errors.ts";
import type { FitPoint } from "./schema.ts";
import { median } from "../stats.ts";

/**
 * Fewest points accepted: Approach 3 has 5 parameters, and two budgets of three
 * points (the least Approach 2 can use) is 6.
 */
export const MIN_POINTS = 6;
/** Fewest budgets accepted: one budget cannot separate the N and D terms of the law. */
export const MIN_BUDGETS = 2;

/** A budget: the indices of the points that share (about) one C. */
export interface Budget {
  /** The label given, or C written to 3 significant digits. */
  label: string;
  /** Median C of its points, in FLOPs. */
  flops: number;
  /** Indices into the point arrays, ascending. */
  indices: number[];
}

/** Points as float64 arrays plus their budgets. */
export interface PointSet {
  /** Number of points. */
  n: number;
  /** Parameters per point. */
  params: Float64Array;
  /** Data (tokens or images) per point. */
  data: Float64Array;
  /** Loss per point. */
  loss: Float64Array;
  /** FLOPs per point (given or m·N·D). */
  flops: Float64Array;
  /** ln N. */
  lnParams: Float64Array;
  /** ln D. */
  lnData: Float64Array;
  /** ln loss. */
  lnLoss: Float64Array;
  /** Budgets, ascending in C. */
  budgets: Budget[];
}

/** Options of {@linkcode preparePoints}. */
export interface PrepareOptions {
  /** m in C = m·N·D. */
  flopsPerParamToken: number;
  /** Relative tolerance on C that groups unlabelled points. */
  budgetRelTol: number;
  /** Skip the checks that need several budgets (used for one-budget subsets). */
  allowSingleBudget?: boolean;
}

/**
 * Validate parsed points, compute C and logs, and group them into budgets.
 *
 * @param points Parsed points (already finite and positive per field).
 * @param options C multiplier and grouping tolerance.
 * @returns The point set.
 * @throws {FitInputError} Too few points, exact duplicates, one budget, no spread in N, D or loss.
 *
 * @example
 * ```ts
 * import { preparePoints } from "./points.ts";
 * const pts = [1, 2, 4].flatMap((k) => [1e6, 2e6, 4e6].map((N) => ({ N, D: (1e17 * k) / (6 * N), loss: 3 + N / 1e7 })));
 * const set = preparePoints(pts, { flopsPerParamToken: 6, budgetRelTol: 0.05 });
 * if (set.budgets.length !== 3) throw new Error("expected 3 budgets");
 * ```
 */
export function preparePoints(points: readonly FitPoint[], options: PrepareOptions): PointSet {
  const n = points.length;
  if (n < MIN_POINTS) {
    throw new FitInputError(
      "points",
      `need at least ${MIN_POINTS} points (Approach 3 has 5 parameters), got ${n}`,
    );
  }
  const params = new Float64Array(n);
  const data = new Float64Array(n);
  const loss = new Float64Array(n);
  const flops = new Float64Array(n);
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    params[i] = p.N;
    data[i] = p.D;
    loss[i] = p.loss;
    flops[i] = p.C ?? options.flopsPerParamToken * p.N * p.D;
    if (!Number.isFinite(flops[i]!) || !(flops[i]! > 0)) {
      throw new FitInputError(
        `points[${i}]`,
        `C = m·N·D is out of floating-point range for N=${p.N}, D=${p.D}`,
      );
    }
    const key = `${p.N},${p.D},${p.loss}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new FitInputError(
        `points[${i}]`,
        `points[${i}] duplicates points[${first}] (N=${p.N}, D=${p.D}, loss=${p.loss}); ` +
          "remove the copy (repeated seeds must differ in loss)",
      );
    }
    seen.set(key, i);
  }
  requireSpread(params, "N");
  requireSpread(data, "D");
  requireSpread(loss, "loss");
  const budgets = groupBudgets(points, flops, options.budgetRelTol);
  if (budgets.length < MIN_BUDGETS && !options.allowSingleBudget) {
    throw new FitInputError(
      "points",
      `all points fall in a single budget (C ≈ ${budgets[0]!.flops.toPrecision(3)} FLOPs); ` +
        `scaling laws need at least ${MIN_BUDGETS} budgets`,
    );
  }
  return {
    n,
    params,
    data,
    loss,
    flops,
    lnParams: params.map(Math.log),
    lnData: data.map(Math.log),
    lnLoss: loss.map(Math.log),
    budgets,
  };
}

/** Refuse a column whose values are all equal: the law cannot be fitted along it. */
function requireSpread(values: Float64Array, name: string): void {
  const first = values[0]!;
  if (values.every((v) => v === first)) {
    throw new FitInputError(
      "points",
      `all points have the same ${name} (${first}); nothing to fit`,
    );
  }
}

/**
 * Group points into budgets: by label where given, else by C within a relative tolerance.
 *
 * @param points The points (for their labels).
 * @param flops C per point.
 * @param relTol Relative tolerance on C.
 * @returns Budgets, ascending in C.
 */
export function groupBudgets(
  points: readonly Pick<FitPoint, "budget">[],
  flops: Float64Array,
  relTol: number,
): Budget[] {
  const labelled = new Map<string, number[]>();
  const unlabelled: number[] = [];
  points.forEach((p, i) => {
    if (p.budget === undefined) unlabelled.push(i);
    else {
      const key = String(p.budget);
      const list = labelled.get(key);
      if (list) list.push(i);
      else labelled.set(key, [i]);
    }
  });
  const budgets: Budget[] = [];
  for (const [label, indices] of labelled) {
    budgets.push({ label, flops: median(indices.map((i) => flops[i]!)), indices });
  }
  unlabelled.sort((i, j) => flops[i]! - flops[j]!);
  let start = 0;
  while (start < unlabelled.length) {
    const first = flops[unlabelled[start]!]!;
    let end = start + 1;
    while (end < unlabelled.length && flops[unlabelled[end]!]! <= first * (1 + relTol)) end++;
    const indices = unlabelled.slice(start, end).sort((a, b) => a - b);
    const c = median(indices.map((i) => flops[i]!));
    budgets.push({ label: c.toPrecision(3), flops: c, indices });
    start = end;
  }
  return budgets.sort((a, b) => a.flops - b.flops);
}

/**
 * The points of some budgets only, as a point set of their own (indices renumbered).
 *
 * @param set The full set.
 * @param keep The budgets to keep (from `set.budgets`).
 * @returns The subset, with `origin[i]` the index in `set` of its point i.
 */
export function subsetPoints(
  set: PointSet,
  keep: readonly Budget[],
): PointSet & { origin: number[] } {
  const origin = keep.flatMap((b) => b.indices).sort((a, b) => a - b);
  const where = new Map(origin.map((i, j) => [i, j]));
  const pick = (a: Float64Array) => Float64Array.from(origin, (i) => a[i]!);
  return {
    n: origin.length,
    params: pick(set.params),
    data: pick(set.data),
    loss: pick(set.loss),
    flops: pick(set.flops),
    lnParams: pick(set.lnParams),
    lnData: pick(set.lnData),
    lnLoss: pick(set.lnLoss),
    budgets: [...keep].sort((a, b) => a.flops - b.flops).map((b) => ({
      label: b.label,
      flops: b.flops,
      indices: b.indices.map((i) => where.get(i)!),
    })),
    origin,
  };
}
