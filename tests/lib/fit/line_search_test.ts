import assert from "node:assert/strict";
import { dot, wolfeLineSearch } from "../../../lib/fit/line_search.ts";

/** f(x) = Σ d_i (x_i − 1)⁴ + x_i²: smooth, non-quadratic. */
function quartic(x: Float64Array, g: Float64Array): number {
  let f = 0;
  for (let i = 0; i < x.length; i++) {
    const t = x[i]! - 1;
    f += (i + 1) * t ** 4 + x[i]! ** 2;
    g[i] = 4 * (i + 1) * t ** 3 + 2 * x[i]!;
  }
  return f;
}

Deno.test("wolfeLineSearch() returns a step meeting both strong Wolfe conditions", () => {
  for (const step0 of [1e-3, 1, 100]) {
    const x = Float64Array.of(-2, 3, 0.5);
    const g = new Float64Array(3);
    const f0 = quartic(x, g);
    const p = g.map((v) => -v);
    const slope = dot(g, p);
    const xOut = new Float64Array(3);
    const gOut = new Float64Array(3);
    const res = wolfeLineSearch(quartic, x, f0, slope, p, step0, xOut, gOut);
    assert.ok(res.ok, `step0 ${step0}`);
    const step = (xOut[0]! - x[0]!) / p[0]!;
    assert.ok(res.f <= f0 + 1e-4 * step * slope, "sufficient decrease");
    assert.ok(Math.abs(dot(gOut, p)) <= 0.9 * Math.abs(slope), "curvature");
    assert.equal(res.f, quartic(xOut, new Float64Array(3)));
  }
});

Deno.test("wolfeLineSearch() fails cleanly along an ascent direction", () => {
  const x = Float64Array.of(-2, 3, 0.5);
  const g = new Float64Array(3);
  const f0 = quartic(x, g);
  const p = Float64Array.from(g);
  const res = wolfeLineSearch(
    quartic,
    x,
    f0,
    dot(g, p),
    p,
    1,
    new Float64Array(3),
    new Float64Array(3),
  );
  assert.equal(res.ok, false);
  assert.equal(res.f, f0);
});
