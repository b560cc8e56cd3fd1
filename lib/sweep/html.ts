/**
 * `report.html`: the answer first (a headline per requested budget and the hero figure), then
 * the forecast check, then the details for auditors; plots inlined as SVG.
 *
 * @module
 */
import { loss4, sci, sig } from "./format.ts";
import {
  extrapolationText,
  headlineBasis,
  headlineFrom,
  headlines,
  recommendationPhrase,
  type SummaryContext,
  summaryParts,
} from "./summary.ts";
import type { SweepFit } from "./sweep_fit.ts";

/** Inputs of {@linkcode renderHtml}. */
export interface HtmlInput {
  /** The fitted sweep. */
  sweep: SweepFit;
  /** Study context. */
  context: SummaryContext;
  /** Plot name → SVG text; `hero` is drawn under the answer, the rest with the details. */
  svgs: Record<string, string>;
}

/** What each plot shows, as its caption. */
const CAPTIONS: Record<string, string> = {
  hero: "IsoFLOP curves (loss vs parameters at each budget) with their minima, the answer's " +
    "compute-optimal line through the requested budgets, and its forecast at each budget past the " +
    "data with its 95% interval box; the held-out budget's curve is dashed, beside the same " +
    "forecast made without it.",
  isoflop: "IsoFLOP curves: the fitted parabolas and their minima.",
  optimal: "N_opt and D_opt against compute: the recommended rows and both approaches' power " +
    "laws, each with its interval band.",
  frontier: "The compute-optimal loss against compute (the recommended rows and both " +
    "approaches), with the fitted floor E.",
  approach3: "Approach 3's predicted loss against the observed loss, one point per run.",
};

/**
 * One self-contained HTML page (no external resources, no scripts) that leads with the answer:
 * a headline per requested budget ("at C, train N on D, expect L", with intervals and how far it
 * extrapolates), then the hero figure, then the forecast check, then the details for auditors
 * (the tables, laws, checks, warnings and the other plots).
 *
 * @param input The fitted sweep, its context and the plots.
 * @returns The HTML document.
 */
export function renderHtml(input: HtmlInput): string {
  const { sweep, context, svgs } = input;
  const parts = summaryParts(sweep, context);
  const figure = (name: string) =>
    svgs[name] === undefined ? "" : `<figure id="plot-${escapeHtml(name)}">` +
      `${svgs[name]!.replace(/^<\?xml[^>]*>\s*/, "")}` +
      `<figcaption>${escapeHtml(CAPTIONS[name] ?? name)} (${escapeHtml(name)}.svg)</figcaption>` +
      `</figure>`;
  const others = Object.keys(svgs).filter((n) => n !== "hero").map(figure).join("\n");
  const terms = markdownToHtml(parts.intro.slice(1).join("\n"));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flops-fit · ${escapeHtml(context.name)}</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; max-width: 1180px; margin: 0.8em auto; padding: 0 1em; color: #222; }
h1 { font-size: 22px; margin: 0.2em 0; }
h2 { font-size: 18px; margin: 1.2em 0 0.4em; }
.lead { color: #444; margin: 0.2em 0 0.6em; font-size: 14px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 2px 7px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; }
table.answer { font-size: 14px; margin: 0.3em 0; }
table.answer td.main { font-weight: 600; }
table.answer .ci { color: #555; font-weight: 400; font-size: 12px; }
code { background: #f3f3f3; padding: 0 3px; }
figure { margin: 0.6em 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 12px; }
section.details { border-top: 2px solid #ddd; margin-top: 1.5em; }
@media print { section.details { break-before: page; } }
</style>
</head>
<body>
<header id="answer">
<h1>${inline(parts.title)}</h1>
<p class="lead">${inline(parts.intro[0] ?? "")}</p>
${answerTable(sweep, context)}
</header>
${figure("hero")}
${
    parts.forecast.length > 0
      // The terms ("E free", Approach 2/3) come before the first table that uses them.
      ? `<section id="forecast">\n${terms}\n${
        markdownToHtml(parts.forecast.join("\n"))
      }\n</section>`
      : ""
  }
<section class="details" id="details">
<h2>Details for auditors</h2>
${parts.forecast.length > 0 ? "" : terms}
${markdownToHtml(parts.details.join("\n"))}
<h2>Plots</h2>
${others}
</section>
</body>
</html>
`;
}

/** The answer as a compact table: one row per requested budget, intervals beside each value. */
function answerTable(sweep: SweepFit, context: SummaryContext): string {
  const hs = headlines(sweep);
  if (hs.length === 0) return "<p>No budget could be tabulated (see the warnings).</p>";
  const bs = sweep.fit.bootstrap;
  const level = bs === null ? "" : ` (${Math.round(bs.confidence * 100)}% intervals)`;
  const rec = hs.some((h) => h.basis === "recommended");
  const cell = (v: number, ci: readonly [number, number] | undefined, f: (x: number) => string) =>
    `<td class="main">${f(v)}` +
    (ci === undefined ? "" : ` <span class="ci">[${f(ci[0])}, ${f(ci[1])}]</span>`) + `</td>`;
  const rows = hs.map((h) => {
    const r = h.row;
    return `<tr><td class="main">${sci(h.C)}</td>${cell(r.N, r.ci?.N, sig)}` +
      `${cell(r.D, r.ci?.D, sig)}${cell(r.loss, r.ci?.loss, loss4)}` +
      `<td>${escapeHtml(extrapolationText(r.extrapolation))}</td>` +
      `<td>${escapeHtml(headlineFrom(h))}</td></tr>`;
  }).join("\n");
  const notes = [
    ...(rec ? [`Recommended: ${recommendationPhrase(sweep.fit)}.`] : []),
    ...(hs.some((h) => h.basis === "fallback")
      ? [`† ${headlineBasis(hs.find((h) => h.basis === "fallback")!)}.`]
      : []),
    "E is fitted (E free).",
  ];
  const fallback = `<p class="lead">${escapeHtml(notes.join(" "))}</p>`;
  return `<div class="scroll"><table class="answer"><caption style="text-align:left">` +
    `<strong>The answer${escapeHtml(level)}:</strong> at compute C, train N parameters on D ` +
    `${escapeHtml(context.dataUnit)}, expect loss L</caption>` +
    `<thead><tr><th>at C (FLOPs)</th><th>train N (parameters)</th>` +
    `<th>on D (${escapeHtml(context.dataUnit)})</th><th>expect loss L (nats)</th>` +
    `<th>extrapolation</th><th>from</th></tr></thead>\n<tbody>\n${rows}\n</tbody></table></div>\n` +
    fallback;
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
      out.push(
        `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`,
      );
    } else if (first.startsWith("- ")) {
      out.push(`<ul>${lines.map((l) => `<li>${inline(l.replace(/^- /, ""))}</li>`).join("")}</ul>`);
    } else {
      out.push(`<p>${inline(lines.join(" "))}</p>`);
    }
  }
  return out.join("\n");
}

/** Inline markdown: `**bold**` and `` `code` ``, everything else escaped. */
function inline(s: string): string {
  return escapeHtml(s).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/`([^`]+)`/g, "<code>$1</code>");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
