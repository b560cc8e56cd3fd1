/**
 * The sweep's markdown summary: the compute-optimal table, both approaches' laws with CIs, the
 * checks and warnings (printed by the CLI and written to `summary.md`).
 *
 * @module
 */
import type { FitResult, FitWarning, TableRow } from "../fit/mod.ts";
import type { IntervalComponents, Recommendation } from "../fit/mod.ts";
import {
  E_COLLAPSED_NATS,
  type FitLoss,
  FORECAST_TARGETS,
  type ForecastCheck,
  type SweepFit,
} from "./sweep_fit.ts";
import { markdownTable } from "../markdown.ts";
import {
  loss4,
  lossWithInterval,
  plainExponents,
  sci,
  sig,
  times,
  withInterval,
} from "./format.ts";

export { sci, sig } from "./format.ts";

/** Context printed with the results. */
export interface SummaryContext {
  /** Study name. */
  name: string;
  /** Family and its size parameter. */
  family: string;
  /** Dataset name. */
  dataset: string;
  /** What D counts. */
  dataUnit: string;
  /** True entropy of the source, when known. */
  entropyNats?: number;
  /** Wall-clock seconds of the sweep (training), when measured. */
  wallS?: number;
  /** Points in the study. */
  points: number;
  /** `mock` when the losses came from a known law. */
  mock: boolean;
  /** Which loss was fitted. */
  fitLoss: FitLoss;
  /** The adaptive rounds as markdown lines (`rounds.ts`), for adaptive studies. */
  rounds?: string[];
  /** Which trainer trained which point (`trainersLine` in `trainers.ts`). */
  trainedBy?: string;
}

/** The parts of the summary, in reading order (the HTML page lays them out itself). */
export interface SummaryParts {
  /** The title line (without `#`). */
  title: string;
  /** What was studied, and the words the rest uses. */
  intro: string[];
  /** The answer: one line per requested budget (markdown bullets). */
  answer: string[];
  /** The forecast check (markdown), empty when no budget was held out. */
  forecast: string[];
  /** Everything an auditor wants after that (markdown). */
  details: string[];
}

/**
 * The study as markdown (printed by the CLI and written to `summary.md`): the answer first (at
 * each requested budget: train N on D, expect L, with intervals and how far it extrapolates),
 * then the forecast check when a budget was held out, then the details — the compute-optimal
 * table, both approaches' laws with CIs, checks, warnings and the per-budget optima.
 *
 * @param sweep The fitted sweep (with its checks).
 * @param context Study context.
 * @returns Markdown text.
 */
export function formatSummary(sweep: SweepFit, context: SummaryContext): string {
  const parts = summaryParts(sweep, context);
  const lines = [`# ${parts.title}`, "", ...parts.intro, "", ...parts.answer];
  if (parts.forecast.length > 0) lines.push("", ...parts.forecast);
  lines.push("", ...parts.details);
  return lines.join("\n") + "\n";
}

/**
 * The summary's parts (see {@linkcode formatSummary}).
 *
 * @param sweep The fitted sweep.
 * @param context Study context.
 * @returns Title, intro, answer, forecast check and details.
 */
