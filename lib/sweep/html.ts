/**
 * `report.html`: the markdown summary rendered to simple HTML with the plots inlined as SVG.
 *
 * @module
 */
import type { SummaryContext } from "./summary.ts";

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
