/**
 * The compute-optimal table: one row per requested budget and approach, plus markdown.
 *
 * @module
 */
import { isoflopOptimum } from "./isoflop.ts";
import { computeOptimal, type EConstraint, type Law, type LawForm } from "./parametric.ts";
import { appliedKind } from "./recommend.ts";
import type {
  BacktestResult,
  FitWarning,
  IsoflopResult,
  RowIntervals,
  SensitivityResult,
  TableRow,
} from "./schema.ts";
import { markdownTable } from "../markdown.ts";

/** Inputs of {@linkcode buildTable}. */
export interface TableInput {
  /** Requested budgets (FLOPs). */
  budgets: readonly number[];
  /** Largest budget in the data, for the extrapolation factor. */
  maxDataFlops: number;
  /** m in C = m·N·D. */
  flopsPerParamToken: number;
  /** Approach 3 law. */
  law: Law;
  /** Approach 2 result, if any. */
  isoflop: IsoflopResult | null;
  /** Approach 3 intervals per budget, if bootstrapped. */
  parametricCi: RowIntervals[] | null;
  /** Approach 2 intervals per budget, if bootstrapped. */
  isoflopCi: RowIntervals[] | null;
  /** Approach 3 prediction intervals (one new run) per budget. */
  parametricPrediction?: [number, number][] | null;
  /** Approach 2 prediction intervals per budget. */
  isoflopPrediction?: [number, number][] | null;
  /** The request's E constraint (for each row's `E_constraint`). */
  E?: EConstraint;
}

/**
 * Build the rows: Approach 3 from N_opt = G·(C/m)^a, D_opt = G⁻¹·(C/m)^b; Approach 2
 * from the power laws N_opt = k·C^a, D_opt = k·C^b and the loss frontier L_opt = E + k·C^(−γ)
 * (the power law L_opt = k·C^c beside it as `loss_power_law`, and as the loss without a frontier).
 *
 * @param input Laws, budgets and intervals.
 * @returns Rows, Approach 3 first, each approach in budget order.
 */
export function buildTable(input: TableInput): TableRow[] {
  const rows: TableRow[] = [];
  input.budgets.forEach((c, j) => {
    const opt = computeOptimal(input.law, c, input.flopsPerParamToken);
    rows.push({
      approach: "parametric",
      C: c,
      N: opt.params,
      D: opt.data,
      D_per_N: opt.data / opt.params,
      loss: opt.loss,
      loss_power_law: null,
      ci: input.parametricCi?.[j] ?? null,
      prediction_interval: input.parametricPrediction?.[j] ?? null,
      extrapolation: c / input.maxDataFlops,
      recommended: false,
      E_constraint: appliedKind(input.E),
    });
  });
  const iso = input.isoflop;
  if (iso !== null) {
    input.budgets.forEach((c, j) => {
      const o = isoflopOptimum(iso, c);
      rows.push({
        approach: "isoflop",
        C: c,
        N: o.params,
        D: o.data,
        D_per_N: o.data / o.params,
        loss: o.loss,
        loss_power_law: o.lossPowerLaw,
        ci: input.isoflopCi?.[j] ?? null,
        prediction_interval: input.isoflopPrediction?.[j] ?? null,
        extrapolation: c / input.maxDataFlops,
        recommended: false,
        // Without a frontier the loss is the pure power law: no constraint on E was applied.
        E_constraint: iso.loss_frontier === null ? "free" : appliedKind(input.E),
      });
    });
  }
  return rows;
}

/** Significant digits in the markdown table. */
const DIGITS = 3;

function num(v: number): string {
  if (!Number.isFinite(v)) return "—";
  const abs = Math.abs(v);
  return abs !== 0 && (abs >= 1e4 || abs < 1e-2)
    ? v.toExponential(DIGITS - 1)
    : v.toPrecision(DIGITS);
}

function interval(iv: [number, number] | null): string {
  return iv === null ? "—" : `[${num(iv[0])}, ${num(iv[1])}]`;
}

function cell(v: number, ci: [number, number] | undefined): string {
  return ci === undefined ? num(v) : `${num(v)} [${num(ci[0])}, ${num(ci[1])}]`;
}

