/**
 * The held-out forecast check on the published IsoFLOP sweeps (`../shared/data/isoflops/`):
 * fit the budgets ≤ C/10, forecast the optimum at C (the largest budget with a parabola minimum
 * from ≥ 5 runs). Measured on this code (see `tests/bench/fit.ts` for every held-out budget):
 * Approach 2 (loss frontier) +1.81 %, +0.69 %, +0.90 % on the three Marin 2026-03 sweeps at 10×,
 * −3.74 % on (Mis)Fitting at 6.8×, each inside its 95 % interval; Approach 3 +4.25 %, +4.25 %,
 * +4.56 %, +5.03 %, each outside its interval (the law fitted on small budgets saturates too
 * early: its E is 2.7–2.9 where the frontier's is 1.6–2.1). The tolerances below hold these
 * numbers so that a regression shows; they are not the target of 1 %, which Approach 3
 * does not reach on these sweeps.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";
import { loadPublishedSweeps, tenfoldThreshold } from "./_isoflops.ts";

const sweeps = loadPublishedSweeps();
/** |error| of Approach 2's optimum-loss forecast (%), held: 1.81 % worst on Marin, 3.74 % on (Mis)Fitting. */
const ISOFLOP_TOLERANCE_PCT = { marin: 2.5, misfitting: 4.5 };
/** Approach 3's forecast runs high by 4.2–5.1 %: hold it within that band, above zero. */
const PARAMETRIC_RANGE_PCT: [number, number] = [3, 6];

Deno.test({
  name: "held-out forecasts on published IsoFLOP sweeps: fit ≤ C/10, forecast the optimum at C",
  ignore: sweeps === null,
  fn() {
    for (const sweep of sweeps!) {
      const fit = fitScalingLaws({
        points: sweep.points,
        budget_rel_tol: sweep.budgetRelTol,
        backtest: { hold_out_above: tenfoldThreshold(sweep.points) },
        bootstrap: 100,
        sensitivity: false,
        seed: 1,
      });
      const held = fit.backtest!.held_out.filter((h) => h.observed !== null && h.n_points >= 5)
        .at(-1)!;
      assert.ok(held.extrapolation >= 6, `${sweep.experiment}: only ${held.extrapolation}×`);
      const [par, iso] = held.forecasts;
      const where = `${sweep.experiment} at ${held.C.toPrecision(3)}`;
      const tol = sweep.file.startsWith("marin")
        ? ISOFLOP_TOLERANCE_PCT.marin
        : ISOFLOP_TOLERANCE_PCT.misfitting;
      assert.equal(iso!.approach, "isoflop");
      assert.ok(Math.abs(iso!.error_pct!.loss) < tol, `${where}: A2 ${iso!.error_pct!.loss} %`);
      assert.ok(iso!.inside!.loss, `${where}: observed outside Approach 2's interval`);
      const e = par!.error_pct!.loss;
      assert.ok(e > PARAMETRIC_RANGE_PCT[0] && e < PARAMETRIC_RANGE_PCT[1], `${where}: A3 ${e} %`);
    }
  },
});

if (sweeps === null) {
  console.warn("isoflops_public_test: ../shared/data/isoflops/ is absent; the check is skipped");
}
