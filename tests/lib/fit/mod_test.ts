import assert from "node:assert/strict";
import {
  FitInputError,
  fitParsed,
  type FitRequest,
  FitResultSchema,
  fitScalingLaws,
  parseFitRequest,
} from "../../../lib/fit/mod.ts";
import { computeOptimal } from "../../../lib/fit/parametric.ts";
import { mulberry32, normalDraw } from "../../../lib/random.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

function refuses(input: unknown, field: string, message: RegExp, status = 422, limits = {}): void {
  assert.throws(() => fitScalingLaws(input as FitRequest, limits), (e: unknown) => {
    assert.ok(e instanceof FitInputError, String(e));
    assert.equal(e.field, field);
    assert.match(e.message, message);
    assert.equal(e.status, status);
    return true;
  });
}

Deno.test("fitScalingLaws() recovers the law end to end and its result matches FitResultSchema", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1 });
  const fit = fitScalingLaws({ points, bootstrap: 20, budgets: [1e21], backtest: true });
  for (const k of ["E", "A", "B", "alpha", "beta"] as const) {
    assert.ok(Math.abs(fit.parametric[k] / TRUTH[k] - 1) < 1e-4, `${k} ${fit.parametric[k]}`);
  }
  assert.ok(Math.abs(fit.parametric.a - 0.28 / 0.62) < 1e-4);
  assert.equal(fit.parametric.residuals.length, 42);
  assert.ok(fit.parametric.residuals.every((r) => Math.abs(r) < 1e-6));
  assert.equal(fit.budgets.length, 6);
  // One row per approach plus the recommended row (issue #19).
  assert.equal(fit.table.length, 3);
  assert.deepEqual(fit.table.map((r) => r.recommended), [false, false, true]);
  assert.ok(fit.backtest !== null && fit.bootstrap?.n_resamples === 20);
  assert.ok(FitResultSchema.safeParse(fit).success);
  assert.match(fit.markdown, /\| C \| N_opt \| D_opt \| D\/N \| predicted loss \|/);
});

Deno.test("fitScalingLaws() refuses bad input with the field at fault", () => {
  const good = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 3), perBudget: 4, halfWidth: 1 });
  refuses({ points: [] }, "points", /must not be empty/);
  refuses({}, "points", /array/);
  refuses({ points: [{ N: "1e6", D: 1, loss: 1 }] }, "points[0].N", /finite number/);
  refuses({ points: [{ N: 1, D: null, loss: 1 }] }, "points[0].D", /finite number/);
  refuses({ points: [{ N: 1, D: 1, loss: NaN }] }, "points[0].loss", /finite number/);
  refuses({ points: [{ N: Infinity, D: 1, loss: 1 }] }, "points[0].N", /finite number/);
  refuses({ points: [{ N: 1, D: 1, loss: 0 }] }, "points[0].loss", /> 0/);
  refuses({ points: [{ N: -5, D: 1, loss: 1 }] }, "points[0].N", /> 0/);
  refuses({ points: good, bootstrap: 2.5 }, "bootstrap", /int/i);
  refuses({ points: good, confidence: 1 }, "confidence", /</);
  refuses({ points: good, budgets: [] }, "budgets", /must not be empty/);
  refuses({ points: good, bootstrap: 50 }, "bootstrap", /limit of 10/, 422, { maxBootstrap: 10 });
  refuses({ points: good }, "points", /exceed the limit of 5/, 413, { maxPoints: 5 });
  const many = isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 100, halfWidth: 1 });
  refuses({ points: many, multistart: "grid" }, "multistart", /at most 500 points/);
  refuses({ points: many, bootstrap: 5000 }, "bootstrap", /exceeds/);
  const flat = good.map((p) => ({ ...p, loss: 3 + 0.1 * Math.log(p.N) }));
  refuses({ points: flat, bootstrap: 0 }, "points", /non-positive exponent/);
});

Deno.test("fitScalingLaws() lowers only a defaulted bootstrap past the points × resamples cap", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS.slice(0, 3),
    perBudget: 5,
    halfWidth: 1,
    noiseSd: 0.01,
  });
  const limits = { maxBootstrapPointFits: 15 * 12 };
  const fit = fitScalingLaws({ points }, limits);
  assert.equal(fit.bootstrap?.n_resamples, 12);
  assert.ok(fit.warnings.some((w) => w.code === "bootstrap_reduced"));
  refuses({ points, bootstrap: 13 }, "bootstrap", /ask for at most 12/, 422, limits);
  // A backtest bootstraps its training budgets as well: twice the refits.
  refuses(
    { points, bootstrap: 7, backtest: true },
    "bootstrap",
    /× 2 \(the backtest's own bootstrap\).*ask for at most 6/,
    422,
    limits,
  );
  const withBacktest = fitScalingLaws({ points, backtest: true }, limits);
  assert.equal(withBacktest.bootstrap?.n_resamples, 6);
});

Deno.test("fitScalingLaws() skips leave-one-budget-out past the point-fit limit, saying so", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 5, halfWidth: 1, noiseSd: 0.01 });
  const fit = fitScalingLaws({ points, bootstrap: 0 }, { maxBootstrapPointFits: 5 * 30 });
  assert.equal(fit.sensitivity, null);
  const skipped = fit.warnings.find((w) => w.code === "sensitivity_skipped");
  assert.match(skipped!.message, /needs 6 refits of 30 points, past the limit of 150/);
  const ran = fitScalingLaws({ points, bootstrap: 0 }, { maxBootstrapPointFits: 6 * 30 });
  assert.equal(ran.sensitivity!.rows[0]!.drops.length, 6);
});

