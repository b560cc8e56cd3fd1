/**
 * The documentation tables that are generated, not written: the service's environment variables
 * (from the settings schema's defaults and descriptions, `lib/config/settings.ts`) and the
 * sweep CLI's flags (from its usage text, `lib/sweep/cli.ts`). `deno task docs` writes them
 * between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers; a test checks that
 * the committed docs match.
 *
 * @module
 */
import { ENV_VARS, SettingsSchema } from "../config/mod.ts";
import { USAGE } from "../sweep/mod.ts";
import { markdownTable } from "../markdown.ts";

/** A table cell's text with `|` escaped and `<`/`>` as entities (not HTML). */
function escapeCell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** A default as the docs show it: `1e15` for large powers of ten, `unset` for none. */
function formatDefault(value: unknown): string {
  if (value === undefined) return "unset";
  if (typeof value === "number") {
    const exponent = Math.log10(value);
    return value >= 1e6 && Number.isInteger(exponent) ? `1e${exponent}` : String(value);
  }
  if (typeof value === "string") return value === "" ? "empty" : value;
  return String(value);
}

/**
 * The environment-variables table: every variable of {@linkcode ENV_VARS}, its default (what the
 * schema fills in for an empty environment) and its meaning (the field's `.describe()`).
 *
 * @returns A markdown table.
 */
export function envVarsTable(): string {
  const defaults = SettingsSchema.parse({}) as Record<string, unknown>;
  const shape = SettingsSchema.shape as Record<string, { description?: string }>;
  const rows = Object.entries(ENV_VARS).map(([field, variable]) => [
    `\`${variable}\``,
    formatDefault(defaults[field]),
    escapeCell(shape[field]?.description ?? ""),
  ]);
  return markdownTable(["variable", "default", "meaning"], rows);
}

/** One flag line of the usage text: `  --name ARG   description` (or `-h, --help  …`). */
const FLAG_LINE = /^ {2}((?:-\w, )?--[\w-]+(?: [^\s].*?)?)\s{2,}(\S.*)$/;

/** A continuation of the previous flag's meaning: a line indented past the flag column. */
const CONTINUATION_LINE = /^ {6,}(\S.*)$/;

/**
 * The sweep CLI's flags table, read from its usage text: each `  --flag ARG   meaning` line,
 * with the more-indented lines under it joined to its meaning.
 *
 * @param usage The usage text. @default the CLI's `USAGE`
 * @returns A markdown table.
 */
export function sweepFlagsTable(usage: string = USAGE): string {
  const rows: string[][] = [];
  let last: string[] | undefined;
  for (const line of usage.split("\n")) {
    const match = FLAG_LINE.exec(line);
    if (match !== null) {
      last = [`\`${match[1]!.trim()}\``, escapeCell(match[2]!.trim())];
      rows.push(last);
      continue;
    }
    const more = CONTINUATION_LINE.exec(line);
    if (more !== null && last !== undefined) last[1] += " " + escapeCell(more[1]!.trim());
    else last = undefined;
  }
  return markdownTable(["flag", "meaning"], rows);
}

/** The generated tables by name, as they appear in the markers. */
export const GENERATED_TABLES: Record<string, () => string> = {
  "env-vars": envVarsTable,
  "sweep-flags": sweepFlagsTable,
};

/** Which generated tables each documentation file holds. */
export const GENERATED_FILES: Record<string, readonly string[]> = {
  "README.md": ["env-vars"],
  "docs/sweep.md": ["sweep-flags"],
};

/**
 * Replace the body of every `<!-- generated:NAME -->…<!-- /generated:NAME -->` section whose
 * NAME is in `tables` with that table.
 *
 * @param markdown The document.
 * @param tables Generated content by name.
 * @returns The document with the sections rewritten.
 * @throws {Error} When a section named in `tables` is missing from the document.
 *
 * @example
 * ```ts
 * import { replaceGenerated } from "./tables.ts";
 * const doc = "a\n<!-- generated:t -->\nold\n<!-- /generated:t -->\nb\n";
 * if (!replaceGenerated(doc, { t: "new" }).includes("-->\nnew\n<!--")) throw new Error("unexpected");
 * ```
 */
export function replaceGenerated(markdown: string, tables: Record<string, string>): string {
  let out = markdown;
  for (const [name, content] of Object.entries(tables)) {
    const open = `<!-- generated:${name} -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start === -1 || end === -1 || end < start) {
      throw new Error(`no ${open} … ${close} section`);
    }
    out = out.slice(0, start + open.length) + "\n" + content + "\n" + out.slice(end);
  }
  return out;
}