export function summaryParts(sweep: SweepFit, context: SummaryContext): SummaryParts {
  const { fit, checks } = sweep;
  const bs = fit.bootstrap;
  const level = bs === null ? "" : ` (${Math.round(bs.confidence * 100)}% bootstrap CIs, ` +
    `${bs.n_resamples} resamples)`;
  const intro = [
    `${context.family} on ${context.dataset}, ${context.points} runs on ${fit.budgets.length} ` +
    `IsoFLOP budgets` + (context.mock ? " — **mock losses from a known law**" : "") +
    (context.wallS === undefined ? "" : `, trained in ${context.wallS.toFixed(0)} s`) +
    `. Fitted loss: ${context.fitLoss === "eval_loss" ? "held-out (eval) loss" : "training loss"}` +
    `; D counts ${context.dataUnit}; C = compute in FLOPs, N = parameters.`,
    "",
    `Terms: E is the irreducible loss, the floor no model size reaches. "E free" fits it from the ` +
    `runs; ` +
    (sweep.constrained === null
      ? ""
      : `"E = entropy" fixes it at the source's known entropy rate; `) +
    `Approach 2 fits a parabola to each IsoFLOP curve (loss vs ln N at one budget) and power ` +
    `laws through their minima; Approach 3 fits L(N, D) = E + A/N^α + B/D^β to every run` +
    (fit.recommendation === null
      ? "."
      : `; "recommended" is the fit's one row per budget, by a fixed rule (${
        recommendationPhrase(fit).split(";")[0]
      }).`),
  ];
  const answer = formatAnswer(sweep, context);
  const forecast = checks.forecasts.length > 0 ? formatForecastCheck(sweep, context) : [];
  const lines: string[] = [];
  if (context.trainedBy !== undefined) lines.push(context.trainedBy, "");
  if (context.rounds !== undefined) lines.push(...context.rounds, "");
  lines.push(`## Compute-optimal table (all budgets, E free)${level}`);
  lines.push("");
  lines.push(formatTable(sweep));
  lines.push("");
  if (fit.table.some((r) => r.recommended === true)) {
    lines.push(
      "The recommended rows' intervals are the rule's (noise, model error from the rolling " +
        "origins, widened to the other approaches); the approaches' are bootstrap intervals.",
      "",
    );
  }
  lines.push(`## Laws${level}`);
  lines.push("");
  lines.push(...formatLaws(fit, "E free"));
  if (sweep.constrained !== null) lines.push(...formatLaws(sweep.constrained, "E = entropy"));
  if (fit.recommendation !== null) {
    lines.push(`- Recommended rows (the fit's rule): ${recommendationPhrase(fit)}.`);
  }
  if (context.entropyNats !== undefined) {
    const p = fit.parametric;
    const gap = p.E - context.entropyNats;
    const eCi = bs?.parametric.E;
    lines.push(
      `- Irreducible loss: fitted E = ${lossWithInterval(p.E, eCi)} nats` +
        ` vs the source's true entropy ${loss4(context.entropyNats)} nats/token: ` +
        `gap E − H = ${gap >= 0 ? "+" : ""}${loss4(gap)} nats ` +
        `(${(100 * gap / context.entropyNats).toFixed(1)}%)` +
        (checks.entropyInsideE === undefined
          ? ""
          : checks.entropyInsideE
          ? "; the entropy lies inside E's interval."
          : "; the entropy lies outside E's interval."),
    );
  }
  if (fit.parametric.E < E_COLLAPSED_NATS) {
    lines.push(
      `- E collapsed to ${sig(fit.parametric.E)}: every run is still far above the floor, so ` +
        `these budgets cannot identify the irreducible loss (train larger budgets to pin it down).`,
    );
  }
  if (context.entropyNats !== undefined) {
    const below = fit.table.filter((r) =>
      sweep.tableBudgets.includes(r.C) && r.loss < context.entropyNats!
    );
    if (below.length > 0) {
      lines.push(
        `- ${below.length} table row(s) predict a loss below the source's entropy, which no ` +
          `model can reach: those extrapolations are beyond what the fitted form knows.`,
      );
    }
  }
  lines.push("");
  lines.push("## Checks");
  lines.push("");
  lines.push(
    `- positive curvature at every budget: ${checks.positiveCurvature ? "yes" : "**no**"}`,
  );
  lines.push(`- N_opt rising with C: ${checks.nOptRising ? "yes" : "**no**"}`);
  const eWarnings = (sweep.constrained?.warnings ?? []).filter((w) => E_CODES.has(w.code));
  if (fit.warnings.length > 0 || eWarnings.length > 0) {
    lines.push("");
    lines.push("## Warnings");
    lines.push("");
    for (const w of fit.warnings) lines.push(warningLine(w));
    for (const w of eWarnings) lines.push(warningLine(w, "E = entropy fit"));
  }
  lines.push("");
  lines.push("## Per-budget optima (Approach 2)");
  lines.push("");
  lines.push(markdownTable(
    ["C (FLOPs)", "runs", "N_opt", "D_opt", "loss at optimum", "curvature", "edge"],
    (fit.isoflop?.budgets ?? []).map((b) => [
      sci(b.C),
      String(b.n_points),
      b.N === null ? "—" : sig(b.N.vertex),
      b.D === null ? "—" : sig(b.D.vertex),
      b.loss_opt === null ? "—" : loss4(b.loss_opt),
      b.N === null ? (b.reason ?? "—") : loss4(b.N.coefficients[2]),
      b.N?.edge ? "yes" : "no",
    ]),
  ));
  return { title: `Scaling study: ${context.name}`, intro, answer, forecast, details: lines };
}

