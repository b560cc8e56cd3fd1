/**
 * Run-to-run noise: replicates (runs sharing N and D) and the sd of one run's ln L.
 *
 * Method. Points with exactly the same N and D are replicates (exact duplicate rows — same
 * loss too — are refused earlier, in `points.ts`). With replicates, the noise is the pooled
 * within-group sd of ln L: σ² = Σ_g Σ_{i∈g} (ln L_i − mean_g)² / Σ_g (n_g − 1), with
 * df = Σ_g (n_g − 1). Without them, the pooled residual sd of ln L around each budget's
 * IsoFLOP parabola: σ² = Σ_b Σ_{i∈b} (ln L_i − ln L̂_i)² / Σ_b (n_b − 3) over budgets with a
 * parabola and more than 3 points (an upper bound on the noise: it includes any lack of fit).
 *
 * @module
 */
import { evalParabola, type IsoflopData } from "./isoflop.ts";
import type { PointSet } from "./points.ts";
import type { IsoflopResult, NoiseResult, ReplicateGroup } from "./schema.ts";

/**
 * Groups of points that share N and D exactly (two or more runs each).
 *
 * @param set The points.
 * @returns Groups in order of their first point.
 */
export function findReplicates(set: PointSet): ReplicateGroup[] {
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < set.n; i++) {
    const key = `${set.params[i]},${set.data[i]}`;
    const list = byKey.get(key);
    if (list) list.push(i);
    else byKey.set(key, [i]);
  }
  const groups: ReplicateGroup[] = [];
  for (const indices of byKey.values()) {
    if (indices.length < 2) continue;
    const ln = indices.map((i) => set.lnLoss[i]!);
    const mean = ln.reduce((s, v) => s + v, 0) / ln.length;
    const ss = ln.reduce((s, v) => s + (v - mean) ** 2, 0);
    groups.push({
      N: set.params[indices[0]!]!,
      D: set.data[indices[0]!]!,
      n_runs: indices.length,
      mean_loss: indices.reduce((s, i) => s + set.loss[i]!, 0) / indices.length,
      sd_log_loss: Math.sqrt(ss / (indices.length - 1)),
      indices,
    });
  }
  return groups;
}

/**
 * Residuals ln L − ln L̂ around each budget's loss-vs-ln N parabola, NaN for points of budgets
 * without one.
 *
 * @param data ln N and loss per point.
 * @param set The budgets (same order as `isoflop.budgets`).
 * @param isoflop Approach 2's fit of those budgets.
 * @returns One residual per point.
 */
export function parabolaLogResiduals(
  data: IsoflopData,
  set: Pick<PointSet, "n" | "budgets">,
  isoflop: IsoflopResult,
): Float64Array {
  const out = new Float64Array(set.n).fill(NaN);
  set.budgets.forEach((b, j) => {
    const row = isoflop.budgets[j];
    if (row?.status !== "ok" || row.N === null) return;
    for (const i of b.indices) {
      const fitted = evalParabola(row.N.coefficients, data.lnParams[i]!);
      out[i] = fitted > 0 ? Math.log(data.loss[i]! / fitted) : NaN;
    }
  });
  return out;
}

/**
 * Estimate run-to-run noise.
 *
 * @param set The points.
 * @param isoflop Approach 2's fit, for the fallback estimate (null: none).
 * @returns The estimate and the replicate groups.
 *
 * @example
 * ```ts
 * import { estimateNoise } from "./noise.ts";
 * import { preparePoints } from "./points.ts";
 * const pts = [1e17, 1e18].flatMap((C) => [1e6, 2e6, 4e6].flatMap((N) =>
 *   [0, 1].map((s) => ({ N, D: C / (6 * N), loss: 3 + N / 1e7 + 0.01 * s }))));
 * const noise = estimateNoise(preparePoints(pts, { flopsPerParamToken: 6, budgetRelTol: 0.05 }), null);
 * if (noise.source !== "replicates" || noise.df !== 6) throw new Error("expected 6 pairs");
 * ```
 */
export function estimateNoise(set: PointSet, isoflop: IsoflopResult | null): NoiseResult {
  const groups = findReplicates(set);
  const base = {
    n_replicate_groups: groups.length,
    n_replicate_points: groups.reduce((s, g) => s + g.n_runs, 0),
    groups,
  };
  const df = groups.reduce((s, g) => s + g.n_runs - 1, 0);
  if (df > 0) {
    const ss = groups.reduce((s, g) => s + g.sd_log_loss ** 2 * (g.n_runs - 1), 0);
    return { source: "replicates", sd_log_loss: Math.sqrt(ss / df), df, ...base };
  }
  if (isoflop !== null) {
    const r = parabolaLogResiduals(set, set, isoflop);
    let ss = 0, dof = 0;
    set.budgets.forEach((b, j) => {
      if (isoflop.budgets[j]?.status !== "ok" || b.indices.length <= 3) return;
      for (const i of b.indices) ss += r[i]! ** 2;
      dof += b.indices.length - 3;
    });
    if (dof > 0 && Number.isFinite(ss)) {
      return { source: "parabola_residuals", sd_log_loss: Math.sqrt(ss / dof), df: dof, ...base };
    }
  }
  return { source: "none", sd_log_loss: null, df: 0, ...base };
}

/**
 * One draw of Student's t with `df` degrees of freedom: z / √(χ²_df / df), the χ² as a sum of
 * df squared normals (a normal past 100 df, where t and N(0, 1) quantiles agree to 1 %).
 *
 * @param normal N(0, 1) generator.
 * @param df Degrees of freedom (≥ 1).
 * @returns The draw.
 */
export function studentTDraw(normal: () => number, df: number): number {
  const z = normal();
  if (df > 100) return z;
  let chi2 = 0;
  for (let k = 0; k < df; k++) chi2 += normal() ** 2;
  return z / Math.sqrt(chi2 / df);
}
