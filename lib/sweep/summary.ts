/**
 * The sweep's markdown summary: the compute-optimal table, both approaches' laws with CIs, the
 * checks and warnings (printed by the CLI and written to `summary.md`).
 *
 * @module
 */
import type { FitResult, TableRow } from "../fit/mod.ts";
import {
  E_COLLAPSED_NATS,
  type FitLoss,
  FORECAST_TARGETS,
  type ForecastCheck,
  type SweepFit,
} from "./sweep_fit.ts";
import { markdownTable } from "../markdown.ts";

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

/**
 * The study as markdown (printed by the CLI and written to `summary.md`): the forecast check
 * first when a budget was held out, then the compute-optimal table, both approaches' laws with
 * CIs (E free, and E fixed at the source's entropy when it is known), checks and warnings.
 *
 * @param sweep The fitted sweep (with its checks).
 * @param context Study context.
 * @returns Markdown text.
 */
export function formatSummary(sweep: SweepFit, context: SummaryContext): string {
  const { fit, checks } = sweep;
  const bs = fit.bootstrap;
  const level = bs === null ? "" : ` (${Math.round(bs.confidence * 100)}% bootstrap CIs, ` +
    `${bs.n_resamples} resamples)`;
  const lines: string[] = [];
  lines.push(`# Scaling study: ${context.name}`);
  lines.push("");
  lines.push(
    `${context.family} on ${context.dataset}, ${context.points} runs on ${fit.budgets.length} ` +
      `IsoFLOP budgets` + (context.mock ? " — **mock losses from a known law**" : "") +
      (context.wallS === undefined ? "" : `, trained in ${context.wallS.toFixed(0)} s`) +
      `. Fitted loss: ${
        context.fitLoss === "eval_loss" ? "held-out (eval) loss" : "training loss"
      }` +
      `; D counts ${context.dataUnit}.`,
  );
  if (context.trainedBy !== undefined) lines.push("", context.trainedBy);
  if (checks.forecasts.length > 0) {
    lines.push("");
    lines.push(...formatForecastCheck(sweep, context));
  }
  if (context.rounds !== undefined) {
    lines.push("");
    lines.push(...context.rounds);
  }
  lines.push("");
  lines.push(`## Compute-optimal table (all budgets, E free)${level}`);
  lines.push("");
  lines.push(formatTable(sweep));
  lines.push("");
  lines.push(`## Laws${level}`);
  lines.push("");
  lines.push(...formatLaws(fit, "E free"));
  if (sweep.constrained !== null) lines.push(...formatLaws(sweep.constrained, "E = entropy"));
  if (context.entropyNats !== undefined) {
    const p = fit.parametric;
    const gap = p.E - context.entropyNats;
    const eCi = bs?.parametric.E;
    lines.push(
      `- Irreducible loss: fitted E = ${p.E.toFixed(4)} nats` +
        (eCi === undefined ? "" : ` [${eCi[0].toFixed(4)}, ${eCi[1].toFixed(4)}]`) +
        ` vs the source's true entropy ${context.entropyNats.toFixed(4)} nats/token: ` +
        `gap E − H = ${gap >= 0 ? "+" : ""}${gap.toFixed(4)} nats ` +
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
  if (fit.warnings.length > 0) {
    lines.push("");
    lines.push("## Warnings");
    lines.push("");
    for (const w of fit.warnings) lines.push(`- ${w.code}: ${w.message}`);
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
      b.loss_opt === null ? "—" : b.loss_opt.toFixed(4),
      b.N === null ? (b.reason ?? "—") : b.N.coefficients[2].toFixed(4),
      b.N?.edge ? "yes" : "no",
    ]),
  ));
  return lines.join("\n") + "\n";
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
      `(${(Math.max(...held) / top).toPrecision(2)}× above the largest fitted budget ${sci(top)})`,
  );
  lines.push("");
  lines.push(
    `The laws are refitted on the ${trained.length} budgets ${sci(Math.min(...trained))}–` +
      `${sci(top)} (${(top / Math.min(...trained)).toPrecision(2)}×) and forecast the held-out ` +
      `budget's compute optimum; "observed" is that budget's own parabola vertex.`,
  );
  lines.push("");
  const yesNo = (b: boolean | null) => b === null ? "—" : b ? "yes" : "**no**";
  const interval = (ci: [number, number] | null, f: (x: number) => string) =>
    ci === null ? "" : ` [${f(ci[0])}, ${f(ci[1])}]`;
  const loss4 = (x: number) => x.toFixed(4);
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
      f.fit === "free" ? "E free" : "E = entropy",
      f.approach === "isoflop" ? "2 IsoFLOP" : "3 parametric",
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
    `${f.approach === "isoflop" ? "A2" : "A3"} ${f.fit === "free" ? "E free" : "E = entropy"}`;
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
      `- Irreducible loss (all budgets, E free): E = ${sweep.fit.parametric.E.toFixed(4)}` +
        (eCi === undefined ? "" : ` [${eCi[0].toFixed(4)}, ${eCi[1].toFixed(4)}]`) +
        ` against the source's entropy rate ${context.entropyNats.toFixed(4)} nats/token` +
        (checks.entropyInsideE === undefined
          ? "."
          : checks.entropyInsideE
          ? ": inside the interval."
          : ": **outside** the interval."),
    );
  }
  return lines;
}