Deno.test("fitScalingLaws() validates the forecast options, naming the field", () => {
  const good = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 4), perBudget: 5, halfWidth: 1 });
  const lowest = Math.min(...good.map((p) => p.loss));
  refuses({ points: good, E: 1.7 }, "E", /E must be an object/);
  refuses({ points: good, E: {} }, "E", /give fixed, min or max/);
  refuses({ points: good, E: { fixed: 1.7, min: 1 } }, "E.min", /either fixed or min\/max/);
  refuses({ points: good, E: { min: 2, max: 1 } }, "E.max", /max must exceed min/);
  refuses({ points: good, E: { fixed: -1 } }, "E.fixed", /> 0/);
  refuses({ points: good, E: { fixed: "1.7" } }, "E.fixed", /finite number/);
  refuses({ points: good, E: { floor: 1 } }, "E", /floor/);
  refuses({ points: good, E: { fixed: lowest } }, "E.fixed", /not below the lowest observed loss/);
  refuses({ points: good, E: { min: lowest * 1.1 } }, "E.min", /not below the lowest/);
  refuses({ points: good, backtest: "yes" }, "backtest", /true, false or \{"hold_out_above": C\}/);
  refuses({ points: good, backtest: { hold_out_above: -1 } }, "backtest.hold_out_above", /> 0/);
  refuses({ points: good, backtest: { above: 1e18 } }, "backtest", /\{"hold_out_above": C\}/);
  refuses(
    { points: good, backtest: { hold_out_above: 1e21 }, bootstrap: 0 },
    "backtest.hold_out_above",
    /no budget lies above/,
  );
  refuses({ points: good, bootstrap_method: "cases" }, "bootstrap_method", /residual/);
  refuses({ points: good, sensitivity: "on" }, "sensitivity", /true or false/);
  refuses({ points: good, form: "kaplan" }, "form", /"additive" or "joint"/);
});

Deno.test("fitScalingLaws() form joint reports γ, refits every stage in that form", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 5,
    halfWidth: 1.2,
    noiseSd: 0.003,
    law: { E: 1.2, A: 406.4 ** 2, B: 410.7 ** 2, alpha: 0.34, beta: 0.28, gamma: 0.5 },
  });
  const fit = fitScalingLaws({ points, form: "joint", bootstrap: 40, backtest: true, seed: 3 });
  assert.equal(fit.parametric.form, "joint");
  assert.ok(Math.abs(fit.parametric.gamma - 0.5) < 0.1, `γ = ${fit.parametric.gamma}`);
  const [lo, hi] = fit.bootstrap!.parametric.gamma!;
  assert.ok(lo <= fit.parametric.gamma && fit.parametric.gamma <= hi, `γ CI [${lo}, ${hi}]`);
  const par = fit.backtest!.held_out[0]!.forecasts[0]!;
  assert.ok(Math.abs(par.error_pct!.loss) < 1, `backtest loss error ${par.error_pct!.loss} %`);
  assert.ok(fit.sensitivity !== null);
  const plain = fitScalingLaws({ points, bootstrap: 0, sensitivity: false });
  assert.equal(plain.parametric.form, "additive");
  assert.equal(plain.parametric.gamma, 1);
  assert.ok(fit.parametric.objective < plain.parametric.objective);
});

Deno.test("fitScalingLaws() forecasts held-out budgets, with a known floor and replicates", () => {
  const budgets = [...SIX_BUDGETS.slice(0, 5), 1e20];
  const base = isoflopPoints({ budgets, perBudget: 5, halfWidth: 1.5 });
  const random = mulberry32(12);
  const sd = 0.004;
  // Two seeds of every configuration: replicates.
  const points = base.flatMap((p) =>
    [0, 1].map(() => ({ ...p, loss: p.loss * Math.exp(sd * normalDraw(random)) }))
  );
  const fit = fitScalingLaws({
    points,
    bootstrap: 60,
    budgets: [1e20, 1e21],
    backtest: { hold_out_above: 1e19 },
    E: { fixed: TRUTH.E },
  });
  assert.ok(FitResultSchema.safeParse(fit).success);
  assert.equal(fit.parametric.E, TRUTH.E);
  assert.ok(fit.parametric.E_at_bound);
  assert.deepEqual(fit.parametric.E_constraint, { fixed: TRUTH.E });
  assert.equal(fit.isoflop!.loss_frontier!.E, TRUTH.E);
  assert.equal(fit.noise.source, "replicates");
  assert.equal(fit.noise.n_replicate_groups, base.length);
  assert.ok(Math.abs(fit.noise.sd_log_loss! / sd - 1) < 0.35, `noise ${fit.noise.sd_log_loss}`);
  for (const row of fit.table) {
    const pi = row.prediction_interval!;
    assert.ok(pi[0] < row.ci!.loss[0] && row.ci!.loss[1] < pi[1], `${row.approach} ${row.C}`);
  }
  const held = fit.backtest!.held_out;
  assert.deepEqual(held.map((h) => h.C), [1e20]);
  assert.ok(Math.abs(held[0]!.extrapolation - 10) < 1e-9);
  const truth = computeOptimal(TRUTH, 1e20, 6);
  for (const f of held[0]!.forecasts) {
    assert.ok(Math.abs(f.loss / truth.loss - 1) < 0.01, `${f.approach} ${f.loss} vs ${truth.loss}`);
    assert.ok(f.inside_prediction, `${f.approach}: observed outside the prediction interval`);
  }
  assert.equal(fit.sensitivity!.rows.length, 4);
  // Validated once: the parsed request fits to the same numbers.
  const again = fitParsed(parseFitRequest({ points, bootstrap: 0, E: { fixed: TRUTH.E } }));
  assert.equal(
    again.parametric.alpha,
    fitScalingLaws({ points, bootstrap: 0, E: { fixed: TRUTH.E } }).parametric.alpha,
  );
});
