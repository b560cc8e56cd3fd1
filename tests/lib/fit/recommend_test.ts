/**
 * The recommended row (issue #19): one per budget, its rule, its intervals (noise, model error from
 * the sweep's own rolling origins, the approaches' disagreement), checked on the published sweeps,
 * the default study and synthetic sweeps whose optimum drifts; and the defects it fixed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";
import { fitIsoflop } from "../../../lib/fit/isoflop.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import {
  eIdentified,
  type Forecaster,
  normalQuantile,
  type Origin,
  powerLawNoise,
  PRIOR_ORIGINS,
  PRIOR_SCALE_N,
  robustSd,
  rollingOrigins,
  scoreCandidate,
  studentQuantile,
} from "../../../lib/fit/recommend.ts";
import { DEFAULT_BOOTSTRAP, type FitPoint, type TableRow } from "../../../lib/fit/schema.ts";
import { mulberry32, normalDraw } from "../../../lib/random.ts";
import type { ResultRecord } from "../../../lib/sweep/results.ts";
import { fitSweep } from "../../../lib/sweep/sweep_fit.ts";
import { loadPublishedSweeps, tenfoldThreshold } from "./_isoflops.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };

function recommendedAt(table: readonly TableRow[], c: number): TableRow {
  const rows = table.filter((r) => r.C === c && r.recommended === true);
  assert.equal(rows.length, 1, `exactly one recommended row at C = ${c}`);
  return rows[0]!;
}

Deno.test("normalQuantile() and studentQuantile() match tabulated values", () => {
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
  assert.ok(Math.abs(normalQuantile(0.001) + 3.090232) < 1e-5);
  // t tables (two-sided 95 %): 12.706, 4.303, 3.182, 2.776, 2.571, 2.228 (ν = 10).
  for (
    const [df, t] of [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [10, 2.228]]
  ) {
    assert.ok(Math.abs(studentQuantile(0.975, df!) - t!) < 0.006 * t!, `ν = ${df}`);
  }
});

Deno.test("robustSd() is the σ of a normal sample and ignores a few wild draws", () => {
  const random = mulberry32(5);
  const draws = Array.from({ length: 4000 }, () => 0.2 * normalDraw(random));
  assert.ok(Math.abs(robustSd(draws) / 0.2 - 1) < 0.05);
  const wild = [...draws.slice(0, 400), ...Array.from({ length: 10 }, () => -30)];
  assert.ok(Math.abs(robustSd(wild) / 0.2 - 1) < 0.15, `${robustSd(wild)}`);
  assert.equal(robustSd([1, 2, 3]), 0, "too few draws: no spread claimed");
});

Deno.test("scoreCandidate() shrinks the rolling-origin RMS per e-fold toward the prior", () => {
  const origin = (ratio: number, eN: number): Origin => ({
    C: 1,
    label: "x",
    train: [],
    ratio,
    observed: { N: 1, loss: 1 },
    errors: { isoflop: { N: eN, loss: 0 }, additive: null },
  });
  const e = Math.E;
  const s = scoreCandidate([origin(e ** 2, 0.4), origin(e, -0.2)], "isoflop", "N");
  // u = 0.4/2 = 0.2 and −0.2/1: Σu² = 0.08 over 2 origins plus 2 prior pseudo-origins.
  const want = Math.sqrt((PRIOR_ORIGINS * PRIOR_SCALE_N ** 2 + 0.08) / (PRIOR_ORIGINS + 2));
  assert.ok(Math.abs(s.scale - want) < 1e-12 && s.n === 2 && Math.abs(s.rms! - 0.2) < 1e-12);
  assert.equal(scoreCandidate([origin(e, 0.1)], "additive", "N").n, 0, "a failed fit scores none");
  assert.equal(scoreCandidate([origin(e, 0.1)], "pooled", "N").n, 1);
});

Deno.test("eIdentified() and powerLawNoise(): E's range and the line's prediction error", () => {
  assert.equal(eIdentified(true, [2.1, 2.2], 2.4), false, "at a bound: never identified");
  assert.equal(eIdentified(false, [0, 3.07], 3.49), false);
  assert.equal(eIdentified(false, [2.16, 2.4], 2.41), true);
  // Vertices exactly on N = 0.1·C^0.5 but one: the residual sd sets σ, t with n − 2 df.
  const points: FitPoint[] = [];
  for (const [j, c] of [1e18, 1e19, 1e20, 1e21].entries()) {
    const nOpt = 0.1 * c ** 0.5 * (j === 1 ? 1.1 : 1);
    for (const k of [-1, -0.5, 0, 0.5, 1]) {
      const N = nOpt * Math.exp(k);
      points.push({ N, D: c / (6 * N), loss: 2 + 0.1 * k * k });
    }
  }
  const set = preparePoints(points, OPTS);
  const iso = fitIsoflop(set, set.budgets)!;
  const [near, far] = powerLawNoise(iso, [1e19, 1e23])!;
  assert.equal(near!.df, 2);
  assert.ok(near!.sd > 0 && far!.sd > 2 * near!.sd, "the error grows away from the data");
});

Deno.test("rollingOrigins(): a planned 2× step whose measured C falls a little short is an origin", () => {
  // The default study's budgets as measured: 6e9 and 1.2e10 are a 1.9997× step.
  const budgets = [2.9947e9, 5.9965e9, 1.19911e10, 2.99907e10];
  const points: FitPoint[] = [];
  for (const c of budgets) {
    const nOpt = 0.1 * c ** 0.5;
    for (const k of [-1, -0.5, 0, 0.5, 1]) {
      const N = nOpt * Math.exp(k);
      points.push({ N, D: c / (6 * N), C: c, loss: 2 + 0.1 * k * k });
    }
  }
  const set = preparePoints(points, OPTS);
  const exact: Forecaster = (_, flops) =>
    flops.map((c) => ({ N: 0.1 * c ** 0.5, loss: 2, eUnidentified: false }));
  const origins = rollingOrigins(set, fitIsoflop(set, set.budgets), { isoflop: exact });
  assert.deepEqual(origins.map((o) => o.label), [set.budgets[2]!.label, set.budgets[3]!.label]);
  assert.deepEqual(origins[0]!.train, [2.9947e9, 5.9965e9]);
});

const sweeps = loadPublishedSweeps();
if (sweeps === null) {
  console.warn(
    "recommend_test: ../shared/data/isoflops/ is absent; the published-sweep check is skipped",
  );
}

/** Fit a sweep's budgets ≤ C/10, forecast its largest budget of ≥ 5 runs, compare with its vertex. */
function forecastLargest(points: readonly FitPoint[], budgetRelTol: number, threshold: number) {
  const all = preparePoints(points, { flopsPerParamToken: 6, budgetRelTol });
  const target = fitIsoflop(all, all.budgets)!.budgets
    .filter((b) => b.C > threshold && b.status === "ok" && b.n_points >= 5).at(-1)!;
  const train = points.filter((p) => (p.C ?? 6 * p.N * p.D) <= threshold);
  const fit = fitScalingLaws({
    points: train,
    budget_rel_tol: budgetRelTol,
    budgets: [target.C],
    sensitivity: false,
    bootstrap: 100,
    seed: 1,
  });
  const row = recommendedAt(fit.table, target.C);
  const observed = { N: target.N!.vertex, loss: target.loss_opt! };
  return { fit, row, observed, ratio: row.extrapolation };
}

