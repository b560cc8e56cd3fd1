/**
 * The compute-optimal table: one row per requested budget and approach, plus markdown.
 *
 * @module
 */
import { isoflopOptimum } from "./isoflop.ts";
import { computeOptimal, type Law } from "./parametric.ts";
import type { IsoflopResult, RowIntervals, TableRow } from "./schema.ts";

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
 * Render the rows as markdown: one table per approach with columns
 * | C | N_opt | D_opt | D/N | predicted loss |, intervals in brackets.
 *
 * @param rows Table rows.
 * @param confidence Interval level, for the caption.
 * @returns Markdown text.
 *
 * @example
 * ```ts
 * import { renderMarkdown } from "./table.ts";
 * const md = renderMarkdown([{ approach: "parametric", C: 1e20, N: 1e9, D: 2e10, D_per_N: 20, loss: 2.5, ci: null, extrapolation: 1 }], 0.95);
 * if (!md.includes("| C | N_opt | D_opt | D/N | predicted loss |")) throw new Error("bad header");
 * ```
 */
export function renderMarkdown(rows: readonly TableRow[], confidence: number): string {
  const parts: string[] = [];
  const titles = {
    parametric: "Approach 3 (parametric fit L = E + A/N^α + B/D^β)",
    isoflop: "Approach 2 (IsoFLOP parabolas; loss frontier E + k·C^−γ)",
  } as const;
  for (const approach of ["parametric", "isoflop"] as const) {
    const mine = rows.filter((r) => r.approach === approach);
    if (mine.length === 0) continue;
    const withCi = mine.some((r) => r.ci !== null);
    const withPi = mine.some((r) => r.prediction_interval !== null);
    parts.push(
      `### ${titles[approach]}` +
        (withCi ? ` — ${Math.round(confidence * 100)} % bootstrap intervals in brackets` : ""),
      "",
      "| C | N_opt | D_opt | D/N | predicted loss |" + (withPi ? " one new run |" : ""),
      "| --- | --- | --- | --- | --- |" + (withPi ? " --- |" : ""),
      ...mine.map((r) =>
        `| ${num(r.C)} | ${cell(r.N, r.ci?.N)} | ${cell(r.D, r.ci?.D)} | ` +
        `${cell(r.D_per_N, r.ci?.D_per_N)} | ${cell(r.loss, r.ci?.loss)} |` +
        (withPi ? ` ${interval(r.prediction_interval)} |` : "")
      ),
      "",
    );
  }
  return parts.join("\n");
}