/** One requested budget's answer: the row the report leads with. */
export interface Headline {
  /** The budget (FLOPs). */
  C: number;
  /** The compute-optimal row (E free). */
  row: TableRow;
  /**
   * `recommended`: the fitter marked this row; `fallback`: no row of this budget is marked, so
   * the Approach 2 row is shown (Approach 3's when Approach 2 has none).
   */
  basis: "recommended" | "fallback";
}

/**
 * The answer's rows: at each requested budget, the row the fitter marks `recommended`, else
 * Approach 2's (the fallback, named as such wherever it is shown).
 *
 * @param sweep The fitted sweep.
 * @returns One headline per table budget, ascending in C.
 */
export function headlines(sweep: SweepFit): Headline[] {
  const out: Headline[] = [];
  for (const C of sweep.tableBudgets) {
    const rows = sweep.fit.table.filter((r) => r.C === C);
    const recommended = rows.find((r) => (r as { recommended?: boolean }).recommended === true);
    if (recommended !== undefined) {
      out.push({ C, row: recommended, basis: "recommended" });
      continue;
    }
    const fallback = rows.find((r) => r.approach === "isoflop") ??
      rows.find((r) => r.approach === "parametric");
    if (fallback !== undefined) out.push({ C, row: fallback, basis: "fallback" });
  }
  return out;
}

/**
 * Which approach a headline comes from, and why that one.
 *
 * @param h The headline.
 * @returns e.g. `Approach 2 (IsoFLOP; no row is marked recommended, so Approach 2 is shown)`.
 */
export function headlineBasis(h: Headline): string {
  if (h.basis === "recommended") return "the fit's recommended row";
  const approach = APPROACH_NAMES[h.row.approach];
  return `${approach}; the fit marks no row recommended, so ` +
    (h.row.approach === "isoflop" ? "Approach 2 is shown" : "the only row is shown");
}

/** Each approach's name in prose. */
export const APPROACH_NAMES: Record<TableRow["approach"], string> = {
  recommended: "recommended",
  isoflop: "Approach 2 (IsoFLOP)",
  parametric: "Approach 3 (parametric)",
};

/** Each approach's short label in the audit tables, the recommended row's first. */
export const APPROACH_LABELS: Record<TableRow["approach"], string> = {
  recommended: "recommended",
  isoflop: "2 IsoFLOP",
  parametric: "3 parametric",
};

/** Order of the approaches in the audit tables: the recommended row first. */
const APPROACH_ORDER: Record<TableRow["approach"], number> = {
  recommended: 0,
  isoflop: 1,
  parametric: 2,
};

/** Where a recommended quantity comes from, in words. */
function sourceName(
  source: IntervalComponents["source"],
  quantity: "N" | "loss",
  identified: Recommendation["E_identified"] | undefined,
): string {
  if (source === "isoflop") {
    return quantity === "N" || identified?.isoflop === false
      ? "Approach 2's power law"
      : "Approach 2's loss frontier";
  }
  return `Approach 3's ${source} form`;
}

/**
 * The recommended rows' rule in one short phrase, e.g. "N from Approach 2's power law, loss from
 * Approach 3's joint form; past the data the intervals include model error from the sweep's own
 * history, and they are widened to the other approaches' forecasts where those disagree" (each
 * clause only when some recommended row's `interval_components` says so). The full rule is the
 * answer's `recommendation.rule`.
 *
 * @param fit The fit.
 * @returns The phrase, or "" when the fit has no recommendation.
 */
export function recommendationPhrase(fit: FitResult): string {
  const rec = fit.recommendation;
  const rows = fit.table.filter((r) => r.recommended === true);
  const first = rows[0]?.interval_components;
  const sources = rec?.sources ??
    (first === undefined ? undefined : { N: first.N.source, loss: first.loss.source });
  if (sources === undefined) return "";
  const ids = rec?.E_identified;
  const comps = rows.flatMap((r) =>
    r.interval_components === undefined ? [] : [r.interval_components.N, r.interval_components.loss]
  );
  const model = comps.some((c) => c.model_sd_log > 0);
  const widened = comps.some((c) => c.widened_to.length > 0);
  return `N from ${sourceName(sources.N, "N", ids)}, loss from ${
    sourceName(sources.loss, "loss", ids)
  }` +
    (model
      ? "; past the data the intervals include model error from the sweep's own history"
      : "") +
    (widened
      ? `${model ? ", and are" : "; intervals"} widened to the other approaches' forecasts ` +
        "where those disagree"
      : "");
}

