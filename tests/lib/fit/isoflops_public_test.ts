/**
 * The held-out forecast check on the published IsoFLOP sweeps (`../shared/data/isoflops/`):
 * fit the budgets ≤ C/10, forecast the optimum at C (the largest budget with a parabola minimum
 * from ≥ 5 runs). Measured on this code (see `tests/bench/fit.ts` for every held-out budget):
 * Approach 2 (loss frontier) +1.81 %, +0.69 %, +0.90 % on the three Marin 2026-03 sweeps at 10×,
 * −3.74 % on (Mis)Fitting at 6.8×, each inside its 95 % interval. Approach 3 with the default
 * additive law +4.25 %, +4.25 %, +4.56 %, +5.03 %, each outside its interval: the additive form
 * is misspecified on these sweeps (docs/fit_forecasts.md: it ties the frontier's decline to the
 * within-budget trade-off; fitted on small budgets it levels off too early, E 2.7–3.0). With
 * `form: "joint"` (L = E + (A/N^α + B/D^β)^γ) Approach 3 is −0.84 %, −1.35 %, +0.44 %, −1.26 %,
 * each inside its interval. The bands below hold these numbers so that a regression shows.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";
import { loadPublishedSweeps, tenfoldThreshold } from "./_isoflops.ts";

const sweeps = loadPublishedSweeps();
/** |error| of Approach 2's optimum-loss forecast (%), held: 1.81 % worst on Marin, 3.74 % on (Mis)Fitting. */
const ISOFLOP_TOLERANCE_PCT = { marin: 2.5, misfitting: 4.5 };
/** The additive law's forecast runs high by 4.2–5.1 %: hold it within that band, above zero. */
const PARAMETRIC_RANGE_PCT: [number, number] = [3, 6];
/** |error| of the joint form's forecast (%): 1.35 % worst. */
const JOINT_TOLERANCE_PCT = 2;

/** Fit a sweep's budgets ≤ C/10 in a form and return the largest held-out budget of ≥ 5 runs. */
function largestHeldOut(sweep: NonNullable<typeof sweeps>[number], form: "additive" | "joint") {
  const fit = fitScalingLaws({
    points: sweep.points,
    budget_rel_tol: sweep.budgetRelTol,
    backtest: { hold_out_above: tenfoldThreshold(sweep.points) },
    bootstrap: 100,
    sensitivity: false,
    seed: 1,
    form,
  });
  return fit.backtest!.held_out.filter((h) => h.observed !== null && h.n_points >= 5).at(-1)!;
}

Deno.test({
  name: "held-out forecasts on published IsoFLOP sweeps: fit ≤ C/10, forecast the optimum at C",
  ignore: sweeps === null,
  fn() {
    for (const sweep of sweeps!) {
      const held = largestHeldOut(sweep, "additive");
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
      assert.equal(par!.inside!.loss, false, `${where}: A3 additive now inside — update the docs`);
    }
  },
});

Deno.test({
  name:
    'held-out forecasts on published IsoFLOP sweeps: form "joint" within 2 %, inside its interval',
  ignore: sweeps === null,
  fn() {
    for (const sweep of sweeps!) {
      const held = largestHeldOut(sweep, "joint");
      const par = held.forecasts[0]!;
      const where = `${sweep.experiment} at ${held.C.toPrecision(3)}`;
      assert.equal(par.approach, "parametric");
      const e = par.error_pct!.loss;
      assert.ok(Math.abs(e) < JOINT_TOLERANCE_PCT, `${where}: A3 joint ${e} %`);
      assert.ok(par.inside!.loss, `${where}: observed outside the joint form's interval`);
    }
  },
});

if (sweeps === null) {
  console.warn("isoflops_public_test: ../shared/data/isoflops/ is absent; the check is skipped");
}
