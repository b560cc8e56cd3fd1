/**
 * The one markdown table writer: the fit's compute-optimal table, the sweep report's tables and
 * the generated docs tables all go through {@linkcode markdownTable}.
 *
 * @module
 */

/**
 * A GitHub-flavoured markdown table: a header row, a `| --- |` rule, one row per entry. Cells
 * are written as given (escape `|` in them yourself).
 *
 * @param header Column titles.
 * @param rows Cells, one array per row, as many as the header has.
 * @returns The table's lines joined with `\n` (no trailing newline).
 *
 * @example
 * ```ts
 * import { markdownTable } from "./markdown.ts";
 * const md = markdownTable(["a", "b"], [["1", "2"]]);
 * if (md !== "| a | b |\n| --- | --- |\n| 1 | 2 |") throw new Error("unexpected");
 * ```
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}