/** Warning codes in plain words (the code itself follows, for looking it up in docs/fit.md). */
export const WARNING_LABELS: Record<FitWarning["code"], string> = {
  few_budgets: "Few budgets",
  budget_refused: "A budget could not be used",
  edge_optimum: "Optimum at the edge of a budget's sizes",
  extrapolation: "Far past the data",
  approaches_disagree: "The approaches disagree",
  not_converged: "Fit did not converge",
  boundary_exponent: "Exponent at its bound",
  bootstrap_failures: "Some bootstrap refits failed",
  bootstrap_reduced: "Fewer bootstrap resamples",
  flops_mismatch: "FLOPs do not match m·N·D",
  isoflop_unavailable: "Approach 2 unavailable",
  E_at_bound: "The floor E sits on a bound",
  frontier_unavailable: "No loss frontier",
  fragile_forecast: "Forecast hangs on one budget",
  backtest_miss: "Held-out forecast missed",
  sensitivity_skipped: "Leave-one-out skipped",
  E_unidentified: "The runs do not pin down the floor E",
  E_not_applied: "The requested E constraint was not applied",
  below_floor: "Forecast below the known floor",
};

/** Warning codes about E, listed from the E = entropy fit too. */
const E_CODES = new Set<FitWarning["code"]>([
  "E_at_bound",
  "E_unidentified",
  "E_not_applied",
  "below_floor",
]);

/**
 * One warning as a markdown bullet in plain words: `- **Far past the data** (extrapolation): …`.
 *
 * @param w The warning.
 * @param from Which fit raised it, when not the E-free one.
 * @returns The line.
 */
export function warningLine(w: FitWarning, from?: string): string {
  return `- **${WARNING_LABELS[w.code] ?? w.code}** (${w.code}` +
    `${from === undefined ? "" : `, ${from}`}): ${plainExponents(w.message)}`;
}

/**
 * How far a row's budget lies past the data: `within the trained budgets` or
 * `10× past the largest trained budget`.
 *
 * @param extrapolation The budget over the largest data budget.
 * @returns The text.
 */
export function extrapolationText(extrapolation: number): string {
  return extrapolation <= 1.01
    ? "within the trained budgets"
    : `${times(extrapolation)} past the largest trained budget`;
}

/**
 * A headline's source in a few words: `recommended`, or `Approach 2†` for the fallback.
 *
 * @param h The headline.
 * @returns The text.
 */
export function headlineFrom(h: Headline): string {
  if (h.basis === "recommended") return "recommended";
  return `Approach ${h.row.approach === "isoflop" ? 2 : 3}†`;
}

/**
 * The fit label of a forecast check: `E free`, `E = entropy`, or, when the entropy was requested
 * but could not reach this forecast's loss, `E = entropy requested, not applied`.
 *
 * @param f The forecast check.
 * @returns The label.
 */
export function forecastFitLabel(f: ForecastCheck): string {
  if (f.fit === "free") return "E free";
  return f.eApplied ? "E = entropy" : "E = entropy requested, not applied";
}

/**
 * The answer as markdown: at each requested budget, "train N on D, expect L", with intervals.
 *
 * @param sweep The fitted sweep.
 * @param context Study context.
 * @returns Markdown lines (a heading and one bullet per budget).
 */
export function formatAnswer(sweep: SweepFit, context: SummaryContext): string[] {
  const bs = sweep.fit.bootstrap;
  const hs = headlines(sweep);
  const rec = hs.some((h) => h.basis === "recommended");
  const level = bs === null
    ? ""
    : `; ${Math.round(bs.confidence * 100)}% ${rec ? "intervals" : "bootstrap intervals"}`;
  const lines = [`## The answer (E free${level})`, ""];
  if (hs.length === 0) return [...lines, "- No budget could be tabulated (see the warnings)."];
  for (const h of hs) {
    const r = h.row;
    lines.push(
      `- **At C = ${sci(h.C)} FLOPs, train N = ${withInterval(r.N, r.ci?.N)} parameters on ` +
        `D = ${withInterval(r.D, r.ci?.D)} ${context.dataUnit}; expect loss ` +
        `${lossWithInterval(r.loss, r.ci?.loss)}** — ${extrapolationText(r.extrapolation)} ` +
        `(${headlineFrom(h)})`,
    );
  }
  if (rec) lines.push("", `Recommended: ${recommendationPhrase(sweep.fit)}.`);
  const fallback = hs.find((h) => h.basis === "fallback");
  if (fallback !== undefined) lines.push("", `† ${headlineBasis(fallback)}.`);
  return lines;
}

