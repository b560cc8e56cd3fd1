import assert from "node:assert/strict";
import { lbfgs } from "../../../lib/fit/lbfgs.ts";
import {
  chinchillaGrid,
  computeOptimal,
  exponentsOf,
  fitParametric,
  huberLogObjective,
  type Law,
  predictLoss,
  thetaToLaw,
} from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

function assertLawClose(law: Law, truth: Law, rel: number): void {
  for (const k of ["E", "A", "B", "alpha", "beta"] as const) {
    assert.ok(relErr(law[k], truth[k]) < rel, `${k} = ${law[k]} vs ${truth[k]} (rel ${rel})`);
  }
}

Deno.test("fitParametric() recovers E, A, B, α, β to 1e-4 relative from noiseless points on 6 budgets", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 9, halfWidth: 1.5 }),
    OPTS,
  );
  const fit = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
  assertLawClose(fit.law, TRUTH, 1e-4);
  assert.ok(fit.converged, fit.status);
  assert.ok(fit.objective < 1e-12);
});

Deno.test("fitParametric() recovers the law to 1e-4 on 5 budgets with 5 points each", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 5), perBudget: 5, halfWidth: 1 }),
    OPTS,
  );
  assertLawClose(fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" }).law, TRUTH, 1e-4);
});

Deno.test("fitParametric() varpro reaches the optimum of L-BFGS from all 4,500 Chinchilla starts", () => {
  const set = preparePoints(
    isoflopPoints({
      budgets: SIX_BUDGETS.slice(0, 3),
      perBudget: 7,
      halfWidth: 1.2,
      noiseSd: 0.02,
      seed: 5,
    }),
    OPTS,
  );
  const fast = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
  const grid = fitParametric(set, { huberDelta: 1e-3, multistart: "grid" });
  assert.equal(grid.nStarts, 4500);
  assert.ok(
    fast.objective <= grid.objective * (1 + 1e-9),
    `${fast.objective} vs ${grid.objective}`,
  );
  assertLawClose(fast.law, grid.law, 1e-4);
});

Deno.test("huberLogObjective() gradient matches central finite differences", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 5, halfWidth: 1, noiseSd: 0.01 }),
    OPTS,
  );
  const theta = Float64Array.of(5.5, 6.1, 0.4, 0.3, 0.25);
  const g = new Float64Array(5);
  const f = (t: Float64Array) =>
    huberLogObjective(t, new Float64Array(5), set.lnParams, set.lnData, set.lnLoss, 1e-3);
  huberLogObjective(theta, g, set.lnParams, set.lnData, set.lnLoss, 1e-3);
  for (let k = 0; k < 5; k++) {
    const h = 1e-6;
    const up = Float64Array.from(theta), dn = Float64Array.from(theta);
    up[k] = up[k]! + h;
    dn[k] = dn[k]! - h;
    const fd = (f(up) - f(dn)) / (2 * h);
    assert.ok(Math.abs(fd - g[k]!) < 1e-5 * Math.max(1, Math.abs(fd)), `∂${k}: ${g[k]} vs ${fd}`);
  }
});

Deno.test("summing recovers the law where averaging stops L-BFGS early with default tolerances", () => {
  // Chinchilla's pitfall: SciPy-style tolerances (gtol 1e-5, ftol 2.2e-9 relative to
  // max(|f|, 1)) are absolute for small objectives; a mean over points makes f and ∇f
  // n times smaller, so L-BFGS declares convergence far from the optimum. Same data,
  // same starts (the 200 best of Chinchilla's grid), same default tolerances.
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 9, halfWidth: 1.5 }),
    OPTS,
  );
  const n = set.n;
  const sum = (t: Float64Array, g: Float64Array) =>
    huberLogObjective(t, g, set.lnParams, set.lnData, set.lnLoss, 1e-3);
  const mean = (t: Float64Array, g: Float64Array) => {
    const f = sum(t, g);
    for (let k = 0; k < 5; k++) g[k] = g[k]! / n;
    return f / n;
  };
  const grad = new Float64Array(5);
  const starts = chinchillaGrid().map((s) => ({ s, f: sum(s, grad) }))
    .sort((p, q) => p.f - q.f).slice(0, 200);
  let bestSum = { f: Infinity, x: starts[0]!.s };
  let bestMean = { f: Infinity, x: starts[0]!.s };
  for (const { s } of starts) {
    const rs = lbfgs(sum, s);
    if (rs.f < bestSum.f) bestSum = { f: rs.f, x: rs.x };
    const rm = lbfgs(mean, s);
    const f = sum(rm.x, grad);
    if (f < bestMean.f) bestMean = { f, x: rm.x };
  }
  const lawSum = thetaToLaw(bestSum.x);
  const lawMean = thetaToLaw(bestMean.x);
  assertLawClose(lawSum, TRUTH, 1e-3);
  const worstMean = Math.max(
    ...(["E", "A", "B", "alpha", "beta"] as const).map((k) => relErr(lawMean[k], TRUTH[k])),
  );
  assert.ok(worstMean > 1e-2, `averaging should stop visibly short, worst rel error ${worstMean}`);
  assert.ok(bestMean.f > 1e3 * bestSum.f, `${bestMean.f} vs ${bestSum.f}`);
  // Ours sums and polishes with tight tolerances: 1e-4 or better.
  assertLawClose(fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" }).law, TRUTH, 1e-4);
});

Deno.test("computeOptimal() matches a brute-force minimum of L along C = m·N·D", () => {
  for (const m of [6, 2.5]) {
    const c = 1e21;
    const opt = computeOptimal(TRUTH, c, m);
    assert.ok(relErr(m * opt.params * opt.data, c) < 1e-12);
    let bestN = 0;
    let bestL = Infinity;
    for (let x = Math.log(opt.params) - 0.5; x < Math.log(opt.params) + 0.5; x += 1e-5) {
      const N = Math.exp(x);
      const L = predictLoss(TRUTH, N, c / (m * N));
      if (L < bestL) [bestL, bestN] = [L, N];
    }
    assert.ok(relErr(bestN, opt.params) < 1e-4, `m=${m}: ${bestN} vs ${opt.params}`);
    assert.ok(relErr(bestL, opt.loss) < 1e-10);
  }
  const { a, b } = exponentsOf(TRUTH);
  assert.ok(Math.abs(a + b - 1) < 1e-15);
  assert.ok(relErr(a, 0.28 / 0.62) < 1e-15);
});
