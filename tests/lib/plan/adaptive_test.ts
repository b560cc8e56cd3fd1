import assert from "node:assert/strict";
import { planAdaptive } from "../../../lib/plan/adaptive.ts";
import { MockLawSchema } from "../../../lib/sweep/config.ts";
import type { ObservedPoint } from "../../../lib/plan/isoflop.ts";
import { lawLoss } from "../../../lib/sweep/mock.ts";
import { planGrid, planSweep } from "../../../lib/plan/grids.ts";
import { toyFamily } from "./_family.ts";

const family = toyFamily();
const law = MockLawSchema.parse({});

function observe(
  points: { params: number; data: number; budget_flops: number }[],
): ObservedPoint[] {
  return points.map((p) => ({
    N: p.params,
    D: p.data,
    C: p.budget_flops,
    loss: lawLoss(law, p.params, p.data),
  }));
}

Deno.test("planAdaptive() re-centres a curve whose optimum fell past the grid's edge", () => {
  const grids = planSweep({ family, budgets: [1e13, 1e14], dataset: "x" });
  // A third budget whose grid sits far below its optimum: the best point is the largest.
  const shifted = planGrid({ family, dataset: "x" }, {
    budget: 1e15,
    centre: grids[1]!.centre_params / 8,
    from: "prior",
    count: 5,
  });
  const results = observe([...grids.flatMap((g) => g.points), ...shifted.points]);
  const plan = planAdaptive({ family, dataset: "x", results, targetBudget: 1e18, bootstrap: 50 });
  assert.equal(plan.recentred.length, 1);
  const grid = plan.recentred[0]!;
  assert.equal(grid.budget_flops, 1e15);
  const largestDone = Math.max(...shifted.points.map((p) => p.params));
  assert.ok(grid.centre_params > largestDone, "new centre lies beyond the old upper edge");
  const done = new Set(shifted.points.map((p) => p.size));
  assert.ok(grid.points.every((p) => !done.has(p.size)), "only new sizes are proposed");
});

Deno.test("planAdaptive() proposes the next budget that shrinks N_opt's spread at the target", () => {
  const grids = planSweep({ family, budgets: [1e12, 3e12, 1e13], dataset: "x", width: 16 });
  // Noisy losses so the bootstrap has something to resample.
  let i = 0;
  const results = observe(grids.flatMap((g) => g.points)).map((p) => ({
    ...p,
    loss: p.loss * (1 + 0.004 * Math.sin(12.9898 * ++i)),
  }));
  const plan = planAdaptive({ family, dataset: "x", results, targetBudget: 1e16, bootstrap: 200 });
  assert.ok(plan.current !== null);
  assert.ok(plan.next !== null);
  assert.equal(plan.candidates.length, 4);
  const best = plan.candidates.find((c) => c.budget_flops === plan.next!.budget_flops)!;
  for (const c of plan.candidates) {
    if (c.uncertainty) assert.ok(best.uncertainty!.spread_ln <= c.uncertainty.spread_ln);
  }
  assert.ok(best.uncertainty!.spread_ln < plan.current!.spread_ln, "adding a budget helps");
  assert.ok(plan.next!.budget_flops > 1e13);
  assert.ok(plan.next!.points.length >= 3);
});

Deno.test("planAdaptive() says why when fewer than two curves are convex", () => {
  const [grid] = planSweep({ family, budgets: [1e13], dataset: "x" });
  const plan = planAdaptive({
    family,
    dataset: "x",
    results: observe(grid!.points),
    targetBudget: 1e15,
  });
  assert.equal(plan.next, null);
  assert.match(plan.notes[0]!, /two convex/);
});

Deno.test("planAdaptive() extends a concave curve past its better edge and says why it has no minimum", () => {
  const grids = planSweep({ family, budgets: [1e12, 1e13, 1e14], dataset: "x" });
  const results = observe(grids.flatMap((g) => g.points));
  // Make the middle budget concave in ln N with its best point at the largest size.
  const top = results.filter((p) => p.C === 1e13);
  const lnLo = Math.log(Math.min(...top.map((p) => p.N)));
  for (const p of top) p.loss = 2 - 0.05 * (Math.log(p.N) - lnLo) ** 2;
  const plan = planAdaptive({ family, dataset: "x", results, targetBudget: 1e18, bootstrap: 50 });
  assert.equal(plan.recentred.length, 1);
  const grid = plan.recentred[0]!;
  assert.equal(grid.budget_flops, 1e13);
  assert.match(grid.warnings.at(-1)!, /no usable minimum \(non-positive curvature .*largest size/);
  const largestDone = Math.max(...top.map((p) => p.N));
  assert.ok(grid.points.some((p) => p.params > largestDone), "proposes sizes past the upper edge");
  // The concave curve is not one of the convex curves N_opt(C) is extrapolated from.
  assert.ok(plan.current !== null);
  const convexOnly = planAdaptive({
    family,
    dataset: "x",
    results: results.filter((p) => p.C !== 1e13),
    targetBudget: 1e18,
    bootstrap: 50,
  });
  assert.equal(plan.current.n_opt, convexOnly.current!.n_opt);
});
