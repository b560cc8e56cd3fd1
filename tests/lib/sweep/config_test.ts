import assert from "node:assert/strict";
import { configFromCli, parseCliArgs } from "../../../lib/sweep/cli.ts";
import { outputDir, PRESETS, resolveSweepConfig } from "../../../lib/sweep/config.ts";
import { checkableThreshold } from "../../../lib/fit/mod.ts";
import { getDataset } from "../../../data/mod.ts";

Deno.test("resolveSweepConfig() defaults to the gpt-synthetic preset with documented defaults", () => {
  const config = resolveSweepConfig();
  assert.equal(config.name, "gpt-synthetic");
  assert.equal(config.family, "gpt");
  assert.equal(config.trainers.length, 0);
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
  assert.throws(() => resolveSweepConfig({ file: { budgets: [0] } }), /budgets\[0\]/);
  assert.throws(() => resolveSweepConfig({ file: { workers: ["not a url"] } }), /workers\[0\]/);
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
  assert.deepEqual(config.trainers, ["http://a:1", "http://b:2"]);
  assert.equal(config.mock, true);
  assert.equal(config.out, "/tmp/x");
  assert.equal(config.sizes_per_budget, 7);
});

Deno.test("parseCliArgs() rejects unknown flags and malformed numbers by name", () => {
  assert.throws(() => parseCliArgs(["--frobnicate"]), /frobnicate/);
  assert.throws(() => parseCliArgs(["--budgets", "1e9,lots"]), /--budgets: "lots"/);
  assert.throws(() => parseCliArgs(["--workers", "ftp://x"]), /ftp:\/\/x/);
});

Deno.test("--adaptive turns on adaptive rounds with the defaults, keeping a sweep file's settings", async () => {
  const plain = await configFromCli(parseCliArgs([]));
  assert.equal(plain.adaptive, undefined);
  const flagged = await configFromCli(parseCliArgs(["--adaptive"]));
  assert.deepEqual(flagged.adaptive, { max_rounds: 4, n_opt_ratio: 2, bootstrap: 200 });
  const dir = await Deno.makeTempDir();
  const file = `${dir}/study.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ adaptive: { max_rounds: 2, target_flops: 1e12 } }),
  );
  const fromFile = await configFromCli(parseCliArgs(["--adaptive", "--config", file]));
  assert.equal(fromFile.adaptive?.max_rounds, 2);
  assert.equal(fromFile.adaptive?.target_flops, 1e12);
  assert.throws(
    () => resolveSweepConfig({ file: { adaptive: { n_opt_ratio: 1 } } }),
    /adaptive\.n_opt_ratio/,
  );
  assert.throws(() => resolveSweepConfig({ file: { adaptive: { rounds: 3 } } }), /adaptive/);
  assert.throws(() => resolveSweepConfig({ file: { replicates: 0 } }), /replicates/);
  assert.throws(() => resolveSweepConfig({ file: { hold_out_above: -1 } }), /hold_out_above/);
});

Deno.test("the default study is a proof: ≥ 4 fitted budgets over ≥ 10× and one held out ≥ 10× above", () => {
  const config = resolveSweepConfig();
  const threshold = checkableThreshold(config.budgets)!;
  const fitted = config.budgets.filter((b) => b <= threshold);
  const held = config.budgets.filter((b) => b > threshold);
  assert.ok(fitted.length >= 4, `${fitted.length} fitted budgets`);
  assert.ok(Math.max(...fitted) / Math.min(...fitted) >= 10 * (1 - 1e-12));
  assert.equal(held.length, 1);
  assert.ok(held[0]! / Math.max(...fitted) >= 10 * (1 - 1e-12));
  assert.equal(typeof getDataset(config.dataset).info.entropy_nats, "number");
});

Deno.test("--trainers names the trainer URLs; --workers and a sweep file's workers still do", async () => {
  const url = "http://gpu:8000";
  for (const flag of ["--trainers", "--workers"]) {
    const config = await configFromCli(parseCliArgs(["--mock", flag, url]));
    assert.deepEqual(config.trainers, [url], flag);
  }
  assert.deepEqual(resolveSweepConfig({ file: { workers: [url] } }).trainers, [url]);
  assert.deepEqual(resolveSweepConfig({ file: { trainers: [url] } }).trainers, [url]);
});
