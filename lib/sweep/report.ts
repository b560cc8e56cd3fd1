/**
 * The sweep's outputs: fit the finished points with the same library as `POST /v1/fit`, then
 * write `fit.json`, `summary.md`, the SVG plots and one self-contained `report.html`.
 *
 * @module
 */
import { type FitResult, fitScalingLaws, type TableRow } from "../fit/mod.ts";
import { extrapolationWarning } from "../fit/warnings.ts";
import { buildPlotSpecs, type PlotRun, renderSvg } from "./plots.ts";
import type { ResultRecord } from "./results.ts";
import { median } from "../stats.ts";
import { markdownTable } from "../markdown.ts";

/** Which loss of each run the fit uses. */
export type FitLoss = "eval_loss" | "loss";

/** Inputs of {@linkcode fitSweep}. */
export interface FitSweepInput {
  /** Finished points. */
  records: readonly ResultRecord[];
  /** The swept budgets (FLOPs). */
  budgets: readonly number[];
  /** Budgets to tabulate; default: the swept ones, ×10 and ×100 of the largest. */
  tableBudgets?: readonly number[];
  /** Bootstrap resamples. */
  bootstrap: number;
  /** Seed of the bootstrap. */
  seed: number;
  /** Fit the held-out loss when runs report one (else the training loss). */
  fitLoss: FitLoss;
}

/** A fitted sweep. */
export interface SweepFit {
  /** The fitter's full answer. */
  fit: FitResult;
  /** The runs in the order they were fitted. */
  runs: PlotRun[];
  /** Budgets of the printed table. */
  tableBudgets: number[];
}

/**
 * A fitted E below this many nats counts as collapsed to zero: no language source here has an
 * entropy under 0.01 nats per token, so such an E says the data cannot see the floor.
 */
const E_COLLAPSED_NATS = 0.01;

/** Log-spaced budgets requested from the fit to draw smooth CI bands. */
const BAND_POINTS = 24;

/**
 * The budget label of a curve: the planned budget in compact exponent form, e.g. `3e+11`.
 *
 * @param flops Budget (FLOPs).
 * @returns The label.
 */
export function budgetLabel(flops: number): string {
  return flops.toExponential();
}

/**
 * Fit the finished points (Approaches 2 and 3 with bootstrap CIs).
 *
 * @param input Records, budgets and fit options.
 * @returns The fit and the runs as fitted.
 * @throws {FitInputError} When the points cannot be fitted (e.g. too few).
 */
export function fitSweep(input: FitSweepInput): SweepFit {
  const runs: PlotRun[] = [...input.records]
    .sort((a, b) => a.budget_flops - b.budget_flops || a.N - b.N)
    .map((r) => ({
      N: r.N,
      D: r.D,
      C: r.C,
      loss: input.fitLoss === "eval_loss" && r.eval_loss !== undefined ? r.eval_loss : r.loss,
      budget: budgetLabel(r.budget_flops),
    }));
  const largest = Math.max(...input.budgets);
  const tableBudgets = [
    ...(input.tableBudgets ?? [...input.budgets, largest * 10, largest * 100]),
  ].sort((a, b) => a - b);
  const lo = Math.min(...input.budgets) / 1.5;
  const hi = Math.max(...tableBudgets);
  const band = Array.from(
    { length: BAND_POINTS },
    (_, i) => lo * (hi / lo) ** (i / (BAND_POINTS - 1)),
  );
  const budgets = [...new Set([...tableBudgets, ...band])].sort((a, b) => a - b);
  const fit = fitScalingLaws({
    points: runs.map((r) => ({ N: r.N, D: r.D, loss: r.loss, C: r.C, budget: r.budget })),
    budgets,
    flops_per_param_token: flopsPerParamToken(runs),
    bootstrap: input.bootstrap,
    seed: input.seed,
  });
  // The band's budgets exist only to draw CI bands: count only the table's in the warning.
  const far = extrapolationWarning(fit.table.filter((r) => tableBudgets.includes(r.C)));
  fit.warnings = [
    ...fit.warnings.filter((w) => w.code !== "extrapolation"),
    ...(far === undefined ? [] : [far]),
  ];
  return { fit, runs, tableBudgets };
}

/**
 * The sweep's effective FLOPs per parameter per unit of D, m = median of C / (N·D), used by the
 * fit to turn a budget into (N, D) (C = m·N·D). The exact counts of tiny transformers exceed
 * Kaplan's 6 (attention over the context and the output head are large next to N), so the
 * default 6 would misplace Approach 3's optimum; the median is robust to the spread over sizes.
 *
 * @param runs The runs.
 * @returns m.
 */
export function flopsPerParamToken(runs: readonly { N: number; D: number; C: number }[]): number {
  return median(runs.map((r) => r.C / (r.N * r.D)));
}

