import assert from "node:assert/strict";
import { learningRate, warmupStepsFor } from "../../../lib/train/schedule.ts";

Deno.test("learningRate() warms up linearly, peaks, and ends exactly at min on the last step", () => {
  const s = { peak: 1e-3, min: 1e-4, warmupSteps: 4, totalSteps: 20 };
  assert.equal(learningRate(0, s), 2.5e-4);
  assert.equal(learningRate(3, s), 1e-3);
  assert.equal(learningRate(4, s), 1e-3);
  assert.ok(Math.abs(learningRate(19, s) - 1e-4) < 1e-18);
  // Midway through the decay: (η_max + η_min) / 2.
  assert.ok(Math.abs(learningRate(4 + 7.5, s) - 5.5e-4) < 1e-12);
  for (let i = 5; i < 20; i++) assert.ok(learningRate(i, s) <= learningRate(i - 1, s));
});

Deno.test("learningRate() follows the run length: a longer run decays more slowly", () => {
  const short = { peak: 1, min: 0, warmupSteps: 0, totalSteps: 11 };
  const long = { peak: 1, min: 0, warmupSteps: 0, totalSteps: 101 };
  assert.equal(learningRate(10, short), 0);
  assert.ok(learningRate(10, long) > 0.97);
});

Deno.test("learningRate() handles one-step and all-warm-up runs", () => {
  assert.equal(learningRate(0, { peak: 1, min: 0.1, warmupSteps: 0, totalSteps: 1 }), 0.1);
  assert.equal(learningRate(1, { peak: 1, min: 0.1, warmupSteps: 1, totalSteps: 2 }), 0.1);
});

Deno.test("warmupStepsFor() takes the explicit count or a fraction, never the whole run", () => {
  assert.equal(warmupStepsFor(100, { fraction: 0.05 }), 5);
  assert.equal(warmupStepsFor(100, { steps: 7, fraction: 0.05 }), 7);
  assert.equal(warmupStepsFor(3, { steps: 10, fraction: 0 }), 2);
  assert.equal(warmupStepsFor(1, { fraction: 1 }), 0);
});
