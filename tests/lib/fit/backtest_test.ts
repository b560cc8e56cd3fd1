import assert from "node:assert/strict";
import { checkableThreshold, runBacktest, splitBudgets } from "../../../lib/fit/backtest.ts";
import { FitInputError } from "../../../lib/fit/errors.ts";
import { computeOptimal } from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };
const FIT = { huberDelta: 1e-3, flopsPerParamToken: 6 };

function refusal(field: string, message: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof FitInputError, String(e));
    assert.equal(e.field, field);
    assert.match(e.message, message);
    return true;
  };
}

Deno.test("runBacktest() predicts a noiseless held-out budget from the others", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1 }),
    OPTS,
  );
  const bt = runBacktest(set, FIT);
  assert.equal(bt.hold_out_above, 1e19);
  assert.deepEqual(bt.train_budgets.map((b) => b.C), SIX_BUDGETS.slice(0, 5));
  assert.equal(bt.n_train_points, 35);
  assert.equal(bt.held_out.length, 1);
  const h = bt.held_out[0]!;
  assert.equal(h.C, 3e19);
  assert.equal(h.n_points, 7);
  assert.ok(Math.abs(h.extrapolation - 3) < 1e-12);
  assert.ok(bt.rmse_log_loss < 1e-7, `rmse ${bt.rmse_log_loss}`);
  assert.ok(bt.max_abs_rel_error < 1e-6);
  const truth = computeOptimal(TRUTH, 3e19, 6);
  const [par, iso] = h.forecasts;
  assert.equal(par!.approach, "parametric");
  assert.ok(Math.abs(par!.N / truth.params - 1) < 1e-4);
  assert.ok(Math.abs(par!.loss / truth.loss - 1) < 1e-6);
  assert.equal(iso!.approach, "isoflop");
  assert.ok(Math.abs(Math.log(iso!.N / truth.params)) < 0.02);
  // The observed vertex of a noiseless parabola sits on the law's optimum to the width bias.
  assert.ok(Math.abs(Math.log(h.observed!.N / truth.params)) < 0.02);
  assert.ok(Math.abs(h.observed!.loss / truth.loss - 1) < 1e-3);
  // error_pct is 100·(predicted − observed)/observed, from the fields beside it.
  assert.equal(par!.error_pct!.loss, 100 * (par!.loss - h.observed!.loss) / h.observed!.loss);
  assert.equal(par!.ci, null, "no resamples, no intervals");
  assert.equal(par!.inside, null);
});

Deno.test("runBacktest() holds out every budget above hold_out_above, with intervals that hold", () => {
  const points = isoflopPoints({
    budgets: [...SIX_BUDGETS, 1e20, 3e20],
    perBudget: 7,
    halfWidth: 1.5,
    noiseSd: 0.003,
    seed: 5,
  });
  const set = preparePoints(points, OPTS);
  const bt = runBacktest(set, { ...FIT, holdOutAbove: 3e19, resamples: 100, seed: 1 });
  assert.equal(bt.hold_out_above, 3e19);
  assert.deepEqual(bt.held_out.map((h) => h.C), [1e20, 3e20]);
  assert.equal(bt.train_budgets.length, 6);
  assert.ok(Math.abs(bt.held_out[1]!.extrapolation - 10) < 1e-12);
  for (const h of bt.held_out) {
    // Each held-out budget is also forecast by the recommended row's rule (issue #19).
    assert.deepEqual(h.forecasts.map((f) => f.approach), ["parametric", "isoflop"]);
    assert.equal(h.recommended?.approach, "recommended");
    assert.ok(h.observed_ci !== null);
    assert.ok(
      h.observed_ci.loss[0] <= h.observed!.loss && h.observed!.loss <= h.observed_ci.loss[1],
    );
    for (const f of [...h.forecasts, h.recommended!]) {
      const truth = computeOptimal(TRUTH, h.C, 6);
      assert.ok(f.ci !== null && f.prediction_interval !== null);
      // The prediction interval for one run is wider than the interval of the expected loss.
      assert.ok(f.prediction_interval[0] < f.ci.loss[0] && f.ci.loss[1] < f.prediction_interval[1]);
      assert.ok(
        f.ci.N[0] <= truth.params && truth.params <= f.ci.N[1],
        `${f.approach} N at ${h.C}`,
      );
      assert.ok(Math.abs(f.error_pct!.loss) < 1, `${f.approach} loss ${f.error_pct!.loss} %`);
      assert.equal(
        f.inside!.loss,
        f.ci.loss[0] <= h.observed!.loss && h.observed!.loss <= f.ci.loss[1],
      );
    }
  }
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
  const bt = runBacktest(preparePoints(points, OPTS), { ...FIT, resamples: 50 });
  assert.ok(bt.rmse_log_loss > 0.03 && bt.rmse_log_loss < 0.07, `rmse ${bt.rmse_log_loss}`);
  for (const f of bt.held_out[0]!.forecasts) {
    assert.ok(f.error_pct!.loss < -3, `${f.approach}: ${f.error_pct!.loss} %`);
    assert.equal(f.inside!.loss, false);
  }
});

Deno.test("splitBudgets() refuses splits with no held-out budget or fewer than 2 to fit", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 3), perBudget: 5, halfWidth: 1 }),
    OPTS,
  );
  assert.throws(
    () => splitBudgets(set.budgets, 1e21),
    refusal("backtest.hold_out_above", /no budget lies above/),
  );
  assert.throws(
    () => splitBudgets(set.budgets, 2e17),
    refusal("backtest.hold_out_above", /only 1 budget\(s\) lie at or below/),
  );
  const two = preparePoints(
    isoflopPoints({ budgets: [1e18, 1e19], perBudget: 5, halfWidth: 1 }),
    OPTS,
  );
  assert.throws(() => runBacktest(two, FIT), refusal("backtest", /at least 3 budgets/));
});

Deno.test("checkableThreshold() finds the gap of 3× that makes a forecast checkable", () => {
  assert.equal(checkableThreshold([1.2e9, 2e9, 3.4e9, 3.4e10]), 3.4e9);
  assert.equal(checkableThreshold([3.4e10, 1.2e9, 3.4e9, 2e9, 3.4e9]), 3.4e9, "any order, repeats");
  // The gap nearest the top wins: hold out as little as possible.
  assert.equal(checkableThreshold([1e17, 1e18, 2e18, 1e19]), 2e18);
  assert.equal(checkableThreshold([1e18, 2e18, 4e18]), null);
  assert.equal(checkableThreshold([1e18, 1e19]), null, "two budgets: nothing left to fit on");
  assert.equal(checkableThreshold([1e18, 2e18, 5e18], 2.5), 2e18);
});
