import assert from "node:assert/strict";
import {
  fitCurve,
  fitLine,
  fitParabola,
  hashString,
  quantile,
} from "../../../lib/sweep/isoflop.ts";

Deno.test("fitParabola() recovers an exact parabola, including far from x = 0", () => {
  const xs = [9, 9.5, 10, 10.5, 11];
  const ys = xs.map((x) => 2 - 0.8 * x + 0.04 * x * x);
  const p = fitParabola(xs, ys)!;
  assert.ok(
    Math.abs(p.c0 - 2) < 1e-8 && Math.abs(p.c1 + 0.8) < 1e-9 && Math.abs(p.c2 - 0.04) < 1e-10,
  );
  assert.equal(fitParabola([1, 1, 1], [1, 2, 3]), undefined, "singular design");
});

Deno.test("fitLine() recovers slope and intercept; undefined for equal x", () => {
  const line = fitLine([1, 2, 3], [3, 5, 7])!;
  assert.ok(Math.abs(line.slope - 2) < 1e-12 && Math.abs(line.intercept - 1) < 1e-12);
  assert.equal(fitLine([2, 2], [1, 3]), undefined);
});

Deno.test("fitCurve() places the vertex and says when it lies past an edge", () => {
  const pts = (centre: number) =>
    [1e3, 2e3, 4e3, 8e3, 16e3].map((N) => ({
      N,
      D: 1,
      C: 1,
      loss: 3 + 0.1 * Math.log(N / centre) ** 2,
    }));
  const inside = fitCurve(1, pts(4e3));
  assert.equal(inside.position, "inside");
  assert.ok(Math.abs(Math.exp(inside.lnNopt!) - 4e3) < 1e-6);
  assert.equal(fitCurve(1, pts(1e5)).position, "above");
  assert.equal(fitCurve(1, pts(10)).position, "below");
});

Deno.test("quantile() interpolates order statistics", () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([5], 0.9), 5);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("hashString() is deterministic", () => {
  assert.equal(hashString("abc"), hashString("abc"));
  assert.notEqual(hashString("abc"), hashString("abd"));
});