Deno.test({
  name:
    "published sweeps: the recommended row's loss within 1.5 %, N_opt inside, median width ≤ 3×",
  ignore: sweeps === null,
  fn() {
    const widths: number[] = [];
    let missesN = 0;
    for (const sweep of sweeps!) {
      const { row, observed, ratio } = forecastLargest(
        sweep.points,
        sweep.budgetRelTol,
        tenfoldThreshold(sweep.points),
      );
      const where = `${sweep.experiment} at ${ratio.toFixed(1)}×`;
      assert.ok(ratio >= 6, where);
      const lossErr = row.loss / observed.loss - 1;
      assert.ok(Math.abs(lossErr) < 0.015, `${where}: loss ${(100 * lossErr).toFixed(2)} %`);
      assert.ok(row.ci!.loss[0] <= observed.loss && observed.loss <= row.ci!.loss[1], where);
      if (!(row.ci!.N[0] <= observed.N && observed.N <= row.ci!.N[1])) missesN++;
      widths.push(row.ci!.N[1] / row.ci!.N[0]);
      // D = C/(m·N) on the budget: its interval mirrors N's.
      assert.ok(Math.abs(6 * row.N * row.D / row.C - 1) < 1e-12);
    }
    assert.ok(missesN <= 1, `${missesN} N_opt misses`);
    const sorted = widths.sort((a, b) => a - b);
    const median = (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
    assert.ok(
      median <= 3,
      `median N_opt width ${median.toFixed(2)}× (${sorted.map((w) => w.toFixed(2))})`,
    );
  },
});

Deno.test("default study (docs/sweep/results.jsonl): the sweep's own fit forecasts 3e11 from 3e9–3e10", () => {
  const records = Deno.readTextFileSync(
    new URL("../../../docs/sweep/results.jsonl", import.meta.url),
  ).trim().split("\n").map((l) => JSON.parse(l) as ResultRecord);
  const budgets = [...new Set(records.map((r) => r.budget_flops))].sort((a, b) => a - b);
  // Exactly the report's fit (`deno task sweep`): eval_loss, the study's measured m, the default
  // bootstrap and seed, the budgets above the 3× gap held out and forecast by the backtest.
  const { fit } = fitSweep({
    records,
    budgets,
    bootstrap: DEFAULT_BOOTSTRAP,
    seed: 0,
    fitLoss: "eval_loss",
  });
  assert.notEqual(fit.flops_per_param_token, 6, "the sweep fits with its measured m");
  const held = fit.backtest!.held_out.at(-1)!;
  const row = held.recommended!, observed = held.observed!;
  assert.equal(held.label, "3e11");
  assert.ok(Math.abs(held.extrapolation - 10) < 0.1);
  assert.ok(Math.abs(observed.N / 2.87e4 - 1) < 0.01, `observed N ${observed.N}`);
  const lossErr = row.loss / observed.loss - 1;
  assert.ok(Math.abs(lossErr) < 0.015, `loss ${(100 * lossErr).toFixed(2)} %`);
  assert.ok(row.ci!.loss[0] <= observed.loss && observed.loss <= row.ci!.loss[1], "loss inside");
  assert.ok(row.ci!.N[0] <= observed.N && observed.N <= row.ci!.N[1], `N ${row.ci!.N}`);
});

/**
 * Synthetic sweeps whose optimum drifts: ln N_opt = ln N₀ + a₀·x + κ·x²/2 (x = ln(C/C₀), so the
 * local exponent a₀ + κ·x bends), L_opt = E + k·C^−γ, and each budget's loss a parabola in ln N
 * around its optimum with multiplicative noise on L.
 */
function driftingSweep(seed: number) {
  const random = mulberry32(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const nBudgets = 4 + Math.floor(random() * 5); // 4–8
  const step = uniform(2, 3);
  const c0 = 1e18;
  const a0 = uniform(0.42, 0.58);
  const kappa = uniform(-0.03, 0.03);
  const noiseSd = uniform(0.003, 0.008);
  const nOpt = (c: number) => {
    const x = Math.log(c / c0);
    return 2e8 * Math.exp(a0 * x + kappa * x * x / 2);
  };
  const lossOpt = (c: number) => 1.8 + 40 * c ** -0.09;
  const points: FitPoint[] = [];
  const budgets = Array.from({ length: nBudgets }, (_, j) => c0 * step ** j);
  for (const c of budgets) {
    for (const k of [-1, -0.5, 0, 0.5, 1]) {
      const N = nOpt(c) * Math.exp(1.2 * k);
      const loss = (lossOpt(c) + 0.05 * (1.2 * k) ** 2) * Math.exp(noiseSd * normalDraw(random));
      points.push({ N, D: c / (6 * N), C: c, loss });
    }
  }
  const target = 10 * budgets.at(-1)!;
  return { points, target, truth: nOpt(target) };
}

/** Sweeps in the coverage check; its binomial sd at 95 % is √(0.95·0.05/40) ≈ 3.4 points. */
const DRIFT_SWEEPS = 40;
/** Lowest accepted coverage of the nominal 95 %: 3 binomial sds (10 points) below it. */
const DRIFT_MIN_COVERAGE = 0.85;

Deno.test("drifting optimum: the recommended N_opt interval at 10× covers the truth at about 95 %", () => {
  let covered = 0;
  const widths: number[] = [];
  const errors: number[] = [];
  for (let s = 0; s < DRIFT_SWEEPS; s++) {
    const { points, target, truth } = driftingSweep(100 + s);
    // bootstrap 0: the N_opt interval (Approach 2's regression noise, the rolling origins' model
    // error and the other approaches' forecasts) does not use the bootstrap.
    const fit = fitScalingLaws({ points, budgets: [target], bootstrap: 0, sensitivity: false });
    const row = recommendedAt(fit.table, target);
    if (row.ci!.N[0] <= truth && truth <= row.ci!.N[1]) covered++;
    widths.push(row.ci!.N[1] / row.ci!.N[0]);
    errors.push(Math.log(row.N / truth));
  }
  const coverage = covered / DRIFT_SWEEPS;
  const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
  const medianWidth = sorted(widths)[DRIFT_SWEEPS >> 1]!;
  // The estimator's actual spread: the width exp(q97.5 − q2.5) of its log-errors.
  const e = sorted(errors);
  const spread = Math.exp(
    e[Math.round(0.975 * (DRIFT_SWEEPS - 1))]! - e[Math.round(0.025 * (DRIFT_SWEEPS - 1))]!,
  );
  console.log(
    `drifting sweeps: coverage ${(100 * coverage).toFixed(0)} % (nominal 95 %), median width ` +
      `${medianWidth.toFixed(2)}×, the point forecasts' own 95 % spread ${spread.toFixed(2)}×`,
  );
  assert.ok(coverage >= DRIFT_MIN_COVERAGE, `coverage ${coverage}`);
  // Not wider than needed, within a stated margin: measured 4.76× against a spread of 2.06× (the
  // pooled history holds Approach 3's errors, large when the surface is not a Chinchilla law, so
  // the interval is conservative here: 98 % coverage). Past 2.5× the spread it is too wide.
  assert.ok(medianWidth <= 2.5 * spread, `median width ${medianWidth} vs spread ${spread}`);
});
