/**
 * The caveats a careful researcher would raise about a fit.
 *
 * @module
 */
import type { Law } from "./parametric.ts";
import { E_ZERO_REL } from "./recommend.ts";
import type { PointSet } from "./points.ts";
import type {
  BacktestResult,
  BootstrapResult,
  EConstraint,
  FitWarning,
  IsoflopResult,
  Recommendation,
  SensitivityResult,
  TableRow,
} from "./schema.ts";

/**
 * Relative gap in predicted loss below which the approaches are not said to disagree, even
 * with disjoint intervals: Approach 2's L_opt(C) is a pure power law, misspecified by about 1 %
 * inside a well-sampled sweep (a curved frontier E + …), so only a gap past 2 % is news.
 */
const LOSS_DISAGREEMENT_REL = 0.02;

/** Fewer usable budgets than this makes a power law across budgets fragile (Chinchilla used 9). */
export const FEW_BUDGETS = 5;
/** A requested budget more than this many times the largest data budget is a long extrapolation. */
export const FAR_EXTRAPOLATION = 10;
/** A point whose given C differs from m·N·D by more than this factor suggests the wrong m. */
export const FLOPS_MISMATCH_FACTOR = 1.5;
/** More refused budgets than this are summarised in one warning. */
export const MAX_LISTED = 5;
/** A bootstrap where more than this fraction of refits failed is unreliable. */
export const MAX_FAILED_FRACTION = 0.05;
/**
 * Leave-one-budget-out spread of a row's N_opt (percent of its value) past which the forecast is
 * called fragile: one budget moves the allocation by a third or more.
 */
export const FRAGILE_N_SPREAD_PCT = 33;
/** Leave-one-budget-out spread of a row's predicted loss (percent) past which it is fragile. */
export const FRAGILE_LOSS_SPREAD_PCT = 2;

/** Inputs of {@linkcode collectWarnings}. */
export interface WarningInput {
  /** The points. */
  set: PointSet;
  /** m in C = m·N·D. */
  flopsPerParamToken: number;
  /** Points as given (for their C). */
  givenFlops: (number | undefined)[];
  /** Approach 2 result. */
  isoflop: IsoflopResult | null;
  /** Approach 3 law and L-BFGS outcome. */
  parametric: { law: Law; converged: boolean; status: string; form?: "additive" | "joint" };
  /** The table. */
  table: readonly TableRow[];
  /** Bootstrap summary. */
  bootstrap: BootstrapResult | null;
  /** The request's E constraint. */
  E?: EConstraint | null;
  /** Leave-one-budget-out result. */
  sensitivity?: SensitivityResult | null;
  /** Held-out forecasts. */
  backtest?: BacktestResult | null;
  /** The recommendation (which E each candidate identifies). */
  recommendation?: Recommendation | null;
  /** The request's form of Approach 3. @default "additive" */
  form?: "additive" | "joint";
}

/**
 * Collect warnings: few budgets, refused budgets, edge optima, far extrapolation,
 * approaches disagreeing beyond both intervals, non-convergence, exponents at the
 * boundary, failed bootstrap refits, C inconsistent with m·N·D.
 *
 * @param input Everything the fit produced.
 * @returns Warnings in a stable order.
 */
