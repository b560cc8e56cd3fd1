import assert from "node:assert/strict";
import {
  centre,
  fromCentred,
  huberLogObjective,
  jointLogObjective,
  toCentred,
} from "../../../lib/fit/objective.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { isoflopPoints, SIX_BUDGETS } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };

/**
 * The analytic gradient of `objective` at θ matches central differences (h = 1e-6) in every
 * coordinate, to 1e-5 relative.
 */
function assertGradient(
  objective: (theta: Float64Array, grad: Float64Array) => number,
  theta: Float64Array,
): void {
  const g = new Float64Array(theta.length);
  objective(theta, g);
  const f = (t: Float64Array) => objective(t, new Float64Array(theta.length));
  for (let k = 0; k < theta.length; k++) {
    const h = 1e-6;
    const up = Float64Array.from(theta), dn = Float64Array.from(theta);
    up[k] = up[k]! + h;
    dn[k] = dn[k]! - h;
    const fd = (f(up) - f(dn)) / (2 * h);
    assert.ok(Math.abs(fd - g[k]!) < 1e-5 * Math.max(1, Math.abs(fd)), `∂${k}: ${g[k]} vs ${fd}`);
  }
}

Deno.test("huberLogObjective() gradient matches central finite differences", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 5, halfWidth: 1, noiseSd: 0.01 }),
    OPTS,
  );
  const theta = Float64Array.of(5.5, 6.1, 0.4, 0.3, 0.25);
  assertGradient(
    (t, g) => huberLogObjective(t, g, set.lnParams, set.lnData, set.lnLoss, 1e-3),
    theta,
  );
});

Deno.test("centre() coordinates give the same objective, and toCentred/fromCentred invert", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 5, halfWidth: 1, noiseSd: 0.01 }),
    OPTS,
  );
  const c = centre(set);
  const theta = Float64Array.of(5.5, 6.1, 0.4, 0.3, 0.25);
  const g = new Float64Array(5);
  const raw = huberLogObjective(theta, g, set.lnParams, set.lnData, set.lnLoss, 1e-3);
  const cen = huberLogObjective(toCentred(theta, c), g, c.xN, c.xD, c.lnLoss, 1e-3);
  assert.ok(Math.abs(raw - cen) < 1e-12 * raw, `${raw} vs ${cen}`);
  const back = fromCentred(toCentred(theta, c), c);
  back.forEach((v, i) => assert.ok(Math.abs(v - theta[i]!) < 1e-12));
  // Weights are multiplicities: weight 2 = the point listed twice.
  const w = new Float64Array(set.n).fill(1);
  w[0] = 2;
  const weighted = huberLogObjective(theta, g, set.lnParams, set.lnData, set.lnLoss, 1e-3, w);
  const doubled = huberLogObjective(
    theta,
    g,
    Float64Array.from([...set.lnParams, set.lnParams[0]!]),
    Float64Array.from([...set.lnData, set.lnData[0]!]),
    Float64Array.from([...set.lnLoss, set.lnLoss[0]!]),
    1e-3,
  );
  assert.ok(Math.abs(weighted - doubled) < 1e-12 * doubled);
});

Deno.test("jointLogObjective() gradient matches finite differences, and γ = 1 is the additive objective", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 5, halfWidth: 1, noiseSd: 0.01 }),
    OPTS,
  );
  const c = centre(set);
  for (const g0 of [Math.log(0.4), 0, Math.log(1.7)]) {
    const theta = Float64Array.of(-1.2, -0.9, 0.4, 0.3 / Math.exp(g0), 0.25 / Math.exp(g0), g0);
    assertGradient((t, g) => jointLogObjective(t, g, c.xN, c.xD, c.lnLoss, 1e-3), theta);
  }
  const additive = Float64Array.of(-1.2, -0.9, 0.4, 0.3, 0.25);
  const ga = new Float64Array(5), gj = new Float64Array(6);
  const fa = huberLogObjective(additive, ga, c.xN, c.xD, c.lnLoss, 1e-3);
  const fj = jointLogObjective(Float64Array.of(...additive, 0), gj, c.xN, c.xD, c.lnLoss, 1e-3);
  assert.ok(Math.abs(fa - fj) < 1e-12 * fa, `${fa} vs ${fj}`);
  for (let k = 0; k < 5; k++) assert.ok(Math.abs(ga[k]! - gj[k]!) < 1e-12 * Math.max(1, fa));
  // toCentred / fromCentred carry g = ln γ through unchanged.
  const t6 = Float64Array.of(5.5, 6.1, 0.4, 0.3, 0.25, -0.7);
  assert.equal(toCentred(t6, c)[5], -0.7);
  assert.deepEqual(Array.from(fromCentred(toCentred(t6, c), c)).map((v) => +v.toFixed(10)), [
    ...Array.from(t6).map((v) => +v.toFixed(10)),
  ]);
});
