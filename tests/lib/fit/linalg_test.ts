import assert from "node:assert/strict";
import { fitLine, solve3 } from "../../../lib/fit/linalg.ts";

Deno.test("fitLine() recovers slope and intercept with R² = 1; null for equal x", () => {
  const line = fitLine([1, 2, 3], [3, 5, 7])!;
  assert.ok(Math.abs(line.slope - 2) < 1e-12 && Math.abs(line.intercept - 1) < 1e-12);
  assert.ok(Math.abs(line.r2 - 1) < 1e-12);
  assert.equal(fitLine([2, 2], [1, 3]), null);
  assert.equal(fitLine([2], [1]), null, "one point has no spread in x");
});

Deno.test("fitLine() R² is 1 − SS_res/SS_tot for a noisy line", () => {
  const x = [0, 1, 2, 3];
  const y = [0, 1.5, 1.5, 3];
  const line = fitLine(x, y)!;
  // Slope Σdx·dy/Σdx² = 4.5/5 = 0.9, intercept 1.5 − 0.9·1.5 = 0.15.
  assert.ok(Math.abs(line.slope - 0.9) < 1e-12 && Math.abs(line.intercept - 0.15) < 1e-12);
  const ssRes = x.reduce((s, v, i) => s + (y[i]! - line.intercept - line.slope * v) ** 2, 0);
  assert.ok(Math.abs(line.r2 - (1 - ssRes / 4.5)) < 1e-12);
});

Deno.test("solve3() solves a pivoting system and refuses a singular one", () => {
  // First pivot is 0: needs a row swap.
  const x = solve3([0, 1, 2, 1, 0, 0, 0, 0, 1], [8, 1, 3])!;
  assert.deepEqual(x, [1, 2, 3]);
  assert.equal(solve3([1, 2, 3, 2, 4, 6, 0, 0, 1], [1, 2, 3]), null);
});
