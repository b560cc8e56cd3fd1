/**
 * `deno task docs`: rewrite the generated tables in the README and docs/ (see `tables.ts`), then
 * format them. `--check` only reports which files are out of date (exit 1).
 *
 * @module
 */
import { GENERATED_FILES, GENERATED_TABLES, replaceGenerated } from "./tables.ts";

const ROOT = new URL("../../", import.meta.url);

/**
 * The files whose generated sections differ from what the code says now.
 *
 * @param write Whether to rewrite them.
 * @returns Paths (relative to the repository) that were, or would be, changed.
 */
export async function updateDocs(write: boolean): Promise<string[]> {
  const changed: string[] = [];
  for (const [path, names] of Object.entries(GENERATED_FILES)) {
    const url = new URL(path, ROOT);
    const text = await Deno.readTextFile(url);
    const tables = Object.fromEntries(names.map((n) => [n, GENERATED_TABLES[n]!()]));
    const next = await format(replaceGenerated(text, tables));
    if (next === text) continue;
    changed.push(path);
    if (write) await Deno.writeTextFile(url, next);
  }
  return changed;
}

/** `deno fmt` of a markdown text (the committed docs are formatted; tables get aligned). */
async function format(markdown: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const changed = await updateDocs(!check);
  for (const path of changed) console.log(`${check ? "out of date" : "updated"}: ${path}`);
  if (check && changed.length > 0) Deno.exit(1);
}