/** What the study's checks found. */
export interface SweepChecks {
  /** Every budget's parabola has positive curvature (and was accepted). */
  positiveCurvature: boolean;
  /** N_opt rises with C across budgets. */
  nOptRising: boolean;
  /** Fitted E minus the source's entropy (nats), when the entropy is known. */
  entropyGap?: number;
}

/**
 * Check the two properties a sound IsoFLOP study shows.
 *
 * @param fit The fit.
 * @param entropyNats The source's true entropy, when known.
 * @returns The checks.
 */
export function checkSweep(fit: FitResult, entropyNats?: number): SweepChecks {
  const budgets = fit.isoflop?.budgets ?? [];
  const positiveCurvature = budgets.length > 0 &&
    budgets.every((b) => b.status === "ok" && b.N !== null && b.N.coefficients[2] > 0);
  const vertices = budgets.filter((b) => b.N !== null).sort((a, b) => a.C - b.C)
    .map((b) => b.N!.vertex);
  const nOptRising = vertices.length >= 2 &&
    vertices.every((v, i) => i === 0 || v > vertices[i - 1]!);
  return {
    positiveCurvature,
    nOptRising,
    ...(entropyNats === undefined ? {} : { entropyGap: fit.parametric.E - entropyNats }),
  };
}

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
  /** Which trainer trained which point (`trainersLine` in `trainers.ts`). */
  trainedBy?: string;
}

/**
 * The compute-optimal table and both approaches' laws with CIs, as markdown (printed by the CLI
 * and written to `summary.md`).
 *
 * @param sweep The fitted sweep.
 * @param context Study context.
 * @returns Markdown text.
 */
export function formatSummary(sweep: SweepFit, context: SummaryContext): string {
  const { fit } = sweep;
  const p = fit.parametric;
  const bs = fit.bootstrap;
  const ci = (name: string, group: "parametric" | "isoflop" = "parametric") => {
    const interval = group === "parametric" ? bs?.parametric[name] : bs?.isoflop?.[name];
    return interval === undefined ? "" : ` [${sig(interval[0])}, ${sig(interval[1])}]`;
  };
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
  lines.push("");
  lines.push(`## Compute-optimal table${level}`);
  lines.push("");
  lines.push(formatTable(sweep));
  lines.push("");
  lines.push(`## Laws${level}`);
  lines.push("");
  if (fit.isoflop !== null) {
    const iso = fit.isoflop;
    lines.push(
      `- Approach 2 (IsoFLOP parabolas, ${iso.n_used} budgets): ` +
        `N_opt = ${sig(iso.N_opt.k)}·C^${iso.a.toFixed(3)}${ci("a", "isoflop")}, ` +
        `D_opt = ${sig(iso.D_opt.k)}·C^${iso.b.toFixed(3)}${ci("b", "isoflop")}, ` +
        `L_opt = ${sig(iso.loss_opt.k)}·C^${iso.loss_opt.exponent.toFixed(4)} ` +
        `(R² ${iso.N_opt.r2.toFixed(3)} / ${iso.D_opt.r2.toFixed(3)})`,
    );
  } else {
    lines.push("- Approach 2: unavailable (see warnings).");
  }
  lines.push(
    `- Approach 3 (parametric): L(N, D) = E + A/N^α + B/D^β with ` +
      `E = ${sig(p.E)}${ci("E")}, A = ${sig(p.A)}${ci("A")}, B = ${sig(p.B)}${ci("B")}, ` +
      `α = ${sig(p.alpha)}${ci("alpha")}, β = ${sig(p.beta)}${ci("beta")}; ` +
      `N_opt ∝ C^${p.a.toFixed(3)}${ci("a")}, D_opt ∝ C^${p.b.toFixed(3)}${ci("b")}` +
      ` (${p.converged ? "converged" : `not converged: ${p.status}`})`,
  );
  if (context.entropyNats !== undefined) {
    const gap = p.E - context.entropyNats;
    const eCi = bs?.parametric.E;
    lines.push(
      `- Irreducible loss: fitted E = ${p.E.toFixed(4)} nats` +
        (eCi === undefined ? "" : ` [${eCi[0].toFixed(4)}, ${eCi[1].toFixed(4)}]`) +
        ` vs the source's true entropy ${context.entropyNats.toFixed(4)} nats/token: ` +
        `gap E − H = ${gap >= 0 ? "+" : ""}${gap.toFixed(4)} nats ` +
        `(${(100 * gap / context.entropyNats).toFixed(1)}%)` +
        (eCi === undefined
          ? ""
          : eCi[0] <= context.entropyNats && context.entropyNats <= eCi[1]
          ? "; the entropy lies inside E's interval."
          : "; the entropy lies outside E's interval."),
    );
  }
  if (p.E < E_COLLAPSED_NATS) {
    lines.push(
      `- E collapsed to ${sig(p.E)}: every run is still far above the floor, so these budgets ` +
        `cannot identify the irreducible loss (train larger budgets to pin it down).`,
    );
  }
  if (context.entropyNats !== undefined) {
    const below = sweep.fit.table.filter((r) =>
      sweep.tableBudgets.includes(r.C) && r.loss < context.entropyNats!
    );
    if (below.length > 0) {
      lines.push(
        `- ${below.length} table row(s) predict a loss below the source's entropy, which no ` +
          `model can reach: those extrapolations are beyond what the fitted form knows.`,
      );
    }
  }
  const checks = checkSweep(fit, context.entropyNats);
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

/** Files written by {@linkcode writeReport}, relative to the output directory. */
export const REPORT_FILES = {
  fit: "fit.json",
  summary: "summary.md",
  html: "report.html",
  plots: ["isoflop.svg", "optimal.svg", "frontier.svg", "approach3.svg"],
} as const;

/**
 * Write `fit.json`, `summary.md`, the four SVG plots and `report.html` into a directory.
 *
 * @param dir Output directory (exists).
 * @param sweep The fitted sweep.
 * @param context Study context.
 * @returns The markdown summary.
 */
export async function writeReport(
  dir: string,
  sweep: SweepFit,
  context: SummaryContext,
): Promise<string> {
  const summary = formatSummary(sweep, context);
  await Deno.writeTextFile(
    `${dir}/${REPORT_FILES.fit}`,
    JSON.stringify(
      { study: context, checks: checkSweep(sweep.fit, context.entropyNats), ...sweep.fit },
      null,
      2,
    ) + "\n",
  );
  await Deno.writeTextFile(`${dir}/${REPORT_FILES.summary}`, summary);
  const specs = buildPlotSpecs({
    runs: sweep.runs,
    fit: sweep.fit,
    dataUnit: context.dataUnit,
    ...(context.entropyNats === undefined ? {} : { entropyNats: context.entropyNats }),
  });
  const svgs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const svg = await renderSvg(spec);
    svgs[name] = svg;
    await Deno.writeTextFile(`${dir}/${name}.svg`, svg);
  }
  await Deno.writeTextFile(`${dir}/${REPORT_FILES.html}`, renderHtml(summary, svgs, context));
  return summary;
}

