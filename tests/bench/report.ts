/**
 * BENCHMARKS.md, written section by section: each bench owns the block between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, so running one bench rewrites its own
 * figures and keeps everyone else's.
 *
 * @module
 */

/** Title line at the top of a fresh BENCHMARKS.md. */
const HEADER =
  "# Benchmarks\n\nWritten by `deno task bench` (`tests/bench/mod.ts`); each section " +
  "is rewritten by its own bench and dated. Machine and conditions are stated per section.\n";

/**
 * Replace (or append) one named section of a benchmarks document.
 *
 * @param doc The current document ("" for none).
 * @param name Section name, e.g. `load`.
 * @param body The section's markdown.
 * @returns The new document.
 *
 * @example
 * ```ts
 * import { updateSection } from "./report.ts";
 * const doc = updateSection(updateSection("", "a", "one"), "a", "two");
 * if (!doc.includes("two") || doc.includes("one")) throw new Error("unexpected");
 * ```
 */
export function updateSection(doc: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${body.trim()}\n${close}`;
  const base = doc.trim() === "" ? HEADER : doc;
  const start = base.indexOf(open);
  const end = base.indexOf(close);
  if (start !== -1 && end > start) {
    return base.slice(0, start) + block + base.slice(end + close.length);
  }
  return `${base.trimEnd()}\n\n${block}\n`;
}

/**
 * Rewrite one section of the file at `path`, creating the file when absent.
 *
 * @param path Path of BENCHMARKS.md.
 * @param name Section name.
 * @param body The section's markdown.
 */
export async function writeSection(path: string | URL, name: string, body: string): Promise<void> {
  let doc = "";
  try {
    doc = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.writeTextFile(path, updateSection(doc, name, body));
}

/**
 * The conditions a section was measured under, as one sentence: date, OS, CPU model, cores,
 * Deno version and the 1-minute load average when the run started.
 *
 * @example
 * ```ts
 * import { machineLine } from "./report.ts";
 * if (!/cores, Deno /.test(machineLine())) throw new Error("unexpected");
 * ```
 */
export function machineLine(): string {
  let cpu = "unknown CPU";
  try {
    cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? cpu;
  } catch {
    // Not Linux, or no read permission.
  }
  let load = "";
  try {
    load = `, load average ${Deno.loadavg()[0].toFixed(2)} at the start`;
  } catch {
    // No --allow-sys.
  }
  return `${new Date().toISOString().slice(0, 10)}, ${Deno.build.os}, ${cpu}, ` +
    `${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}${load}.`;
}