export function collectWarnings(input: WarningInput): FitWarning[] {
  const out: FitWarning[] = [];
  const { set, isoflop } = input;
  if (isoflop === null) {
    out.push({
      code: "isoflop_unavailable",
      message: "Approach 2 needs at least 2 budgets whose loss-vs-ln N parabola has a minimum; " +
        "only Approach 3 is reported",
    });
  }
  if (isoflop !== null && isoflop.loss_frontier === null) {
    out.push({
      code: "frontier_unavailable",
      message: `Approach 2's loss frontier E + k·C^−γ could not be fitted to ${isoflop.n_used} ` +
        "budget optima (it needs 4, or 3 with E fixed, and a loss that falls with C); its loss " +
        "forecast is the pure power law, which has no floor and runs low when extrapolated",
    });
  }
  const used = isoflop?.n_used ?? 0;
  if (set.budgets.length < FEW_BUDGETS || (isoflop !== null && used < FEW_BUDGETS)) {
    out.push({
      code: "few_budgets",
      message: `only ${set.budgets.length} budget(s) (${used} usable by Approach 2); ` +
        `exponents from fewer than ${FEW_BUDGETS} budgets are fragile`,
    });
  }
  const refused = (isoflop?.budgets ?? []).filter((b) => b.status === "refused");
  if (refused.length > MAX_LISTED) {
    out.push({
      code: "budget_refused",
      message: `${refused.length} budgets refused by Approach 2 (e.g. ${refused[0]!.label}: ` +
        `${refused[0]!.reason})`,
    });
  }
  for (const b of isoflop?.budgets ?? []) {
    if (b.status === "refused") {
      if (refused.length <= MAX_LISTED) {
        out.push({ code: "budget_refused", message: `budget ${b.label} refused: ${b.reason}` });
      }
    } else if (b.N!.edge || b.D!.edge) {
      out.push({
        code: "edge_optimum",
        message:
          `budget ${b.label}: the optimum (N ≈ ${b.N!.vertex.toPrecision(3)}) lies outside ` +
          "the sampled range; extend the sweep past it",
      });
    }
  }
  const far = extrapolationWarning(input.table);
  if (far !== undefined) out.push(far);
  if (input.bootstrap !== null && isoflop !== null) {
    const p = input.bootstrap.parametric;
    const i = input.bootstrap.isoflop;
    if (i) {
      for (const key of ["a", "b"] as const) {
        const [pl, ph] = p[key]!;
        const [il, ih] = i[key]!;
        if (ph < il || ih < pl) {
          out.push({
            code: "approaches_disagree",
            message: `${key} differs between approaches beyond both intervals: Approach 3 ` +
              `[${pl.toFixed(3)}, ${ph.toFixed(3)}] vs Approach 2 [${il.toFixed(3)}, ${
                ih.toFixed(3)
              }]`,
          });
        }
      }
    }
    const byC = new Map<number, TableRow[]>();
    for (const r of input.table) byC.set(r.C, [...(byC.get(r.C) ?? []), r]);
    for (const [c, rows] of byC) {
      const [pr, ir] = [
        rows.find((r) => r.approach === "parametric"),
        rows.find((r) => r.approach === "isoflop"),
      ];
      if (!pr?.ci || !ir?.ci) continue;
      const apart = (["N", "D", "loss"] as const).filter((key) =>
        (pr.ci![key][1] < ir.ci![key][0] || ir.ci![key][1] < pr.ci![key][0]) &&
        (key !== "loss" || Math.abs(pr.loss - ir.loss) > LOSS_DISAGREEMENT_REL * pr.loss)
      );
      if (apart.length > 0) {
        const names = apart.map((key) => key === "loss" ? "predicted loss" : `${key}_opt`);
        out.push({
          code: "approaches_disagree",
          message: `at C = ${c.toPrecision(3)} the approaches' ${names.join(", ")} intervals ` +
            `do not overlap (` +
            apart.map((key) => `${key}: ${pr[key].toPrecision(3)} vs ${ir[key].toPrecision(3)}`)
              .join("; ") +
            ")" +
            (apart.includes("loss") && isoflop.loss_frontier === null
              ? "; Approach 2's L_opt(C) is a pure power law with no irreducible term, so it " +
                "runs low when extrapolated"
              : ""),
        });
      }
    }
  }
  if (!input.parametric.converged) {
    out.push({
      code: "not_converged",
      message:
        `Approach 3's L-BFGS stopped without meeting its tolerances (${input.parametric.status})`,
    });
  }
  const { alpha, beta } = input.parametric.law;
  if (alpha < 0.05 || beta < 0.05 || alpha > 2 || beta > 2) {
    out.push({
      code: "boundary_exponent",
      message: `Approach 3's exponents are implausible (α = ${alpha.toPrecision(3)}, β = ` +
        `${beta.toPrecision(3)}); the data may not constrain the law`,
    });
  }
  if (input.bootstrap !== null) {
    const n = input.bootstrap.n_resamples;
    for (
      const [name, failed] of [
        ["Approach 3", input.bootstrap.n_failed_parametric],
        ["Approach 2", input.bootstrap.n_failed_isoflop],
      ] as const
    ) {
      if (failed > MAX_FAILED_FRACTION * n) {
        out.push({
          code: "bootstrap_failures",
          message:
            `${failed} of ${n} bootstrap refits of ${name} failed; its intervals use the rest`,
        });
      }
    }
  }
  out.push(...floorWarnings(input));
  for (const row of input.sensitivity?.rows ?? []) {
    const n = row.spread_pct.N, l = row.spread_pct.loss;
    if ((n !== null && n > FRAGILE_N_SPREAD_PCT) || (l !== null && l > FRAGILE_LOSS_SPREAD_PCT)) {
      const who = row.most_influential[n !== null && n > FRAGILE_N_SPREAD_PCT ? "N" : "loss"];
      out.push({
        code: "fragile_forecast",
        message: `${row.approach === "parametric" ? "Approach 3" : "Approach 2"} at C = ` +
          `${row.C.toPrecision(3)}: dropping one budget moves N_opt over a ${
            n?.toFixed(0) ?? "—"
          } % range and the loss over ${l?.toFixed(2) ?? "—"} %` +
          (who === null
            ? ""
            : `; budget ${who.label} moves it most (${who.shift_pct.toFixed(1)} %)`),
      });
    }
  }
  for (const h of input.backtest?.held_out ?? []) {
    for (const f of [...h.forecasts, ...(h.recommended == null ? [] : [h.recommended])]) {
      if (f.inside === null || f.error_pct === null || f.inside.loss) continue;
      out.push({
        code: "backtest_miss",
        message: `held-out budget ${h.label}: ${
          f.approach === "parametric"
            ? "Approach 3"
            : f.approach === "isoflop"
            ? "Approach 2"
            : "the recommended row"
        } forecast the optimum loss ${f.error_pct.loss >= 0 ? "+" : ""}${
          f.error_pct.loss.toFixed(2)
        } % off, outside its interval` +
          (f.approach === "parametric" && input.parametric.form !== "joint"
            ? '; the additive law may be the wrong shape for these runs: compare form "joint"'
            : ""),
      });
    }
  }
  let mismatched = 0;
  input.givenFlops.forEach((c, i) => {
    if (c === undefined) return;
    const implied = input.flopsPerParamToken * set.params[i]! * set.data[i]!;
    const ratio = c / implied;
    if (ratio > FLOPS_MISMATCH_FACTOR || ratio < 1 / FLOPS_MISMATCH_FACTOR) mismatched++;
  });
  if (mismatched > 0) {
    out.push({
      code: "flops_mismatch",
      message: `${mismatched} point(s) give a C more than ${FLOPS_MISMATCH_FACTOR}× away from ` +
        `${Number(input.flopsPerParamToken.toPrecision(4))}·N·D; check flops_per_param_token ` +
        `(it converts C to N_opt, D_opt)`,
    });
  }
  return out;
}

