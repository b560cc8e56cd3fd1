import assert from "node:assert/strict";
import fc from "fast-check";
import { lbfgs } from "../../../lib/fit/lbfgs.ts";
import {
  chinchillaGrid,
  fitParametric,
  huberLogObjective,
  type Law,
  thetaToLaw,
} from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";
import { loadPublishedSweeps } from "./_isoflops.ts";
import { mulberry32 } from "../../../lib/random.ts";

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

Deno.test("fitParametric() recovers random plausible laws to 1e-4 from noiseless sweeps (property)", () => {
  fc.assert(
    fc.property(
      fc.record({
        E: fc.double({ min: 0.5, max: 3, noNaN: true }),
        A: fc.double({ min: 50, max: 5000, noNaN: true }),
        B: fc.double({ min: 50, max: 5000, noNaN: true }),
        alpha: fc.double({ min: 0.1, max: 1, noNaN: true }),
        beta: fc.double({ min: 0.1, max: 1, noNaN: true }),
      }),
      (law) => {
        const set = preparePoints(
          isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 5), perBudget: 7, halfWidth: 1.5, law }),
          OPTS,
        );
        const fit = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
        assertLawClose(fit.law, law, 1e-4);
      },
    ),
    { numRuns: 40, seed: 20260123 },
  );
});

Deno.test("fitParametric() holds E fixed, and clamps it to a bound the free fit crosses", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 7,
    halfWidth: 1,
    noiseSd: 0.003,
    seed: 21,
  });
  const set = preparePoints(points, { flopsPerParamToken: 6, budgetRelTol: 0.05 });
  const free = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
  assert.equal(free.eAtBound, false);
  const fixed = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro", E: { fixed: 1.69 } });
  assert.equal(fixed.law.E, 1.69);
  assert.ok(fixed.eAtBound);
  // Knowing the floor, the exponents are no worse than the free fit's.
  const err = (f: typeof free) =>
    Math.abs(f.law.alpha - TRUTH.alpha) + Math.abs(f.law.beta - TRUTH.beta);
  assert.ok(err(fixed) <= err(free) + 0.01, `fixed ${err(fixed)} vs free ${err(free)}`);
  // The constrained optimum is no better than the free one, and holds its constraint.
  assert.ok(fixed.objective >= free.objective * (1 - 1e-9));
  const above = fitParametric(set, {
    huberDelta: 1e-3,
    multistart: "varpro",
    E: { min: free.law.E * 1.05 },
  });
  assert.ok(Math.abs(above.law.E - free.law.E * 1.05) < 1e-12 && above.eAtBound);
  const loose = fitParametric(set, {
    huberDelta: 1e-3,
    multistart: "varpro",
    E: { min: free.law.E / 2, max: free.law.E * 2 },
  });
  assert.deepEqual(loose.law, free.law);
  assert.equal(loose.eAtBound, false);
});

/** A joint-form law: Chinchilla's inner terms under an outer exponent γ = 0.5. */
const JOINT_TRUTH: Law = { ...TRUTH, E: 1.2, A: 406.4 ** 2, B: 410.7 ** 2, gamma: 0.5 };

Deno.test("fitParametric() form joint recovers E, A, B, α, β, γ from noiseless points", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 9, halfWidth: 1.5, law: JOINT_TRUTH }),
    OPTS,
  );
  const additive = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
  const fit = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro", form: "joint" });
  assert.equal(fit.form, "joint");
  assert.equal(fit.theta.length, 6);
  assertLawClose(fit.law, JOINT_TRUTH, 1e-3);
  assert.ok(relErr(fit.law.gamma!, 0.5) < 1e-3, `γ = ${fit.law.gamma}`);
  // The additive law cannot represent it: its optimum is far worse on the same points.
  assert.ok(fit.objective < 1e-10 && additive.objective > 1e3 * fit.objective);
});

Deno.test("fitParametric() form joint on additive data finds γ ≈ 1, never worse than additive", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 5), perBudget: 5, halfWidth: 1 }),
    OPTS,
  );
  const additive = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
  const fit = fitParametric(set, { huberDelta: 1e-3, multistart: "varpro", form: "joint" });
  assert.ok(fit.objective <= additive.objective + 1e-15);
  assert.ok(Math.abs(fit.law.gamma! - 1) < 1e-3, `γ = ${fit.law.gamma}`);
  assertLawClose(fit.law, TRUTH, 1e-3);
  // With E fixed at its true value the joint fit keeps it there.
  const fixed = fitParametric(set, {
    huberDelta: 1e-3,
    multistart: "varpro",
    form: "joint",
    E: { fixed: 1.69 },
  });
  assert.equal(fixed.law.E, 1.69);
  assert.ok(fixed.eAtBound && Math.abs(fixed.law.gamma! - 1) < 1e-3);
});

Deno.test("fitParametric(): the same points in any order give the same fit, to the bit", () => {
  // Issue #19: on a published sweep `converged` (and the law's last digits) depended on the
  // order of the points; they are now sorted canonically before fitting.
  const sweep = loadPublishedSweeps()?.find((s) => s.experiment.includes("dclm"));
  const points = sweep?.points ??
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1.2, noiseSd: 0.01, seed: 2 });
  const fitOf = (order: readonly number[]) => {
    const set = preparePoints(order.map((i) => points[i]!), {
      flopsPerParamToken: 6,
      budgetRelTol: 0.05,
    });
    return fitParametric(set, { huberDelta: 1e-3, multistart: "varpro" });
  };
  const identity = points.map((_, i) => i);
  const reference = fitOf(identity);
  const random = mulberry32(12);
  for (let k = 0; k < 4; k++) {
    const order = [...identity];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const fit = fitOf(order);
    assert.equal(fit.converged, reference.converged, `shuffle ${k}`);
    assert.deepEqual(fit.law, reference.law, `shuffle ${k}`);
    assert.equal(fit.objective, reference.objective, `shuffle ${k}`);
  }
});
