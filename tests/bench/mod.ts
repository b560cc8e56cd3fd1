/**
 * `deno task bench [NAME…]`: run every bench section (or the named ones) and rewrite their
 * sections of BENCHMARKS.md. A section is a module exporting `run(): Promise<string>`.
 *
 * @module
 */
import { writeSection } from "./report.ts";
import * as fit from "./fit.ts";
import * as data from "./data.ts";
import * as train from "./train.ts";
import * as load from "./load.ts";
import * as kernels from "./kernels.ts";
import * as trainFast from "./train_fast.ts";
import * as sweep from "./sweep.ts";
import * as queue from "./queue.ts";
import * as webgpu from "./webgpu.ts";

/** Every bench section, by name, in report order. Add a line per section. */
const SECTIONS: Record<string, { run: () => Promise<string> }> = {
  fit,
  data,
  kernels,
  train_fast: trainFast,
  train,
  webgpu,
  sweep,
  queue,
  load,
};

if (import.meta.main) {
  const wanted = Deno.args.length > 0 ? Deno.args : Object.keys(SECTIONS);
  const target = new URL("../../BENCHMARKS.md", import.meta.url);
  for (const name of wanted) {
    const section = SECTIONS[name];
    if (section === undefined) {
      console.error(`unknown bench section ${name}; known: ${Object.keys(SECTIONS).join(", ")}`);
      Deno.exit(2);
    }
    console.error(`bench: ${name}…`);
    try {
      const markdown = await section.run();
      console.log(markdown);
      await writeSection(target, name, markdown);
    } catch (error) {
      // One failing section must not cost the others their figures; the exit code says so.
      console.error(`bench: ${name} failed: ${error instanceof Error ? error.message : error}`);
      Deno.exitCode = 1;
    }
  }
  // Keep `deno task check` (fmt --check) clean: format the file the way deno fmt wants it.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", target.pathname], stderr: "null" })
    .output();
}