/**
 * The forecast check: for each held-out budget, each fit (E free / E = entropy) and approach,
 * the predicted optimum N and loss with intervals against the held-out budget's own vertex.
 *
 * @param sweep The fitted sweep.
 * @param context Study context.
 * @returns Markdown lines.
 */
export function formatForecastCheck(sweep: SweepFit, context: SummaryContext): string[] {
  const checks = sweep.checks;
  const backtest = sweep.fit.backtest!;
  const trained = backtest.train_budgets.map((b) => b.C);
  const lines: string[] = [];
  const held = [...new Set(checks.forecasts.map((f) => f.C))];
  const top = Math.max(...trained);
  lines.push(
    `## Forecast check: ${held.map(sci).join(", ")} held out ` +
      `(${times(Math.max(...held) / top)} above the largest fitted budget ${sci(top)})`,
  );
  lines.push("");
  lines.push(
    `The laws are refitted on the ${trained.length} budgets ${sci(Math.min(...trained))}–` +
      `${sci(top)} (${times(top / Math.min(...trained))}) and forecast the held-out ` +
      `budget's compute optimum; "observed" is that budget's own parabola vertex` +
      (checks.forecasts.some((f) => f.approach === "recommended")
        ? `; "recommended" is the recommended row's rule applied to the same budgets.`
        : "."),
  );
  lines.push("");
  const yesNo = (b: boolean | null) => b === null ? "—" : b ? "yes" : "**no**";
  const interval = (ci: [number, number] | null, f: (x: number) => string) =>
    ci === null ? "" : ` [${f(ci[0])}, ${f(ci[1])}]`;
  lines.push(markdownTable(
    [
      "held out",
      "fit",
      "approach",
      "N_opt predicted",
      "N_opt observed",
      "N error",
      "N inside",
      "loss predicted",
      "loss observed",
      "loss error",
      "loss inside",
    ],
    checks.forecasts.map((f) => [
      sci(f.C),
      forecastFitLabel(f),
      APPROACH_LABELS[f.approach],
      `${sig(f.N.predicted)}${interval(f.N.ci, sig)}`,
      sig(f.N.observed),
      signedPct(f.nErrorPct),
      yesNo(f.N.inside),
      `${loss4(f.loss.predicted)}${interval(f.loss.ci, loss4)}`,
      loss4(f.loss.observed),
      signedPct(f.loss.errorPct),
      yesNo(f.loss.inside),
    ]),
  ));
  lines.push("");
  const within = checks.forecasts.filter((f) =>
    Math.abs(f.loss.errorPct) <= FORECAST_TARGETS.lossErrorPct
  );
  const nInside = checks.forecasts.filter((f) => f.N.inside === true);
  const name = (f: ForecastCheck) =>
    `${{ recommended: "recommended", isoflop: "A2", parametric: "A3" }[f.approach]} ` +
    forecastFitLabel(f);
  lines.push(
    `- Optimum loss within ${FORECAST_TARGETS.lossErrorPct} %: ` +
      `${within.length} of ${checks.forecasts.length} forecasts` +
      (within.length > 0 ? ` (${within.map(name).join(", ")})` : "") + ".",
  );
  lines.push(
    `- Observed N_opt inside the predicted interval: ${nInside.length} of ` +
      `${checks.forecasts.length}` +
      (nInside.length > 0 ? ` (${nInside.map(name).join(", ")})` : "") + ".",
  );
  if (context.entropyNats !== undefined) {
    const eCi = sweep.fit.backtest === null ? undefined : sweep.fit.bootstrap?.parametric.E;
    lines.push(
      `- Irreducible loss (all budgets, E free): E = ` +
        `${lossWithInterval(sweep.fit.parametric.E, eCi)}` +
        ` against the source's entropy rate ${loss4(context.entropyNats)} nats/token` +
        (checks.entropyInsideE === undefined
          ? "."
          : checks.entropyInsideE
          ? ": inside the interval."
          : ": **outside** the interval."),
    );
  }
  return lines;
}

/**
 * The laws of one fit as bullet lines; every interval follows the parameter it belongs to
 * (`a = 0.446 [0.379, 0.526]`).
 */