/**
 * Render the rows as markdown: the recommended rows first (one per budget, marked **recommended**,
 * with where each interval comes from), then one table per approach with columns
 * | C | N_opt | D_opt | D/N | predicted loss |, intervals in brackets (and the E constraint applied
 * when any row has one), then every warning as a list item.
 *
 * @param rows Table rows.
 * @param confidence Interval level, for the caption.
 * @param options `form`: Approach 3's law form, for its caption (default additive); `warnings`:
 *   listed at the end.
 * @returns Markdown text.
 *
 * @example
 * ```ts
 * import { renderMarkdown } from "./table.ts";
 * const md = renderMarkdown([{ approach: "parametric", C: 1e20, N: 1e9, D: 2e10, D_per_N: 20, loss: 2.5, loss_power_law: null, ci: null, prediction_interval: null, extrapolation: 1 }], 0.95, { warnings: [{ code: "few_budgets", message: "only 2 budget(s)" }] });
 * if (!md.includes("| C | N_opt | D_opt | D/N | predicted loss |")) throw new Error("bad header");
 * if (!md.includes("- `few_budgets`: only 2 budget(s)")) throw new Error("warning dropped");
 * ```
 */
export function renderMarkdown(
  rows: readonly TableRow[],
  confidence: number,
  options: { form?: LawForm; warnings?: readonly FitWarning[] } = {},
): string {
  const parts: string[] = [];
  const level = Math.round(confidence * 100);
  const titles = {
    recommended: "Recommended — one row per budget (rule and history in `recommendation`)",
    parametric: options.form === "joint"
      ? "Approach 3 (parametric fit, joint form L = E + (A/N^α + B/D^β)^γ)"
      : "Approach 3 (parametric fit L = E + A/N^α + B/D^β)",
    isoflop: "Approach 2 (IsoFLOP parabolas; loss frontier E + k·C^−γ)",
  } as const;
  for (const approach of ["recommended", "parametric", "isoflop"] as const) {
    const mine = rows.filter((r) => r.approach === approach);
    if (mine.length === 0) continue;
    const withCi = mine.some((r) => r.ci !== null);
    const withPi = mine.some((r) => r.prediction_interval !== null);
    const withE = mine.some((r) => r.E_constraint !== undefined && r.E_constraint !== "free");
    const recommended = approach === "recommended";
    parts.push(
      `### ${titles[approach]}` +
        (withCi
          ? recommended
            ? ` — ${level} % intervals with model error, in brackets`
            : ` — ${level} % bootstrap intervals in brackets`
          : ""),
      "",
      markdownTable(
        [
          "C",
          "N_opt",
          "D_opt",
          "D/N",
          "predicted loss",
          ...(withPi ? ["one new run"] : []),
          ...(withE ? ["E"] : []),
          ...(recommended ? ["×", "from"] : []),
        ],
        mine.map((r) => [
          recommended ? `**${num(r.C)}** (recommended)` : num(r.C),
          cell(r.N, r.ci?.N),
          cell(r.D, r.ci?.D),
          cell(r.D_per_N, r.ci?.D_per_N),
          cell(r.loss, r.ci?.loss),
          ...(withPi ? [interval(r.prediction_interval)] : []),
          ...(withE ? [r.E_constraint ?? "free"] : []),
          ...(recommended ? [r.extrapolation.toPrecision(3), sourcesCell(r)] : []),
        ]),
      ),
      "",
    );
  }
  const warnings = options.warnings ?? [];
  if (warnings.length > 0) {
    parts.push(
      `### Warnings (${warnings.length})`,
      "",
      ...warnings.map((w) => `- \`${w.code}\`: ${w.message.replaceAll("|", "\\|")}`),
      "",
    );
  }
  return parts.join("\n");
}

const SOURCE = { isoflop: "A2", additive: "A3 additive", joint: "A3 joint" } as const;

/** Where a recommended row's N and loss come from, e.g. "N: A2 (+A3 joint); loss: A3 joint". */
function sourcesCell(r: TableRow): string {
  const ic = r.interval_components;
  if (ic === undefined) return "—";
  const one = (c: typeof ic.N) =>
    SOURCE[c.source] +
    (c.widened_to.length === 0
      ? ""
      : ` (widened to ${c.widened_to.map((k) => SOURCE[k]).join(", ")})`);
  return `N: ${one(ic.N)}; loss: ${one(ic.loss)}`;
}

