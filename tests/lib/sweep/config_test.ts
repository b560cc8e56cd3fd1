import assert from "node:assert/strict";
import { configFromCli, parseCliArgs } from "../../../lib/sweep/cli.ts";
import { outputDir, PRESETS, resolveSweepConfig } from "../../../lib/sweep/config.ts";

Deno.test("resolveSweepConfig() defaults to the gpt-synthetic preset with documented defaults", () => {
  const config = resolveSweepConfig();
  assert.equal(config.name, "gpt-synthetic");
  assert.equal(config.family, "gpt");
  assert.equal(config.workers.length, 0);
  assert.equal(config.retries, 3);
  assert.equal(config.bootstrap, 200);
  assert.equal(outputDir(config), "sweeps/gpt-synthetic");
  assert.equal(outputDir({ ...config, mock: true }), "sweeps/gpt-synthetic-mock");
});

Deno.test("resolveSweepConfig() layers preset < file < overrides and names a bad field", () => {
  const config = resolveSweepConfig({
    preset: "gpt-tinystories",
    file: { budgets: [1e12], width: 4 },
    overrides: { width: 8 },
  });
  assert.equal(config.dataset, "tinystories");
  assert.deepEqual(config.budgets, [1e12]);
  assert.equal(config.width, 8);
  assert.throws(() => resolveSweepConfig({ file: { budgets: [0] } }), /budgets\.0/);
  assert.throws(() => resolveSweepConfig({ file: { workers: ["not a url"] } }), /workers\.0/);
  assert.throws(() => resolveSweepConfig({ preset: "nope" }), /Unknown preset "nope"/);
  assert.throws(() => resolveSweepConfig({ file: [1, 2] }), /JSON object/);
});

Deno.test("every preset is a valid configuration", () => {
  for (const name of Object.keys(PRESETS)) {
    assert.equal(resolveSweepConfig({ preset: name }).name, name);
  }
});

Deno.test("parseCliArgs() maps flags onto configuration fields", async () => {
  const request = parseCliArgs([
    "--budgets",
    "1e9,3e9",
    "--workers",
    "http://a:1,http://b:2",
    "--mock",
    "--out",
    "/tmp/x",
    "--sizes-per-budget",
    "7",
    "--plan",
  ]);
  assert.equal(request.planOnly, true);
  const config = await configFromCli(request);
  assert.deepEqual(config.budgets, [1e9, 3e9]);
  assert.deepEqual(config.workers, ["http://a:1", "http://b:2"]);
  assert.equal(config.mock, true);
  assert.equal(config.out, "/tmp/x");
  assert.equal(config.sizes_per_budget, 7);
});

Deno.test("parseCliArgs() rejects unknown flags and malformed numbers by name", () => {
  assert.throws(() => parseCliArgs(["--frobnicate"]), /frobnicate/);
  assert.throws(() => parseCliArgs(["--budgets", "1e9,lots"]), /--budgets: "lots"/);
  assert.throws(() => parseCliArgs(["--workers", "ftp://x"]), /ftp:\/\/x/);
});
