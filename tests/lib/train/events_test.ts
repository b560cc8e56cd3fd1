import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu"; // tf.memory() needs a backend
import { evalEvent, progressDue, progressEvent } from "../../../lib/train/events.ts";

const plan = { steps: 10, batchSize: 4, flopsPerSample: 1e6 };

Deno.test("progressEvent() reports samples and FLOPs of the steps done, in the wire order", () => {
  const e = progressEvent({ plan, stepsDone: 3, lr: 0.01, started: performance.now() }, {
    loss: 2.5,
    gradNorm: 0.7,
  });
  assert.deepEqual(Object.keys(e), [
    "type",
    "step",
    "steps",
    "samples",
    "flops",
    "loss",
    "lr",
    "grad_norm",
    "elapsed_s",
    "num_tensors",
  ]);
  assert.equal(e.type, "progress");
  assert.equal(e.samples, 12);
  assert.equal(e.flops, 12e6);
  assert.equal(e.grad_norm, 0.7);
  assert.ok(e.elapsed_s >= 0 && e.elapsed_s < 1);
});

Deno.test("evalEvent() carries the held-out loss and accuracy, and no gradient norm", () => {
  const at = { plan, stepsDone: 10, lr: 0.001, started: performance.now() };
  const e = evalEvent(at, { loss: 1.9, accuracy: 0.4 });
  assert.equal(e.type, "eval");
  assert.equal(e.loss, 1.9);
  assert.equal(e.accuracy, 0.4);
  assert.equal("grad_norm" in e, false);
  assert.equal("accuracy" in evalEvent(at, { loss: null }), false);
});

Deno.test("progressDue() is every n steps and the last step", () => {
  const due = Array.from({ length: 12 }, (_, i) => i + 1).filter((s) => progressDue(s, 5, 12));
  assert.deepEqual(due, [5, 10, 12]);
});
