import assert from "node:assert/strict";
import { runBacktest } from "../../../lib/fit/backtest.ts";
import { FitInputError } from "../../../lib/fit/errors.ts";
import { computeOptimal } from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };

Deno.test("runBacktest() predicts a noiseless held-out budget from the others", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1 }),
    OPTS,
  );
  const bt = runBacktest(set, { huberDelta: 1e-3, flopsPerParamToken: 6 });
  assert.equal(bt.held_out.C, 3e19);
  assert.equal(bt.held_out.n_points, 7);
  assert.equal(bt.n_train_points, 35);
  assert.ok(bt.rmse_log_loss < 1e-7, `rmse ${bt.rmse_log_loss}`);
  assert.ok(bt.max_abs_rel_error < 1e-6);
  const truth = computeOptimal(TRUTH, 3e19, 6);
  assert.ok(Math.abs(bt.parametric_optimum.N / truth.params - 1) < 1e-4);
  assert.ok(Math.abs(Math.log(bt.isoflop_optimum!.N / truth.params)) < 0.02);
  assert.ok(Math.abs(Math.log(bt.observed_optimum!.N / truth.params)) < 0.02);
});

Deno.test("runBacktest() shows a wrong law: losses from a different law on the last budget miss", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 7,
    halfWidth: 1,
    noiseSd: 0.002,
    seed: 3,
  });
  for (const p of points.slice(35)) p.loss *= 1.05; // the largest budget does 5 % worse
  const bt = runBacktest(preparePoints(points, OPTS), { huberDelta: 1e-3, flopsPerParamToken: 6 });
  assert.ok(bt.rmse_log_loss > 0.03 && bt.rmse_log_loss < 0.07, `rmse ${bt.rmse_log_loss}`);
});

Deno.test("runBacktest() needs 3 budgets", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: [1e18, 1e19], perBudget: 5, halfWidth: 1 }),
    OPTS,
  );
  assert.throws(
    () => runBacktest(set, { huberDelta: 1e-3, flopsPerParamToken: 6 }),
    (e: unknown) => {
      assert.ok(e instanceof FitInputError);
      assert.equal(e.field, "backtest");
      assert.match(e.message, /at least 3 budgets/);
      return true;
    },
  );
});
