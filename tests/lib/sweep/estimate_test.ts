import assert from "node:assert/strict";
import {
  measureCosts,
  plannedSteps,
  pointCostS,
  PROBE_FIRST_STEPS,
  PROBE_TARGET_S,
  stepFlops,
  studyCostS,
} from "../../../lib/sweep/estimate.ts";
import { planSweep } from "../../../lib/plan/grids.ts";
import type { Trainer } from "../../../lib/sweep/trainer.ts";
import { toyFamily } from "../plan/_family.ts";
import { formatDuration } from "../../../lib/sweep/progress.ts";

const points = planSweep({
  family: toyFamily(),
  budgets: [1e12, 1e13],
  dataset: "x",
  sizesPerBudget: 3,
}).flatMap((g) => g.points);

/**
 * A worker on a fake clock whose runs cost exactly `fixed + steps × (a + b × FLOPs per step)`
 * seconds: the model the probes should recover.
 */
function fakeWorker(clock: { ms: number }, law: { fixed: number; a: number; b: number }) {
  const calls: number[] = [];
  const worker: Trainer = {
    name: "fake",
    concurrency: 1,
    train(request) {
      const steps = (request as unknown as { budget: { steps: number } }).budget.steps;
      const point = points.find((p) => p.request.size === request.size)!;
      calls.push(steps);
      clock.ms += 1000 * (law.fixed + steps * (law.a + law.b * stepFlops(point)));
      return Promise.resolve({});
    },
  };
  return { worker, calls };
}

Deno.test("measureCosts() recovers the step time and the fixed time of the smallest and largest model", async () => {
  const clock = { ms: 0 };
  const law = { fixed: 0.4, a: 2e-3, b: 1e-10 };
  const { worker, calls } = fakeWorker(clock, law);
  const model = (await measureCosts(worker, points, { now: () => clock.ms }))!;
  assert.equal(model.probes.length, 2);
  const sorted = [...points].sort((a, b) => stepFlops(a) - stepFlops(b));
  for (
    const [probe, point] of [[model.probes[0]!, sorted[0]!], [
      model.probes[1]!,
      sorted.at(-1)!,
    ]] as const
  ) {
    assert.equal(probe.stepFlops, stepFlops(point));
    assert.ok(Math.abs(probe.stepS - (law.a + law.b * stepFlops(point))) < 1e-12);
    assert.ok(Math.abs(probe.fixedS - law.fixed) < 1e-9);
  }
  // A warm-up, then runs growing ×4 from PROBE_FIRST_STEPS until one lasts PROBE_TARGET_S.
  assert.equal(calls[0], 2);
  assert.equal(calls[1], PROBE_FIRST_STEPS);
  assert.equal(calls[2], PROBE_FIRST_STEPS * 4);
  assert.equal(model.probeS, clock.ms / 1000);
  // Every point in between is priced by the same law (linear in FLOPs per step).
  for (const p of points) {
    const truth = law.fixed + plannedSteps(p) * (law.a + law.b * stepFlops(p));
    assert.ok(Math.abs(pointCostS(model, p) - truth) / truth < 1e-9, `${p.key}`);
  }
  const total = points.reduce(
    (s, p) => s + law.fixed + plannedSteps(p) * (law.a + law.b * stepFlops(p)),
    0,
  );
  assert.ok(Math.abs(studyCostS(model, points) - total) / total < 1e-9);
  assert.ok(PROBE_TARGET_S > 0);
});

Deno.test("measureCosts() has nothing to measure for no points", async () => {
  const { worker, calls } = fakeWorker({ ms: 0 }, { fixed: 0, a: 1, b: 0 });
  assert.equal(await measureCosts(worker, []), undefined);
  assert.deepEqual(calls, []);
});

Deno.test("describeEstimate() and describePlan() speak plainly: the measured total, '1 trainer', one number format", async () => {
  const { describeEstimate, describePlan } = await import("../../../lib/sweep/sweep.ts");
  const { resolveSweepConfig } = await import("../../../lib/sweep/config.ts");
  const model = {
    probeS: 4.2,
    probes: [
      { steps: [8, 128] as [number, number], stepFlops: 2.56e6, stepS: 0.0062, fixedS: 0.3 },
      { steps: [8, 32] as [number, number], stepFlops: 1.43e8, stepS: 0.013, fixedS: 0.5 },
    ],
  };
  const line = describeEstimate(model, points);
  const total = studyCostS(model, points);
  assert.ok(line.startsWith(`estimate: ${formatDuration(total)} to train ${points.length} points`));
  assert.match(line, /6\.2 ms\/step at 2\.56e6 FLOPs\/step \(8- and 128-step runs\)/);
  const config = resolveSweepConfig({ overrides: { workers: ["http://127.0.0.1:1"] } });
  const grids = planSweep({
    family: toyFamily(),
    budgets: [1e12],
    dataset: "x",
    sizesPerBudget: 3,
  });
  const plan = describePlan(config, toyFamily(), grids, "out");
  assert.match(plan, / on 1 trainer → out\n/);
  assert.doesNotMatch(plan, /e\+/);
});
