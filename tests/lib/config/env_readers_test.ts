/**
 * `Deno.env` is read only by the configuration (`lib/config/`), and the process environment
 * reaches a program only through its configuration module: a scan of the sources.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../../", import.meta.url);

/** Source folders and files of the program (tests, examples and docs are not scanned). */
const SOURCES = ["lib", "routes", "data", "models", "main.ts", "mod.ts"];

/** The one module that touches `Deno.env`. */
const ENV_MODULES = new Set(["lib/config/environment.ts"]);

/** The configuration modules: one per program, and the settings they share. */
const CONFIG_MODULES = new Set([
  "lib/config/environment.ts",
  "lib/config/settings.ts",
  "lib/config/mod.ts",
  "lib/service/config.ts",
  "lib/sweep/cli_config.ts",
  "lib/queue/worker_config.ts",
]);

async function* sourceFiles(path: string): AsyncGenerator<string> {
  const info = await Deno.stat(new URL(path, ROOT));
  if (info.isFile) {
    if (path.endsWith(".ts")) yield path;
    return;
  }
  for await (const entry of Deno.readDir(new URL(path, ROOT))) {
    yield* sourceFiles(`${path}/${entry.name}`);
  }
}

/** The file's code with comments removed (a comment may name `Deno.env`). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

Deno.test("Deno.env is read only by lib/config/, processEnvironment() only by configuration modules", async () => {
  const offenders: string[] = [];
  let scanned = 0;
  for (const root of SOURCES) {
    for await (const path of sourceFiles(root)) {
      scanned++;
      const text = code(await Deno.readTextFile(new URL(path, ROOT)));
      if (/\bDeno\s*\.\s*env\b/.test(text) && !ENV_MODULES.has(path)) {
        offenders.push(`${path}: Deno.env`);
      }
      if (/\bprocessEnvironment\s*\(/.test(text) && !CONFIG_MODULES.has(path)) {
        offenders.push(`${path}: processEnvironment()`);
      }
    }
  }
  assert.ok(scanned > 100, `only ${scanned} files scanned`);
  assert.deepEqual(offenders, []);
});
