/**
 * Leave-one-budget-out sensitivity of the compute-optimal table.
 *
 * Method. For each budget b in turn, refit both approaches without b's points — Approach 3
 * polished from the full fit's optimum and a coarse VarPro grid (the bootstrap's quick refit),
 * Approach 2 on the remaining parabolas (its loss frontier, or its power law when the full fit
 * had no frontier) — and re-evaluate every table row. Per row and quantity q ∈ {N, D, loss}:
 * spread_pct = 100·(max_b q_b − min_b q_b)/q_full, and the budget whose removal moves q most,
 * with its signed shift 100·(q_b − q_full)/q_full. A large spread flags a forecast that rests on
 * one budget. Only IsoFLOP budgets (≥ 3 runs) are dropped — a lone run off any curve is a
 * budget of one and would cost a refit each. Needs 3 budgets (2 left to fit).
 *
 * @module
 */
import { fitIsoflop, isoflopOptimum, MIN_PARABOLA_POINTS } from "./isoflop.ts";
import type { LawOptions } from "./law.ts";
import { computeOptimal, fitParametric, type ParametricFit } from "./parametric.ts";
import { type Budget, type PointSet, subsetPoints } from "./points.ts";
import type { IsoflopResult, SensitivityResult, SensitivityRow } from "./schema.ts";

/** Options of {@linkcode runSensitivity}. */
export interface SensitivityOptions extends LawOptions {
  /** Table budgets (FLOPs). */
  budgets: readonly number[];
}

/** Fewest budgets for a leave-one-out (two must remain). */
export const MIN_SENSITIVITY_BUDGETS = 3;

type Triple = { N: number; D: number; loss: number } | null;

/**
 * Run the leave-one-budget-out refits.
 *
 * @param set Points and budgets.
 * @param full The full Approach 3 fit (warm start, reference values).
 * @param isoflop The full Approach 2 fit (reference values), or null.
 * @param options Table budgets, δ, m, E.
 * @returns Rows per approach and table budget, or null with fewer than 3 budgets.
 */
export function runSensitivity(
  set: PointSet,
  full: ParametricFit,
  isoflop: IsoflopResult | null,
  options: SensitivityOptions,
): SensitivityResult | null {
  if (set.budgets.length < MIN_SENSITIVITY_BUDGETS) return null;
  const droppable = set.budgets.filter((b) => b.indices.length >= MIN_PARABOLA_POINTS);
  if (droppable.length === 0) return null;
  const m = options.flopsPerParamToken;
  const par: Triple[][] = []; // [drop][row]
  const iso: Triple[][] = [];
  const frontier = isoflop?.loss_frontier != null;
  for (const dropped of droppable) {
    const sub = subsetPoints(set, set.budgets.filter((b) => b !== dropped));
    let law = null;
    try {
      const fit = fitParametric(sub, {
        huberDelta: options.huberDelta,
        multistart: "varpro",
        quick: true,
        extraStarts: [full.theta],
        E: options.E,
        form: full.form,
      });
      if (fit.law.alpha > 0 && fit.law.beta > 0) law = fit.law;
    } catch {
      law = null;
    }
    par.push(options.budgets.map((c) => {
      if (law === null) return null;
      const o = computeOptimal(law, c, m);
      return { N: o.params, D: o.data, loss: o.loss };
    }));
    const isoFit = isoflop === null ? null : fitIsoflop(sub, sub.budgets, undefined, options.E);
    iso.push(options.budgets.map((c) => {
      if (isoFit === null) return null;
      const o = isoflopOptimum(isoFit, c);
      const loss = !frontier ? o.lossPowerLaw : isoFit.loss_frontier === null ? NaN : o.loss;
      return { N: o.params, D: o.data, loss };
    }));
  }
  const rows: SensitivityRow[] = [];
  options.budgets.forEach((c, j) => {
    const o = computeOptimal(full.law, c, m);
    rows.push(
      summarise("parametric", c, { N: o.params, D: o.data, loss: o.loss }, par, j, droppable),
    );
  });
  if (isoflop !== null) {
    options.budgets.forEach((c, j) => {
      const o = isoflopOptimum(isoflop, c);
      const ref = { N: o.params, D: o.data, loss: frontier ? o.loss : o.lossPowerLaw };
      rows.push(summarise("isoflop", c, ref, iso, j, droppable));
    });
  }
  return {
    method: "each budget dropped in turn; Approach 3 refitted warm from the full optimum, " +
      "Approach 2 on the remaining parabolas",
    rows,
  };
}

function summarise(
  approach: "parametric" | "isoflop",
  flops: number,
  ref: { N: number; D: number; loss: number },
  values: Triple[][],
  j: number,
  dropped: readonly Budget[],
): SensitivityRow {
  const drops = dropped.map((b, k) => {
    const v = values[k]![j]!;
    const ok = (x: number | undefined) => x !== undefined && Number.isFinite(x) ? x : null;
    return { label: b.label, C: b.flops, N: ok(v?.N), D: ok(v?.D), loss: ok(v?.loss) };
  });
  const stat = (key: "N" | "D" | "loss") => {
    const list = drops.filter((d) => d[key] !== null);
    if (list.length === 0) return { spread: null, influence: null };
    const vals = list.map((d) => d[key]!);
    let most = list[0]!;
    for (const d of list) {
      if (Math.abs(d[key]! - ref[key]) > Math.abs(most[key]! - ref[key])) most = d;
    }
    return {
      spread: 100 * (Math.max(...vals) - Math.min(...vals)) / ref[key],
      influence: {
        label: most.label,
        C: most.C,
        shift_pct: 100 * (most[key]! - ref[key]) / ref[key],
      },
    };
  };
  const [n, d, l] = [stat("N"), stat("D"), stat("loss")];
  return {
    approach,
    C: flops,
    spread_pct: { N: n.spread, D: d.spread, loss: l.spread },
    most_influential: { N: n.influence, D: d.influence, loss: l.influence },
    drops,
  };
}