const APPROACH = { parametric: "3", isoflop: "2", recommended: "rec." } as const;

function signedPct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? "—" : `${v >= 0 ? "+" : ""}${v.toFixed(2)} %`;
}

/**
 * Render the held-out forecast check as markdown: one row per held-out budget and approach,
 * | held-out C | × | approach | loss forecast [interval] | one new run | observed loss | error |
 * inside | N_opt forecast [interval] | observed N_opt | error |.
 *
 * @param backtest The backtest.
 * @param confidence Interval level, for the caption.
 * @returns Markdown text.
 *
 * @example
 * ```ts
 * import { renderBacktestMarkdown } from "./table.ts";
 * const md = renderBacktestMarkdown({
 *   hold_out_above: 1e19, train_budgets: [{ label: "1e18", C: 1e18, n_points: 5 }, { label: "1e19", C: 1e19, n_points: 5 }],
 *   n_train_points: 10, rmse_log_loss: 0.01, max_abs_rel_error: 0.02,
 *   held_out: [{ label: "1e20", C: 1e20, n_points: 5, extrapolation: 10, observed: { N: 1e9, D: 2e10, loss: 2.5 },
 *     observed_ci: null, predicted_loss: [], observed_loss: [], rmse_log_loss: 0.01,
 *     forecasts: [{ approach: "isoflop", N: 1.1e9, D: 1.8e10, loss: 2.52, ci: null, prediction_interval: null,
 *       error_pct: { N: 10, D: -10, loss: 0.8 }, inside: null, inside_prediction: null }] }],
 * }, 0.95);
 * if (!md.includes("| 1.00e+20 | 10.0 | 2 | 2.52 | — | 2.50 | +0.80 % |")) throw new Error(md);
 * ```
 */
export function renderBacktestMarkdown(backtest: BacktestResult, confidence: number): string {
  const level = Math.round(confidence * 100);
  const rows = backtest.held_out.flatMap((h) =>
    [...h.forecasts, ...(h.recommended == null ? [] : [h.recommended])].map((f) => [
      num(h.C),
      h.extrapolation.toFixed(1),
      APPROACH[f.approach],
      cell(f.loss, f.ci?.loss),
      interval(f.prediction_interval),
      h.observed === null ? "—" : num(h.observed.loss),
      signedPct(f.error_pct?.loss),
      f.inside === null ? "—" : f.inside.loss ? "yes" : "no",
      cell(f.N, f.ci?.N),
      h.observed === null ? "—" : num(h.observed.N),
      signedPct(f.error_pct?.N),
    ])
  );
  return [
    `### Held-out forecast check — fitted on the ${backtest.train_budgets.length} budgets ≤ ` +
    `${num(backtest.hold_out_above)} FLOPs (${backtest.n_train_points} runs), ${level} % intervals`,
    "",
    markdownTable(
      [
        "held-out C",
        "×",
        "approach",
        "loss forecast",
        "one new run",
        "observed loss",
        "error",
        "inside",
        "N_opt forecast",
        "observed N_opt",
        "error",
      ],
      rows,
    ),
    "",
  ].join("\n");
}

/**
 * Render the leave-one-budget-out result as markdown: | approach | C | N_opt spread | loss spread |
 * moves N_opt most | moves loss most |.
 *
 * @param sensitivity The result.
 * @returns Markdown text.
 */
export function renderSensitivityMarkdown(sensitivity: SensitivityResult): string {
  const pct = (v: number | null) => v === null ? "—" : `${v.toFixed(v < 10 ? 2 : 0)} %`;
  const who = (i: { label: string; shift_pct: number } | null) =>
    i === null ? "—" : `${i.label} (${signedPct(i.shift_pct)})`;
  return [
    "### Leave-one-budget-out — how far each forecast moves when one budget is dropped",
    "",
    markdownTable(
      ["approach", "C", "N_opt spread", "loss spread", "moves N_opt most", "moves loss most"],
      sensitivity.rows.map((r) => [
        APPROACH[r.approach],
        num(r.C),
        pct(r.spread_pct.N),
        pct(r.spread_pct.loss),
        who(r.most_influential.N),
        who(r.most_influential.loss),
      ]),
    ),
    "",
  ].join("\n");
}
