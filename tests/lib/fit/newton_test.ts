import assert from "node:assert/strict";
import { newtonPolish } from "../../../lib/fit/newton.ts";

Deno.test("newtonPolish() converges quadratically on a smooth minimum", () => {
  // f = Σ e^{x_i} − 2·x_i + (x_0 − x_1)²: minimum where e^{x_i} = 2 ± …, smooth, not quadratic.
  const fg = (x: Float64Array, g: Float64Array) => {
    const d = x[0]! - x[1]!;
    g[0] = Math.exp(x[0]!) - 2 + 2 * d;
    g[1] = Math.exp(x[1]!) - 2 - 2 * d;
    return Math.exp(x[0]!) + Math.exp(x[1]!) - 2 * x[0]! - 2 * x[1]! + d * d;
  };
  const res = newtonPolish(fg, [0.3, 1.2]);
  assert.ok(Math.abs(res.x[0]! - Math.LN2) < 1e-12 && Math.abs(res.x[1]! - Math.LN2) < 1e-12);
  assert.ok(res.steps <= 8, `${res.steps} steps`);
});

Deno.test("newtonPolish() never raises f and leaves a kinked minimum alone", () => {
  // f = |x| has no Newton step that helps at 0: the point must come back unchanged.
  const fg = (x: Float64Array, g: Float64Array) => {
    g[0] = Math.sign(x[0]!);
    return Math.abs(x[0]!);
  };
  const res = newtonPolish(fg, [0]);
  assert.equal(res.x[0], 0);
  assert.equal(res.steps, 0);
  const far = newtonPolish(fg, [0.5]);
  assert.ok(far.f <= 0.5);
});
