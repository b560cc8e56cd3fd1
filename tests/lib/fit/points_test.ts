import assert from "node:assert/strict";
import { FitInputError } from "../../../lib/fit/errors.ts";
import { groupBudgets, preparePoints } from "../../../lib/fit/points.ts";
import { median } from "../../../lib/stats.ts";
import { isoflopPoints, SIX_BUDGETS } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };

function refuses(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FitInputError);
    assert.equal(e.field, field);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("preparePoints() groups unlabelled points by C within the relative tolerance", () => {
  const points = isoflopPoints({ budgets: [1e18, 1e19], perBudget: 4, halfWidth: 1 });
  // Jitter C by 3 %: still the same budget.
  points[1]!.D *= 1.03;
  const set = preparePoints(points, OPTS);
  assert.equal(set.budgets.length, 2);
  assert.deepEqual(set.budgets[0]!.indices, [0, 1, 2, 3]);
  assert.ok(Math.abs(set.budgets[1]!.flops / 1e19 - 1) < 1e-12);
  assert.equal(set.budgets[0]!.label, "1.00e+18");
  // With a 1 % tolerance the jittered point is its own budget.
  assert.equal(preparePoints(points, { ...OPTS, budgetRelTol: 0.01 }).budgets.length, 3);
});

Deno.test("preparePoints() uses labels and explicit C, and the FLOPs multiplier", () => {
  const points = isoflopPoints({ budgets: [1e18, 1e19], perBudget: 4, halfWidth: 1 })
    .map((p, i) => ({ ...p, budget: i < 4 ? "small" : "big" }));
  const set = preparePoints(points, OPTS);
  assert.deepEqual(set.budgets.map((b) => b.label), ["small", "big"]);
  const withC = points.map((p) => ({ N: p.N, D: p.D, loss: p.loss, C: 2 * 6 * p.N * p.D }));
  assert.ok(Math.abs(preparePoints(withC, OPTS).budgets[0]!.flops / 2e18 - 1) < 1e-12);
  const m8 = preparePoints(points.map(({ budget: _, ...p }) => p), {
    ...OPTS,
    flopsPerParamToken: 8,
  });
  assert.ok(Math.abs(m8.budgets[0]!.flops / (8e18 / 6) - 1) < 1e-12);
});

Deno.test("preparePoints() refuses too few points, duplicates, one budget and no spread", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 3, halfWidth: 1 });
  refuses(() => preparePoints(points.slice(0, 5), OPTS), "points", /at least 6 points/);
  refuses(
    () => preparePoints([...points, { ...points[2]! }], OPTS),
    "points[18]",
    /duplicates points\[2\]/,
  );
  const one = isoflopPoints({ budgets: [1e18], perBudget: 8, halfWidth: 1 });
  refuses(() => preparePoints(one, OPTS), "points", /single budget/);
  const same = Array.from({ length: 8 }, (_, i) => ({ N: 1e6, D: 1e8 * (i + 1), loss: 3 + i }));
  refuses(() => preparePoints(same, OPTS), "points", /same N/);
  const flat = points.map((p) => ({ ...p, loss: 2.5 }));
  refuses(() => preparePoints(flat, OPTS), "points", /same loss/);
  const huge = points.map((p, i) => (i === 0 ? { ...p, N: 1e300, D: 1e300 } : p));
  refuses(() => preparePoints(huge, OPTS), "points[0]", /out of floating-point range/);
  const tiny = points.map((p, i) => (i === 0 ? { ...p, N: 1e-300, D: 1e-300 } : p));
  refuses(() => preparePoints(tiny, OPTS), "points[0]", /out of floating-point range/);
});

Deno.test("groupBudgets() sorts budgets by C and median() takes the middle", () => {
  const flops = Float64Array.of(5e18, 1e18, 1.01e18, 5.1e18);
  const b = groupBudgets([{}, {}, {}, {}], flops, 0.05);
  assert.deepEqual(b.map((x) => x.indices), [[1, 2], [0, 3]]);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
