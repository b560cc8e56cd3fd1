import assert from "node:assert/strict";
import { trainPoint, TrainRequestSchema } from "../../../lib/train/mod.ts";
import { resolveTiny } from "./_tiny_data.ts";

// Fixtures: PyTorch replays of the same runs (same weights, batches, AdamW, schedule, clipping),
// produced by tests/fixtures/torch/{dump_inputs.ts,train_reference.py}.
const FIXTURES = new URL("../../fixtures/torch/", import.meta.url);

/** float32 sums in a different order (tfjs vs PyTorch): measured ≤ 5e-7 over 30 steps; 1e-4 leaves room. */
const STEP_LOSS_RELATIVE_TOLERANCE = 1e-4;

for (const family of ["gpt", "vit"]) {
  Deno.test(`trainPoint() reproduces PyTorch's loss curve step for step (${family})`, async () => {
    const fixture = JSON.parse(await Deno.readTextFile(new URL(`${family}_tiny.json`, FIXTURES)));
    const result = await trainPoint(TrainRequestSchema.parse(fixture.request), {
      resolveDataset: resolveTiny,
      backend: { override: "wasm" },
    });
    assert.equal(result.curve.length, fixture.losses.length);
    result.curve.forEach((point, i) => {
      const torch = fixture.losses[i] as number;
      const rel = Math.abs(point.loss! - torch) / torch;
      assert.ok(rel < STEP_LOSS_RELATIVE_TOLERANCE, `step ${i + 1}: ${point.loss} vs ${torch}`);
    });
    const evalRel = Math.abs(result.eval_loss! - fixture.eval_loss) / fixture.eval_loss;
    assert.ok(
      evalRel < STEP_LOSS_RELATIVE_TOLERANCE,
      `eval ${result.eval_loss} vs ${fixture.eval_loss}`,
    );
  });
}
