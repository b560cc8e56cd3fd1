import assert from "node:assert/strict";
import { centre } from "../../../lib/fit/objective.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import {
  chinchillaGrid,
  distinctBest,
  VARPRO_STEP,
  varproStarts,
} from "../../../lib/fit/starts.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

Deno.test("chinchillaGrid() is Chinchilla's 4,500 distinct starts", () => {
  const grid = chinchillaGrid();
  assert.equal(grid.length, 4500);
  assert.equal(new Set(grid.map((t) => t.join())).size, 4500);
  const col = (k: number) => [...new Set(grid.map((t) => t[k]!))].sort((a, b) => a - b);
  assert.deepEqual(col(0), [0, 5, 10, 15, 20, 25]);
  assert.deepEqual(col(2), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(col(3), [0, 0.5, 1, 1.5, 2]);
});

Deno.test("varproStarts() puts its best cell next to the true (α, β) with E, A, B almost exact", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1.2 }),
    { flopsPerParamToken: 6, budgetRelTol: 0.05 },
  );
  const c = centre(set);
  const [best] = varproStarts(c, VARPRO_STEP, 3);
  assert.ok(best !== undefined);
  assert.ok(Math.abs(best.theta[3]! - TRUTH.alpha) <= VARPRO_STEP, `α ${best.theta[3]}`);
  assert.ok(Math.abs(best.theta[4]! - TRUTH.beta) <= VARPRO_STEP, `β ${best.theta[4]}`);
  assert.ok(Math.abs(Math.exp(best.theta[2]!) / TRUTH.E - 1) < 0.05);
});

Deno.test("distinctBest() keeps the best of near-identical starts and skips non-finite scores", () => {
  const t = (x: number) => Float64Array.of(x, 0, 0, 0, 0);
  const kept = distinctBest([
    { theta: t(0), score: 2 },
    { theta: t(0.01), score: 1 },
    { theta: t(1), score: 3 },
    { theta: t(2), score: NaN },
  ], 5);
  assert.deepEqual(kept.map((s) => s.score), [1, 3]);
});