/**
 * One self-contained HTML page: the summary (markdown rendered to simple HTML) with the plots
 * inlined as SVG, no external resources and no scripts.
 *
 * @param summary The markdown summary.
 * @param svgs Plot name → SVG text.
 * @param context Study context.
 * @returns The HTML document.
 */
export function renderHtml(
  summary: string,
  svgs: Record<string, string>,
  context: SummaryContext,
): string {
  const figures = Object.entries(svgs).map(([name, svg]) =>
    `<figure id="plot-${name}">${svg.replace(/^<\?xml[^>]*>\s*/, "")}` +
    `<figcaption>${escapeHtml(name)}.svg</figcaption></figure>`
  ).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>flops-fit · ${escapeHtml(context.name)}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; }
code { background: #f3f3f3; padding: 0 3px; }
figure { margin: 1.5em 0; }
figcaption { color: #666; font-size: 12px; }
</style>
</head>
<body>
${markdownToHtml(summary)}
<h2>Plots</h2>
${figures}
</body>
</html>
`;
}

/**
 * The small markdown subset the summary uses (headings, paragraphs, bullet lists, tables,
 * `**bold**`) as HTML.
 *
 * @param markdown The summary.
 * @returns HTML.
 */
export function markdownToHtml(markdown: string): string {
  const out: string[] = [];
  const inline = (s: string) => escapeHtml(s).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>");
  const blocks = markdown.split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) continue;
    const first = lines[0]!;
    const heading = /^(#{1,6}) (.*)$/.exec(first);
    if (heading) {
      const level = heading[1]!.length;
      out.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
    } else if (first.startsWith("| ")) {
      const cells = (l: string) => l.replace(/^\|\s*|\s*\|$/g, "").split(/\s*\|\s*/);
      const head = cells(first).map((c) => `<th>${inline(c)}</th>`).join("");
      const body = lines.slice(2).map((l) =>
        `<tr>${cells(l).map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`
      ).join("\n");
      out.push(`<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`);
    } else if (first.startsWith("- ")) {
      out.push(`<ul>${lines.map((l) => `<li>${inline(l.replace(/^- /, ""))}</li>`).join("")}</ul>`);
    } else {
      out.push(`<p>${inline(lines.join(" "))}</p>`);
    }
  }
  return out.join("\n");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
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
