import assert from "node:assert/strict";
import { fitParabola } from "../../../lib/fit/isoflop.ts";
import { fitCurve, fitCurves } from "../../../lib/plan/isoflop.ts";

/** Five sizes 1e3…16e3 on one budget with losses from `loss(N)`. */
function curvePoints(loss: (N: number) => number) {
  return [1e3, 2e3, 4e3, 8e3, 16e3].map((N) => ({ N, D: 1, C: 1, loss: loss(N) }));
}

Deno.test("fitCurve() places the vertex and says when it lies past an edge", () => {
  const pts = (centre: number) => curvePoints((N) => 3 + 0.1 * Math.log(N / centre) ** 2);
  const inside = fitCurve(1, pts(4e3));
  assert.equal(inside.position, "inside");
  assert.ok(Math.abs(Math.exp(inside.lnNopt!) - 4e3) < 1e-6);
  assert.ok(Math.abs(inside.lossMin! - 3) < 1e-12);
  assert.ok(inside.rms < 1e-12 && inside.reason === undefined);
  assert.equal(fitCurve(1, pts(1e5)).position, "above");
  assert.equal(fitCurve(1, pts(10)).position, "below");
});

Deno.test("fitCurve() agrees with the fitter's fitParabola() on a noisy curve", () => {
  const pts = curvePoints((N) => 3 + 0.1 * Math.log(N / 3e3) ** 2 + 0.002 * Math.sin(N));
  const curve = fitCurve(1, pts);
  const fit = fitParabola(pts.map((p) => Math.log(p.N)), pts.map((p) => p.loss));
  assert.ok(typeof fit !== "string");
  assert.equal(curve.lnNopt, Math.log(fit.vertex));
  assert.equal(curve.lossMin, fit.minimum);
  assert.deepEqual(curve.parabola!.coefficients, fit.coefficients);
  assert.ok(curve.rms > 0);
});

Deno.test("fitCurve() keeps a concave curve's parabola and reports the edge its best point is on", () => {
  // Concave in ln N, best at the largest size: the fitter refuses a vertex, the planner still
  // needs the shape and the edge to extend past.
  const concave = fitCurve(1, curvePoints((N) => 3 - 0.05 * Math.log(N / 1e3) ** 2));
  assert.equal(concave.position, "above");
  assert.equal(concave.lnNopt, undefined);
  assert.equal(concave.lossMin, undefined);
  assert.ok(concave.parabola!.coefficients[2] < 0, "the negative curvature is kept");
  assert.match(concave.reason!, /non-positive curvature/);
  assert.ok(concave.rms < 1e-12);
  const below = fitCurve(1, curvePoints((N) => 3 - 0.05 * Math.log(N / 16e3) ** 2));
  assert.equal(below.position, "below");
  // Concave overall but best in the middle (a noisy W): no edge to extend past.
  const w = [2, 3, 1.9, 3, 2];
  const bump = curvePoints(() => 0).map((p, i) => ({ ...p, loss: w[i]! }));
  const middle = fitCurve(1, bump);
  assert.equal(middle.position, "unknown");
  assert.match(middle.reason!, /non-positive curvature/);
  // Linear in ln N: flat curvature is refused like concave; best point is the smallest size.
  const linear = fitCurve(1, curvePoints((N) => 3 + 0.01 * Math.log(N)));
  assert.equal(linear.position, "below");
  assert.equal(linear.lnNopt, undefined);
});

Deno.test("fitCurve() gives no parabola, with the fitter's reason, for fewer than 3 distinct sizes", () => {
  const pts = [1e3, 1e3, 2e3].map((N, i) => ({ N, D: 1, C: 1, loss: 3 + i }));
  const curve = fitCurve(1, pts);
  assert.equal(curve.parabola, undefined);
  assert.equal(curve.position, "unknown");
  assert.match(curve.reason!, /2 distinct/);
});

Deno.test("fitCurves() groups points by budget, ascending in C and N", () => {
  const pts = [
    ...curvePoints((N) => 3 + 0.1 * Math.log(N / 4e3) ** 2).map((p) => ({ ...p, C: 2 })),
    ...curvePoints((N) => 2 + 0.1 * Math.log(N / 4e3) ** 2),
  ].reverse();
  const curves = fitCurves(pts);
  assert.deepEqual(curves.map((c) => c.C), [1, 2]);
  assert.ok(curves.every((c) => c.points.every((p, i, a) => i === 0 || a[i - 1]!.N < p.N)));
  assert.ok(Math.abs(curves[0]!.lossMin! - 2) < 1e-12 && Math.abs(curves[1]!.lossMin! - 3) < 1e-12);
});
