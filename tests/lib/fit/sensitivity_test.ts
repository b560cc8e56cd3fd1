import assert from "node:assert/strict";
import { fitIsoflop, isoflopOptimum } from "../../../lib/fit/isoflop.ts";
import { computeOptimal, fitParametric } from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { runSensitivity } from "../../../lib/fit/sensitivity.ts";
import { isoflopPoints, SIX_BUDGETS } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };
const RUN = { huberDelta: 1e-3, flopsPerParamToken: 6 };

function setup(points: ReturnType<typeof isoflopPoints>) {
  const set = preparePoints(points, OPTS);
  return {
    set,
    fit: fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" }),
    iso: fitIsoflop(set, set.budgets),
  };
}

Deno.test("runSensitivity() shows a forecast that rests on one odd budget", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 7,
    halfWidth: 1.2,
    noiseSd: 0.002,
    seed: 6,
  });
  // The largest budget's runs are 4 % worse: dropping it moves the forecast most.
  for (const p of points.slice(35)) p.loss *= 1.04;
  const { set, fit, iso } = setup(points);
  const s = runSensitivity(set, fit, iso, { ...RUN, budgets: [3e20] })!;
  assert.equal(s.rows.length, 2);
  for (const row of s.rows) {
    assert.equal(row.drops.length, 6);
    assert.deepEqual(row.drops.map((d) => d.label), set.budgets.map((b) => b.label));
    // Both forecasts move by several percent: the sweep is fragile, and the table says so.
    assert.ok(row.spread_pct.loss! > 3, `${row.approach} loss spread ${row.spread_pct.loss} %`);
    // spread_pct is 100·(max − min)/full over the drops; shift_pct 100·(drop − full)/full.
    const losses = row.drops.map((d) => d.loss!);
    const full = row.approach === "parametric"
      ? computeOptimal(fit.law, 3e20, 6).loss
      : isoflopOptimum(iso!, 3e20).loss;
    const spread = 100 * (Math.max(...losses) - Math.min(...losses)) / full;
    assert.ok(Math.abs(row.spread_pct.loss! - spread) < 1e-9);
    const worst = row.drops.reduce((a, b) =>
      Math.abs(b.loss! - full) > Math.abs(a.loss! - full) ? b : a
    );
    assert.equal(row.most_influential.loss!.label, worst.label);
    assert.ok(
      Math.abs(row.most_influential.loss!.shift_pct - 100 * (worst.loss! - full) / full) < 1e-9,
    );
    if (row.approach === "isoflop") {
      // Approach 2's frontier rests on the per-budget optima: the odd budget moves it most,
      // and without it the forecast is lower.
      assert.equal(worst.label, set.budgets[5]!.label);
      assert.ok(row.most_influential.loss!.shift_pct < 0);
    }
  }
});

Deno.test("runSensitivity() is quiet on a clean sweep and needs 3 budgets", () => {
  const { set, fit, iso } = setup(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1 }),
  );
  const s = runSensitivity(set, fit, iso, { ...RUN, budgets: [1e20] })!;
  for (const row of s.rows) {
    // Noiseless points on one law: any five budgets give the same forecast.
    const tol = row.approach === "parametric" ? 1e-3 : 3;
    assert.ok(row.spread_pct.N! < tol, `${row.approach} N spread ${row.spread_pct.N} %`);
  }
  const two = setup(isoflopPoints({ budgets: [1e18, 1e19], perBudget: 5, halfWidth: 1 }));
  assert.equal(runSensitivity(two.set, two.fit, two.iso, { ...RUN, budgets: [1e20] }), null);
});