/**
 * The warnings about E, for every fit that has one: `E_at_bound` (Approach 3 in the request's form
 * when its E sits on a requested bound or at 0, Approach 2's frontier when its E runs to 0, the
 * lowest optimum or a requested bound), `E_unidentified` (its bootstrap interval spans most of
 * [0, lowest loss), see `recommend.ts`), `E_not_applied` (a requested constraint Approach 2 could
 * not apply: no frontier) and `below_floor` (a row's loss under a known floor).
 *
 * @param input Everything the fit produced.
 * @returns The warnings.
 */
export function floorWarnings(input: WarningInput): FitWarning[] {
  const out: FitWarning[] = [];
  const e = input.E ?? null;
  const isoflop = input.isoflop;
  const form = input.form ?? input.parametric.form ?? "additive";
  const a3 = `Approach 3 (${form})`;
  let lowest = Infinity;
  for (const l of input.set.loss) lowest = Math.min(lowest, l);
  const fitted = input.parametric.law.E;
  if (e === null || e.fixed === undefined) {
    const at = [e?.min, e?.max].find((v) => v !== undefined && Math.abs(fitted - v) <= 1e-12 * v);
    if (at !== undefined) {
      out.push({
        code: "E_at_bound",
        message: `${a3}'s free E lay past the bound ${at}; E is held there (the data ` +
          "alone would put the floor elsewhere — compare the free fit)",
      });
    } else if (fitted < E_ZERO_REL * lowest) {
      out.push({
        code: "E_at_bound",
        message: `${a3} puts E at its lower bound 0 (E = ${fitted.toPrecision(3)}): these runs ` +
          "do not identify a floor; its loss forecast assumes none",
      });
    }
  }
  const fr = isoflop?.loss_frontier;
  if (fr != null && fr.E_at_bound && e?.fixed === undefined) {
    out.push({
      code: "E_at_bound",
      message: `Approach 2's loss frontier puts E on a bound (E = ${fr.E.toPrecision(4)}): ` +
        "these optima do not identify a floor",
    });
  }
  const ids = input.recommendation?.E_identified;
  if (ids != null && e?.fixed === undefined) {
    if (ids.isoflop === false && !(fr != null && fr.E_at_bound)) {
      out.push({
        code: "E_unidentified",
        message:
          `Approach 2's loss frontier E = ${fr?.E.toPrecision(4) ?? "—"} is not identified ` +
          "(its bootstrap interval spans most of [0, lowest loss)); the recommended row does not " +
          "lean on it",
      });
    }
    const mine = ids[form];
    if (mine === false && fitted >= E_ZERO_REL * lowest) {
      out.push({
        code: "E_unidentified",
        message: `${a3}'s E = ${fitted.toPrecision(4)} is not identified by these runs (its ` +
          "bootstrap interval spans most of [0, lowest loss)): its loss forecast leans on a " +
          "guessed floor",
      });
    }
    const lead = input.recommendation!.sources.loss;
    if (lead !== form && lead !== "isoflop" && ids[lead] === false) {
      out.push({
        code: "E_unidentified",
        message:
          `the recommended loss comes from Approach 3 (${lead}), whose E is not identified ` +
          "by these runs or sits at 0; its interval is widened to the other approaches' forecasts",
      });
    }
  }
  if (e !== null && isoflop !== null && fr == null) {
    out.push({
      code: "E_not_applied",
      message: `the requested E constraint could not be applied to Approach 2: its loss frontier ` +
        `needs ${e.fixed === undefined ? 4 : 3} usable budgets (it has ${isoflop.n_used}); its ` +
        'rows give the pure power law, marked E_constraint "free"',
    });
  }
  const floor = e?.fixed ?? e?.min;
  if (floor !== undefined) {
    const below = input.table.filter((r) =>
      r.loss < floor || (r.ci !== null && r.ci.loss[0] < floor)
    );
    if (below.length > 0) {
      const r = below[0]!;
      out.push({
        code: "below_floor",
        message: `${below.length} row(s) forecast a loss under the known floor ${floor} (e.g. ` +
          `${r.approach === "isoflop" ? "Approach 2" : "Approach 3"} at C = ${
            r.C.toPrecision(3)
          }: ` +
          `${r.loss.toPrecision(4)}${
            r.ci === null ? "" : ` [${r.ci.loss[0].toPrecision(4)}, ${r.ci.loss[1].toPrecision(4)}]`
          }); the recommended row never does`,
      });
    }
  }
  return out;
}

/**
 * The warning for requested budgets far past the data: rows whose budget exceeds the largest
 * data budget by more than {@linkcode FAR_EXTRAPOLATION}×.
 *
 * @param table Compute-optimal rows (one per budget and approach; Approach 3's rows are counted).
 * @returns The warning, or `undefined` when no row extrapolates that far.
 */
export function extrapolationWarning(table: readonly TableRow[]): FitWarning | undefined {
  const far = table.filter((r) =>
    // Compared as printed (3 digits): 10.0009× is 10×, not "more than 10× (up to 10.0×)".
    r.approach === "parametric" && Number(r.extrapolation.toPrecision(3)) > FAR_EXTRAPOLATION
  );
  if (far.length === 0) return undefined;
  const worst = Math.max(...far.map((r) => r.extrapolation));
  return {
    code: "extrapolation",
    message: `${far.length} requested budget(s) exceed the largest data budget by more than ` +
      `${FAR_EXTRAPOLATION}× (up to ${worst.toPrecision(3)}×); treat those rows as extrapolations`,
  };
}
