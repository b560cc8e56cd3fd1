import assert from "node:assert/strict";
import {
  evalParabola,
  evalPowerLaw,
  fitIsoflop,
  fitParabola,
  fitQuadratic,
  parabolaMinimum,
} from "../../../lib/fit/isoflop.ts";
import { computeOptimal, exponentsOf } from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import type { FitPoint } from "../../../lib/fit/schema.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };
const { a: A_TRUE, b: B_TRUE } = exponentsOf(TRUTH);

Deno.test("fitParabola() recovers an exact parabola, its vertex, minimum and R² = 1", () => {
  const x = [10, 11, 12, 13, 14];
  const y = x.map((v) => 2 + 0.5 * (v - 12.3) ** 2);
  const fit = fitParabola(x, y);
  assert.ok(typeof fit !== "string");
  assert.ok(Math.abs(Math.log(fit.vertex) - 12.3) < 1e-10);
  assert.ok(Math.abs(fit.minimum - 2) < 1e-10);
  assert.ok(Math.abs(fit.coefficients[2] - 0.5) < 1e-10);
  assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
  assert.equal(fit.edge, false);
});

Deno.test("fitParabola() refuses < 3 distinct points and non-positive curvature, flags edge vertices", () => {
  assert.match(fitParabola([1, 1, 2], [3, 3, 4]) as string, /2 distinct/);
  assert.match(fitParabola([1, 2, 3, 4], [1, 2, 2.5, 2.7]) as string, /non-positive curvature/);
  const edge = fitParabola([1, 2, 3], [3, 2, 1.5]);
  assert.ok(typeof edge !== "string" && edge.edge);
  // Zero weights drop points: two distinct weighted points are not enough.
  assert.match(fitParabola([1, 2, 3], [3, 2, 3], [1, 1, 0]) as string, /2 distinct/);
});

Deno.test("fitQuadratic() recovers exact coefficients far from x = 0 and refuses a singular design", () => {
  // x ≈ ln N of small models: uncentred normal equations would lose ~8 digits here.
  const x = [9, 9.5, 10, 10.5, 11];
  const y = x.map((v) => 2 - 0.8 * v + 0.04 * v * v);
  const fit = fitQuadratic(x, y);
  assert.ok(typeof fit !== "string");
  const [c0, c1, c2] = fit.coefficients;
  assert.ok(Math.abs(c0 - 2) < 1e-8 && Math.abs(c1 + 0.8) < 1e-9 && Math.abs(c2 - 0.04) < 1e-10);
  assert.ok(fit.ss_res < 1e-20 && fit.weight_sum === 5);
  assert.ok(x.every((v, i) => Math.abs(evalParabola(fit.coefficients, v) - y[i]!) < 1e-10));
  assert.match(fitQuadratic([1, 1, 1], [1, 2, 3]) as string, /1 distinct/);
});

Deno.test("fitQuadratic() keeps a concave curve's shape that parabolaMinimum() refuses", () => {
  const x = [1, 2, 3, 4];
  const y = x.map((v) => 3 - 0.1 * (v - 2.5) ** 2);
  const fit = fitQuadratic(x, y);
  assert.ok(typeof fit !== "string");
  assert.ok(Math.abs(fit.coefficients[2] + 0.1) < 1e-12, "the negative curvature is reported");
  assert.match(parabolaMinimum(fit) as string, /non-positive curvature/);
  assert.equal(fitParabola(x, y), parabolaMinimum(fit), "fitParabola() gives the same reason");
  // A convex one: parabolaMinimum() of the quadratic is exactly fitParabola().
  const convex = fitQuadratic(x, x.map((v) => 3 + 0.1 * (v - 2.5) ** 2));
  assert.ok(typeof convex !== "string");
  assert.deepEqual(parabolaMinimum(convex), fitParabola(x, x.map((v) => 3 + 0.1 * (v - 2.5) ** 2)));
});

Deno.test("fitIsoflop() recovers a and b exactly from sweeps centred on the optimum (bias only shifts k)", () => {
  // L(N, C/6N) − E = K(C)·g(ln N − ln N_opt(C)): every IsoFLOP curve has the same shape
  // around its optimum, so the parabola's vertex bias (∝ width²) is the same in ln N at
  // every budget and cancels from the slope a; it only scales k.
  const shifts: number[] = [];
  for (const w of [2, 1]) {
    const set = preparePoints(
      isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 9, halfWidth: w }),
      OPTS,
    );
    const fit = fitIsoflop(set, set.budgets)!;
    assert.equal(fit.n_used, 6);
    assert.ok(Math.abs(fit.a - A_TRUE) < 1e-9, `a = ${fit.a}`);
    assert.ok(Math.abs(fit.b - B_TRUE) < 1e-9, `b = ${fit.b}`);
    const c = SIX_BUDGETS[2]!;
    shifts.push(Math.log(evalPowerLaw(fit.N_opt, c) / computeOptimal(TRUTH, c, 6).params));
  }
  // Vertex bias shrinks like width²: halving the width divides it by ≈ 4.
  const ratio = shifts[0]! / shifts[1]!;
  assert.ok(ratio > 3.5 && ratio < 4.5, `bias ratio ${ratio}`);
});