/** The laws of one fit as bullet lines. */
function formatLaws(fit: FitResult, label: string): string[] {
  const p = fit.parametric;
  const bs = fit.bootstrap;
  const ci = (name: string, group: "parametric" | "isoflop" = "parametric") => {
    const interval = group === "parametric" ? bs?.parametric[name] : bs?.isoflop?.[name];
    return interval === undefined ? "" : ` [${sig(interval[0])}, ${sig(interval[1])}]`;
  };
  const lines: string[] = [];
  if (fit.isoflop !== null) {
    const iso = fit.isoflop;
    const frontier = iso.loss_frontier;
    lines.push(
      `- ${label}, Approach 2 (IsoFLOP parabolas, ${iso.n_used} budgets): ` +
        `N_opt = ${sig(iso.N_opt.k)}·C^${iso.a.toFixed(3)}${ci("a", "isoflop")}, ` +
        `D_opt = ${sig(iso.D_opt.k)}·C^${iso.b.toFixed(3)}${ci("b", "isoflop")}, ` +
        (frontier === null
          ? `L_opt = ${sig(iso.loss_opt.k)}·C^${iso.loss_opt.exponent.toFixed(4)}`
          : `L_opt = ${sig(frontier.E)}${ci("E_frontier", "isoflop")} + ` +
            `${sig(frontier.k)}·C^-${frontier.gamma.toFixed(3)}${
              ci("gamma_frontier", "isoflop")
            }`) +
        ` (R² ${iso.N_opt.r2.toFixed(3)} / ${iso.D_opt.r2.toFixed(3)})`,
    );
  } else {
    lines.push(`- ${label}, Approach 2: unavailable (see warnings).`);
  }
  lines.push(
    `- ${label}, Approach 3 (parametric): L(N, D) = E + A/N^α + B/D^β with ` +
      `E = ${sig(p.E)}${ci("E")}, A = ${sig(p.A)}${ci("A")}, B = ${sig(p.B)}${ci("B")}, ` +
      `α = ${sig(p.alpha)}${ci("alpha")}, β = ${sig(p.beta)}${ci("beta")}; ` +
      `N_opt ∝ C^${p.a.toFixed(3)}${ci("a")}, D_opt ∝ C^${p.b.toFixed(3)}${ci("b")}` +
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
 * @returns | C | approach | N_opt | D_opt | D/N | predicted loss | rows with CIs.
 */
export function formatTable(sweep: SweepFit): string {
  const wanted = new Set(sweep.tableBudgets);
  const rows = sweep.fit.table.filter((r) => wanted.has(r.C))
    .sort((a, b) => a.C - b.C || (a.approach < b.approach ? -1 : 1));
  return markdownTable(
    ["C (FLOPs)", "approach", "N_opt", "D_opt", "D/N", "predicted loss"],
    rows.map(tableRow),
  );
}

function tableRow(r: TableRow): string[] {
  const withCi = (v: number, ci: [number, number] | undefined, f: (x: number) => string) =>
    ci === undefined ? f(v) : `${f(v)} [${f(ci[0])}, ${f(ci[1])}]`;
  const extrapolated = r.extrapolation > 1.01 ? ` (×${r.extrapolation.toPrecision(2)})` : "";
  return [
    `${sci(r.C)}${extrapolated}`,
    r.approach === "isoflop" ? "2 IsoFLOP" : "3 parametric",
    withCi(r.N, r.ci?.N, sig),
    withCi(r.D, r.ci?.D, sig),
    withCi(r.D_per_N, r.ci?.D_per_N, (x) => x.toPrecision(3)),
    withCi(r.loss, r.ci?.loss, (x) => x.toFixed(4)),
  ];
}

/**
 * Three significant digits, exponent form outside [1e-3, 1e5).
 *
 * @param x A number.
 * @returns The text.
 */
export function sig(x: number): string {
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(2).replace("e+", "e");
  return x.toPrecision(3);
}

/**
 * A FLOP count in exponent form: `3.0e11`.
 *
 * @param x FLOPs.
 * @returns The text.
 */
export function sci(x: number): string {
  return x.toExponential(1).replace("e+", "e");
}