function formatLaws(fit: FitResult, label: string): string[] {
  const p = fit.parametric;
  const bs = fit.bootstrap;
  const param = (
    name: string,
    value: number,
    key: string,
    group: "parametric" | "isoflop" = "parametric",
  ) =>
    `${name} = ${
      withInterval(value, group === "parametric" ? bs?.parametric[key] : bs?.isoflop?.[key])
    }`;
  const lines: string[] = [];
  // A constraint is named only where the rows say it was applied.
  const applied = (approach: TableRow["approach"]) => {
    const rows = fit.table.filter((r) => r.approach === approach);
    return label === "E free" || rows.length === 0 || rows.some((r) => r.E_constraint !== "free")
      ? label
      : `${label} requested, not applied (E_constraint free)`;
  };
  if (fit.isoflop !== null) {
    const iso = fit.isoflop;
    const frontier = iso.loss_frontier;
    lines.push(
      `- ${applied("isoflop")}, Approach 2 (IsoFLOP parabolas, ${iso.n_used} budgets): ` +
        `N_opt = k·C^a with ${param("k", iso.N_opt.k, "k_N", "isoflop")}, ` +
        `${param("a", iso.a, "a", "isoflop")} (R² ${iso.N_opt.r2.toFixed(3)}); ` +
        `D_opt = k·C^b with ${param("k", iso.D_opt.k, "k_D", "isoflop")}, ` +
        `${param("b", iso.b, "b", "isoflop")} (R² ${iso.D_opt.r2.toFixed(3)}); ` +
        (frontier === null
          ? `L_opt = k·C^c with k = ${sig(iso.loss_opt.k)}, c = ${sig(iso.loss_opt.exponent)}`
          : `L_opt = E + k·C^−γ (the frontier floored at E) with ` +
            `${param("E", frontier.E, "E_frontier", "isoflop")}, ` +
            `${param("k", frontier.k, "k_frontier", "isoflop")}, ` +
            `${param("γ", frontier.gamma, "gamma_frontier", "isoflop")}`) +
        ".",
    );
  } else {
    lines.push(`- ${label}, Approach 2: unavailable (see warnings).`);
  }
  lines.push(
    `- ${applied("parametric")}, Approach 3 (parametric): L(N, D) = E + A/N^α + B/D^β with ` +
      `${param("E", p.E, "E")}, ${param("A", p.A, "A")}, ${param("B", p.B, "B")}, ` +
      `${param("α", p.alpha, "alpha")}, ${param("β", p.beta, "beta")}; ` +
      `N_opt ∝ C^a with ${param("a", p.a, "a")}, D_opt ∝ C^b with ${param("b", p.b, "b")}` +
      ` (${p.converged ? "converged" : `not converged: ${p.status}`})`,
  );
  return lines;
}

/** A signed percentage with one decimal: `+0.4 %`. */
function signedPct(x: number): string {
  return `${x >= 0 ? "+" : ""}${x.toFixed(1)} %`;
}

/**
 * The compute-optimal table as markdown: one row per table budget and approach.
 *
 * @param sweep The fitted sweep.
 * @returns | C | approach | N_opt | D_opt | D/N | predicted loss | rows with intervals, the
 *   recommended row first at each budget (its intervals include model error).
 */
export function formatTable(sweep: SweepFit): string {
  const wanted = new Set(sweep.tableBudgets);
  const rows = sweep.fit.table.filter((r) => wanted.has(r.C))
    .sort((a, b) => a.C - b.C || APPROACH_ORDER[a.approach] - APPROACH_ORDER[b.approach]);
  return markdownTable(
    ["C (FLOPs)", "approach", "N_opt", "D_opt", "D/N", "predicted loss"],
    rows.map(tableRow),
  );
}

function tableRow(r: TableRow): string[] {
  const withCi = (v: number, ci: [number, number] | undefined, f: (x: number) => string) =>
    ci === undefined ? f(v) : `${f(v)} [${f(ci[0])}, ${f(ci[1])}]`;
  const extrapolated = r.extrapolation > 1.01 ? ` (×${times(r.extrapolation).slice(0, -1)})` : "";
  return [
    `${sci(r.C)}${extrapolated}`,
    APPROACH_LABELS[r.approach],
    withCi(r.N, r.ci?.N, sig),
    withCi(r.D, r.ci?.D, sig),
    withCi(r.D_per_N, r.ci?.D_per_N, sig),
    withCi(r.loss, r.ci?.loss, loss4),
  ];
}