Deno.test("fitIsoflop() a from off-centre sweeps matches the bias the grid's width and offset predict", () => {
  // Least squares of a parabola c + L1·s + L2·s² on a symmetric grid of offsets s
  // (moments m_k = ⟨s^k⟩) centred Δ from the optimum of
  // h(t) = h₀ + h₂t²/2 + h₃t³/6 + h₄t⁴/24 + …, t = s + Δ. On a symmetric grid s³
  // projects onto (m4/m2)·s and s⁴ onto const + k6·s², k6 = (m6 − m4·m2)/(m4 − m2²):
  //   L1 = h₂Δ + h₃(Δ²/2 + m4/(6·m2)) + h₄(Δ·m4/m2 + Δ³)/6
  //   L2 = h₂/2 + h₃Δ/2 + h₄(k6 + 6Δ²)/24,      vertex = centre − L1/(2·L2).
  // Centres follow C^0.5 (a wrong guess), so Δ grows with C and biases a; the
  // predicted vertices must explain the error of a.
  const perBudget = 9;
  const w = 1;
  const offsets = Array.from({ length: perBudget }, (_, k) => -w + (2 * w * k) / (perBudget - 1));
  const m2 = offsets.reduce((s, v) => s + v ** 2, 0) / perBudget;
  const m4 = offsets.reduce((s, v) => s + v ** 4, 0) / perBudget;
  const m6 = offsets.reduce((s, v) => s + v ** 6, 0) / perBudget;
  const k6 = (m6 - m4 * m2) / (m4 - m2 * m2);
  const points: FitPoint[] = [];
  const predicted: number[] = [];
  for (const c of SIX_BUDGETS) {
    const centre = Math.log(0.05 * (c / 6) ** 0.5);
    for (const s of offsets) {
      const N = Math.exp(centre + s);
      const D = c / (6 * N);
      points.push({ N, D, loss: TRUTH.E + TRUTH.A / N ** TRUTH.alpha + TRUTH.B / D ** TRUTH.beta });
    }
    // h(x) = A·e^{−αx} + B·(C/6)^{−β}·e^{βx}, x = ln N; derivatives at the optimum.
    const xOpt = Math.log(computeOptimal(TRUTH, c, 6).params);
    const pa = TRUTH.A * Math.exp(-TRUTH.alpha * xOpt);
    const pb = TRUTH.B * (c / 6) ** -TRUTH.beta * Math.exp(TRUTH.beta * xOpt);
    const h2 = pa * TRUTH.alpha ** 2 + pb * TRUTH.beta ** 2;
    const h3 = -pa * TRUTH.alpha ** 3 + pb * TRUTH.beta ** 3;
    const h4 = pa * TRUTH.alpha ** 4 + pb * TRUTH.beta ** 4;
    const d = centre - xOpt;
    const l1 = h2 * d + h3 * (d ** 2 / 2 + m4 / (6 * m2)) + (h4 * (d * m4 / m2 + d ** 3)) / 6;
    const l2 = h2 / 2 + (h3 * d) / 2 + (h4 * (k6 + 6 * d ** 2)) / 24;
    predicted.push(centre - l1 / (2 * l2));
  }
  const set = preparePoints(points, OPTS);
  const fit = fitIsoflop(set, set.budgets)!;
  // Slope of the predicted vertices against ln C = the a this design should give.
  const lnC = SIX_BUDGETS.map(Math.log);
  const mx = lnC.reduce((s, v) => s + v, 0) / lnC.length;
  const my = predicted.reduce((s, v) => s + v, 0) / predicted.length;
  const aPred = lnC.reduce((s, v, i) => s + (v - mx) * (predicted[i]! - my), 0) /
    lnC.reduce((s, v) => s + (v - mx) ** 2, 0);
  const errTrue = Math.abs(fit.a - A_TRUE);
  const errPred = Math.abs(fit.a - aPred);
  assert.ok(errTrue > 1e-3, `the design should bias a visibly (${errTrue})`);
  assert.ok(
    errPred < errTrue / 5,
    `bias formula should explain a: |a − a_pred| = ${errPred}, |a − a_true| = ${errTrue}`,
  );
  assert.ok(errTrue < 0.02);
});

Deno.test("fitIsoflop() refuses a budget with non-positive curvature and still fits the rest", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 3), perBudget: 5, halfWidth: 1 });
  // Make the last budget monotone in N: no minimum.
  points.slice(10).forEach((p, k) => (p.loss = 3 - 0.1 * k));
  const set = preparePoints(points, OPTS);
  const fit = fitIsoflop(set, set.budgets)!;
  assert.equal(fit.n_used, 2);
  assert.equal(fit.budgets[2]!.status, "refused");
  assert.match(fit.budgets[2]!.reason!, /curvature/);
});

Deno.test("fitIsoflop() returns null when fewer than 2 budgets have a minimum", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 2), perBudget: 5, halfWidth: 1 });
  points.slice(5).forEach((p, k) => (p.loss = 3 - 0.1 * k));
  const set = preparePoints(points, OPTS);
  assert.equal(fitIsoflop(set, set.budgets), null);
});
