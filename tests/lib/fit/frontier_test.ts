import assert from "node:assert/strict";
import { evalFrontier, fitLossFrontier } from "../../../lib/fit/frontier.ts";

const FLOPS = [1e18, 3e18, 1e19, 3e19, 1e20, 3e20];
const LAW = { E: 1.8, k: 2e3, gamma: 0.2 };
const LOSS = FLOPS.map((c) => LAW.E + LAW.k * c ** -LAW.gamma);

Deno.test("fitLossFrontier() recovers E + k·C^−γ from exact optima", () => {
  const f = fitLossFrontier(FLOPS, LOSS)!;
  assert.ok(Math.abs(f.E / LAW.E - 1) < 1e-4, `E ${f.E}`);
  assert.ok(Math.abs(f.gamma / LAW.gamma - 1) < 1e-3, `gamma ${f.gamma}`);
  assert.ok(f.rmse_log < 1e-6 && f.r2 > 1 - 1e-9);
  assert.equal(f.E_at_bound, false);
  // Extrapolated 100× it still tracks the law.
  const far = LAW.E + LAW.k * 3e22 ** -LAW.gamma;
  assert.ok(Math.abs(evalFrontier(f, 3e22) / far - 1) < 1e-4);
});

Deno.test("fitLossFrontier() honours E constraints", () => {
  const fixed = fitLossFrontier(FLOPS, LOSS, { fixed: 1.5 })!;
  assert.equal(fixed.E, 1.5);
  assert.equal(fixed.E_at_bound, true);
  assert.ok(fixed.rmse_log > 1e-4, "a wrong floor cannot fit exactly");
  const bounded = fitLossFrontier(FLOPS, LOSS, { max: 1.6 })!;
  assert.ok(Math.abs(bounded.E - 1.6) < 1e-3 && bounded.E_at_bound, `E ${bounded.E}`);
  const loose = fitLossFrontier(FLOPS, LOSS, { min: 1, max: 2 })!;
  assert.ok(Math.abs(loose.E / LAW.E - 1) < 1e-4 && !loose.E_at_bound);
});

Deno.test("fitLossFrontier() needs 4 budgets (3 with E fixed) and a loss that falls", () => {
  assert.equal(fitLossFrontier(FLOPS.slice(0, 3), LOSS.slice(0, 3)), null);
  assert.ok(fitLossFrontier(FLOPS.slice(0, 3), LOSS.slice(0, 3), { fixed: 1.8 }) !== null);
  assert.equal(fitLossFrontier(FLOPS, [...LOSS].reverse()), null, "rising loss: γ ≤ 0");
  assert.equal(fitLossFrontier(FLOPS, LOSS, { min: 5 }), null, "floor above every optimum");
});
