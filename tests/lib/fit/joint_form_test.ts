/**
 * The joint form under misspecification, on synthetic sweeps with a known law.
 *
 * Design: the joint law L = 1.2 + (406.4²/N^0.34 + 410.7²/D^0.28)^0.5 (Chinchilla's inner terms
 * under γ = 0.5), 5 budgets 1e17 … 1e19 FLOPs, 5 runs per budget over ±1 in ln N around the true
 * optimum, noise sd 0.5 % on the loss; forecast the optimum loss at 1e20 (10× the largest budget)
 * with the default residual bootstrap. This is the failure seen on the published sweeps
 * (docs/fit_forecasts.md), reproduced where the truth is known: the additive law, fitted to a
 * joint-form truth, forecasts high with an interval that misses; the joint form does not.
 *
 * Measured (20 seeds, 100 resamples): additive +2.66 % mean error, 5/20 intervals cover; joint
 * +0.36 %, 18/20 (and on an additive truth the joint form stays unbiased, +0.10 % against the
 * additive form's +0.22 %, its interval 1.3× as wide). Tolerance on SEEDS = 12, RESAMPLES = 60:
 * joint ≥ 9 of 12 hits (a 95 % interval fails that with probability ≈ 2 %; the seeds are fixed,
 * so the test is deterministic) and |mean error| < 1 %; additive mean error > +1.5 % and ≤ 6
 * hits — the misspecification this form exists for must show.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";
import { computeOptimal, type Law } from "../../../lib/fit/parametric.ts";
import { isoflopPoints } from "./_synthetic.ts";

const SEEDS = 12;
const RESAMPLES = 60;
const JOINT: Law = { E: 1.2, A: 406.4 ** 2, B: 410.7 ** 2, alpha: 0.34, beta: 0.28, gamma: 0.5 };
const TARGET_FLOPS = 1e20;

function forecastStats(form: "additive" | "joint"): { meanErrPct: number; hits: number } {
  const truth = computeOptimal(JOINT, TARGET_FLOPS, 6).loss;
  let sum = 0, hits = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const points = isoflopPoints({
      budgets: [1e17, 3e17, 1e18, 3e18, 1e19],
      perBudget: 5,
      halfWidth: 1,
      noiseSd: 0.005,
      seed,
      law: JOINT,
    });
    const fit = fitScalingLaws({
      points,
      bootstrap: RESAMPLES,
      sensitivity: false,
      budgets: [TARGET_FLOPS],
      seed,
      form,
    });
    const row = fit.table.find((r) => r.approach === "parametric")!;
    sum += 100 * (row.loss / truth - 1);
    if (row.ci!.loss[0] <= truth && truth <= row.ci!.loss[1]) hits++;
  }
  return { meanErrPct: sum / SEEDS, hits };
}

Deno.test("joint form forecasts a joint-law truth at 10× where the additive law misses", () => {
  const joint = forecastStats("joint");
  const additive = forecastStats("additive");
  console.log(
    `loss at 10×, ${SEEDS} seeds: joint ${
      joint.meanErrPct.toFixed(2)
    } % (${joint.hits} covered), ` +
      `additive ${additive.meanErrPct.toFixed(2)} % (${additive.hits} covered)`,
  );
  assert.ok(Math.abs(joint.meanErrPct) < 1, `joint mean error ${joint.meanErrPct} %`);
  assert.ok(joint.hits >= 9, `joint intervals covered ${joint.hits}/${SEEDS}`);
  assert.ok(additive.meanErrPct > 1.5, `additive mean error ${additive.meanErrPct} %`);
  assert.ok(additive.hits <= 6, `additive intervals covered ${additive.hits}/${SEEDS}`);
});
