import assert from "node:assert/strict";
import { machineLine, updateSection, writeSection } from "./report.ts";

Deno.test("updateSection() replaces its own block and keeps the others", () => {
  let doc = updateSection("", "load", "| a |\n");
  doc = updateSection(doc, "fit", "fit figures");
  doc = updateSection(doc, "load", "| b |");
  assert.match(doc, /^# Benchmarks/);
  assert.ok(doc.includes("fit figures"));
  assert.ok(doc.includes("| b |") && !doc.includes("| a |"));
  assert.equal(doc.match(/<!-- bench:load -->/g)!.length, 1);
  assert.ok(doc.indexOf("bench:load") < doc.indexOf("bench:fit"));
});

Deno.test("writeSection() creates the file and rewrites a section in place", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/BENCHMARKS.md`;
  await writeSection(path, "x", "one");
  await writeSection(path, "y", "two");
  await writeSection(path, "x", "three");
  const doc = await Deno.readTextFile(path);
  assert.ok(doc.includes("three") && doc.includes("two") && !doc.includes("one"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("machineLine() states the date, OS, cores and Deno version of the run", () => {
  const line = machineLine();
  assert.match(line, /^\d{4}-\d{2}-\d{2}, \w+, .+, \d+ cores, Deno \d+\.\d+\.\d+/);
  assert.match(line, /load average \d+\.\d\d at the start\.$/);
});
