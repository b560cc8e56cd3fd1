import assert from "node:assert/strict";
import { DEFAULT_FTOL, DEFAULT_GTOL, lbfgs } from "../../../lib/fit/lbfgs.ts";

function rosenbrock(x: Float64Array, g: Float64Array): number {
  const [a, b] = [x[0]!, x[1]!];
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
}

Deno.test("lbfgs() minimises Rosenbrock from (−1.2, 1) to 1e-8", () => {
  const res = lbfgs(rosenbrock, [-1.2, 1], { gtol: 1e-12, ftol: 0 });
  assert.ok(res.converged, res.status);
  assert.ok(Math.abs(res.x[0]! - 1) < 1e-8 && Math.abs(res.x[1]! - 1) < 1e-8, String(res.x));
  assert.ok(res.iterations < 100, `${res.iterations} iterations`);
});

Deno.test("lbfgs() solves an ill-conditioned quadratic (condition 1e6) exactly", () => {
  const d = [1, 1e2, 1e4, 1e6];
  const fg = (x: Float64Array, g: Float64Array) => {
    let f = 0;
    for (let i = 0; i < 4; i++) {
      g[i] = d[i]! * (x[i]! - i);
      f += 0.5 * d[i]! * (x[i]! - i) ** 2;
    }
    return f;
  };
  const res = lbfgs(fg, [5, 5, 5, 5], { gtol: 1e-10, ftol: 0 });
  assert.equal(res.status, "gtol");
  res.x.forEach((v, i) => assert.ok(Math.abs(v - i) < 1e-9, `x${i} = ${v}`));
});

Deno.test("lbfgs() backs off from steps where f is not finite", () => {
  // f = x − ln(x) has its minimum at 1 and is +∞ for x ≤ 0; big first steps overshoot.
  const fg = (x: Float64Array, g: Float64Array) => {
    const v = x[0]!;
    if (v <= 0) {
      g[0] = NaN;
      return Infinity;
    }
    g[0] = 1 - 1 / v;
    return v - Math.log(v);
  };
  const res = lbfgs(fg, [30], { gtol: 1e-12 });
  assert.ok(Math.abs(res.x[0]! - 1) < 1e-6, `x = ${res.x[0]}`);
});

Deno.test("lbfgs() reports non-finite starts and SciPy's default tolerances", () => {
  const res = lbfgs((_x, g) => {
    g[0] = 0;
    return NaN;
  }, [0]);
  assert.equal(res.status, "non_finite");
  assert.equal(res.converged, false);
  assert.equal(DEFAULT_GTOL, 1e-5);
  assert.ok(Math.abs(DEFAULT_FTOL - 2.220446049250313e-9) < 1e-24);
  const capped = lbfgs(rosenbrock, [-1.2, 1], { maxIterations: 3, gtol: 0, ftol: 0 });
  assert.equal(capped.status, "max_iterations");
});
