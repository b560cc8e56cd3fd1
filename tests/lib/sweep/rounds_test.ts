import assert from "node:assert/strict";
import { studyEnvironment } from "../../../lib/sweep/cli.ts";
import { resolveSweepConfig, type SweepFile } from "../../../lib/sweep/config.ts";
import { fitCurves } from "../../../lib/plan/isoflop.ts";
import { parseResults } from "../../../lib/sweep/results.ts";
import { observedPoints, readRounds } from "../../../lib/sweep/rounds.ts";
import { runSweep } from "../../../lib/sweep/sweep.ts";

/** A study whose prior puts every first grid far below the mock law's optimum. */
async function misplacedStudy(adaptive: SweepFile["adaptive"]) {
  const out = await Deno.makeTempDir({ prefix: "rounds-test-" });
  return resolveSweepConfig({
    overrides: {
      mock: true,
      out,
      bootstrap: 0,
      budgets: [3e9, 1e10, 3e10],
      prior: { k: 0.02, a: 0.5 },
      width: 6,
      adaptive,
    },
  });
}

function collector() {
  const lines: string[] = [];
  return { lines, write: (t: string) => lines.push(...t.split("\n")), tty: false, backoffMs: 1 };
}

Deno.test("adaptive rounds find and bracket an optimum that lies outside the first grids", async () => {
  const config = await misplacedStudy({ max_rounds: 4, n_opt_ratio: 1.05, bootstrap: 60 });
  const io = collector();
  const outcome = await runSweep(config, studyEnvironment(config), io);
  const rounds = outcome.rounds!;
  // Round 0's curves all have their optimum above the sampled sizes.
  const first = outcome.sweep!.runs.length;
  assert.ok(first > 15);
  assert.equal(rounds[0]!.kind, "planned");
  assert.equal(rounds[1]!.kind, "recentre");
  assert.equal(rounds[1]!.grids.length, 3);
  for (const reason of rounds[1]!.reasons) assert.match(reason, /fell above the sampled sizes/);
  // Re-centring adds only new sizes.
  for (const g of rounds[1]!.grids) {
    const before = rounds[0]!.grids.find((b) => b.budget_flops === g.budget_flops)!;
    const sizes = new Set(before.points.map((p) => p.size));
    assert.ok(g.points.every((p) => !sizes.has(p.size)), `C=${g.budget_flops}: new sizes only`);
  }
  // Then a budget round, scored by the pre-posterior bootstrap, with its reason.
  const budgetRound = rounds.find((r) => r.kind === "budget");
  assert.ok(budgetRound !== undefined, "a budget was added");
  assert.match(budgetRound.reasons[0]!, /narrows the 95 % interval of N_opt/);
  assert.ok(budgetRound.candidates!.length > 0);
  // In the end every budget's curve has an interior minimum.
  const dir = outcome.dir;
  const records = parseResults(await Deno.readFile(`${dir}/results.jsonl`)).records;
  for (const curve of fitCurves(observedPoints(records, config.fit_loss))) {
    assert.equal(curve.position, "inside", `C=${curve.C} brackets its optimum`);
  }
  assert.equal(outcome.sweep!.checks.positiveCurvature, true);
  const summary = await Deno.readTextFile(`${dir}/summary.md`);
  assert.match(summary, /## Adaptive rounds/);
  assert.match(summary, /\| 1 \| recentre \| 3\.0e9 \|/);
  assert.match(summary, /Stopped \(\w+\): /);
  assert.deepEqual(await readRounds(`${dir}/rounds.jsonl`), rounds);
});

Deno.test("a killed adaptive study resumes from its round log without retraining a point", async () => {
  const settings = { max_rounds: 3, n_opt_ratio: 1.05, bootstrap: 40 };
  // Uninterrupted reference.
  const reference = await misplacedStudy(settings);
  const ref = collector();
  const whole = await runSweep(reference, studyEnvironment(reference), ref);
  const trainedWhole = ref.lines.filter((l) => l.startsWith("done ")).length;

  // Killed one point into round 1, then rerun.
  const config = await misplacedStudy(settings);
  const controller = new AbortController();
  let inRound1 = false;
  const killed = collector();
  const write = (t: string) => {
    killed.write(t);
    if (t.includes("adaptive round 1")) inRound1 = true;
    else if (inRound1 && t.startsWith("done ")) controller.abort();
  };
  const partial = await runSweep(config, studyEnvironment(config), {
    ...killed,
    write,
    signal: controller.signal,
  });
  assert.equal(partial.sweep, undefined, "stopped before fitting");
  assert.equal((await readRounds(`${config.out}/rounds.jsonl`)).length, 2, "round 1 was logged");
  const resumed = collector();
  const outcome = await runSweep(config, studyEnvironment(config), resumed);
  assert.ok(resumed.lines.some((l) => l.startsWith("resuming: 1 adaptive round(s) logged")));
  const trained = [...killed.lines, ...resumed.lines].filter((l) => l.startsWith("done ")).length;
  assert.equal(trained, trainedWhole, "every point trained exactly once over both runs");
  // The same rounds as the uninterrupted study.
  const strip = (rs: typeof whole.rounds) =>
    rs!.map((r) => ({ kind: r.kind, keys: r.grids.flatMap((g) => g.points.map((p) => p.key)) }));
  assert.deepEqual(strip(outcome.rounds), strip(whole.rounds));
});

Deno.test("adaptive rounds stop as stuck, naming the budgets, when the optimum lies below every buildable size", async () => {
  const out = await Deno.makeTempDir({ prefix: "rounds-test-" });
  const config = resolveSweepConfig({
    overrides: {
      mock: true,
      out,
      bootstrap: 0,
      budgets: [3e9, 1e10, 3e10],
      width: 6,
      sizes_per_budget: 4,
      // A weak parameter term: the law's optimum sits below d_model = 4 at every budget.
      mock_law: { ...resolveSweepConfig().mock_law, A: 0.3 },
      adaptive: { max_rounds: 4 },
    },
  });
  const io = collector();
  const outcome = await runSweep(config, studyEnvironment(config), io);
  assert.equal(outcome.rounds!.length, 2, "one re-centring round, then nothing new to train");
  assert.equal(outcome.rounds![1]!.kind, "recentre");
  const stopped = io.lines.find((l) => l.startsWith("adaptive: stopped"))!;
  assert.match(stopped, /\(stuck\): Budget\(s\) 3\.0e9, 1\.0e10, 3\.0e10 have no interior/);
  assert.ok(
    !outcome.rounds!.some((r) => r.kind === "budget"),
    "no budget planned off edge vertices",
  );
});
