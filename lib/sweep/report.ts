/**
 * The sweep's outputs: `fit.json`, `summary.md`, the SVG plots and one self-contained
 * `report.html`, written from one fitted sweep and its checks. The pieces live beside it:
 * `sweep_fit.ts` (the fit and checks), `summary.ts` (markdown), `html.ts` (the page),
 * `plots.ts` (the charts).
 *
 * @module
 */
import { renderHtml } from "./html.ts";
import { buildPlotSpecs, renderSvg } from "./plots.ts";
import { formatSummary, headlines, type SummaryContext } from "./summary.ts";
import type { SweepFit } from "./sweep_fit.ts";

/** Files written by {@linkcode writeReport}, relative to the output directory. */
export const REPORT_FILES = {
  fit: "fit.json",
  summary: "summary.md",
  html: "report.html",
  plots: ["hero.svg", "isoflop.svg", "optimal.svg", "frontier.svg", "approach3.svg"],
} as const;

/**
 * Write `fit.json`, `summary.md`, the SVG plots (the hero figure and four detail plots) and
 * `report.html` into a directory.
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
      { study: context, checks: sweep.checks, ...sweep.fit, constrained: sweep.constrained },
      null,
      2,
    ) + "\n",
  );
  await Deno.writeTextFile(`${dir}/${REPORT_FILES.summary}`, summary);
  const specs = buildPlotSpecs({
    runs: sweep.runs,
    fit: sweep.fit,
    dataUnit: context.dataUnit,
    answer: headlines(sweep).map((h) => h.row),
    heldOut: new Set(
      sweep.runs.filter((r) => sweep.holdOutAbove !== null && r.C > sweep.holdOutAbove)
        .map((r) => r.budget),
    ),
    ...(context.entropyNats === undefined ? {} : { entropyNats: context.entropyNats }),
  });
  const svgs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const svg = await renderSvg(spec);
    svgs[name] = svg;
    await Deno.writeTextFile(`${dir}/${name}.svg`, svg);
  }
  await Deno.writeTextFile(`${dir}/${REPORT_FILES.html}`, renderHtml({ sweep, context, svgs }));
  return summary;
}
