import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { trainPoint, type TrainProgress, TrainRequestSchema } from "../../../lib/train/mod.ts";
import { resolveTiny } from "./_tiny_data.ts";

const backend = { override: "wasm" };

const gptBody = {
  family: "gpt",
  size: 16,
  config: { context: 16, depth: 2, heads: 2 },
  dataset: "tiny-text",
  budget: { steps: 40 },
  batch_size: 8,
  lr: 3e-3,
  seed: 0,
};

function request(body: Record<string, unknown>) {
  return TrainRequestSchema.parse(body);
}

Deno.test("trainPoint() runs the budgeted steps, reports one loss per step, and the loss falls", async () => {
  const events: TrainProgress[] = [];
  const r = await trainPoint(request({ ...gptBody, progress_every: 1 }), {
    resolveDataset: resolveTiny,
    backend,
    onProgress: (e) => events.push(e),
  });
  assert.equal(r.steps, 40);
  assert.equal(r.curve.length, 40);
  assert.equal(events.filter((e) => e.type === "progress").length, 40);
  assert.equal(r.samples, 320);
  assert.equal(r.tokens, 320 * 16);
  assert.equal(r.flops, 320 * r.flops_per_sample);
  assert.ok(Math.abs(r.curve[0]!.loss! - Math.log(256)) < 0.3);
  assert.ok(r.loss! < r.curve[0]!.loss! - 1.5, `loss ${r.curve[0]!.loss} → ${r.loss}`);
  assert.ok(r.eval_loss! < r.curve[0]!.loss! - 1.5);
  assert.equal(r.backend.name, "wasm");
  assert.ok(r.samples_per_s > 0 && r.model_flops_per_s > 0);
  assert.ok(Math.abs(r.curve.at(-1)!.lr - 3e-4) < 1e-12, "cosine ends at min_lr");
});

Deno.test("trainPoint() with the same seed gives the same losses; another seed differs", async () => {
  const body = { ...gptBody, budget: { steps: 6 } };
  const opts = { resolveDataset: resolveTiny, backend };
  const a = await trainPoint(request(body), opts);
  const b = await trainPoint(request(body), opts);
  const c = await trainPoint(request({ ...body, seed: 1 }), opts);
  assert.deepEqual(a.curve.map((p) => p.loss), b.curve.map((p) => p.loss));
  assert.equal(a.eval_loss, b.eval_loss);
  assert.notDeepEqual(a.curve.map((p) => p.loss), c.curve.map((p) => p.loss));
});

Deno.test("trainPoint() accumulates micro-batches into the same update as one batch", async () => {
  const body = { ...gptBody, budget: { steps: 4 }, batch_size: 8 };
  const opts = { resolveDataset: resolveTiny, backend };
  const whole = await trainPoint(request({ ...body, micro_batch_size: 8 }), opts);
  const split = await trainPoint(request({ ...body, micro_batch_size: 4 }), opts);
  assert.equal(split.micro_batch_size, 4);
  // Same examples (the loader's seeded order), gradients averaged: equal to float tolerance.
  whole.curve.forEach((p, i) => {
    const q = split.curve[i]!.loss!;
    assert.ok(Math.abs(p.loss! - q) < 1e-3 * Math.abs(q), `step ${i}: ${p.loss} vs ${q}`);
  });
});

Deno.test("trainPoint() leaks no tensors: the live count at step 10 equals that at step 150", async () => {
  const before = tf.memory().numTensors;
  const counts = new Map<number, number>();
  await trainPoint(
    request({
      family: "gpt",
      size: 8,
      config: { context: 4, depth: 1, heads: 1 },
      dataset: "tiny-text",
      budget: { steps: 150 },
      batch_size: 2,
      micro_batch_size: 1,
      progress_every: 1,
      eval: { batches: 1, every_steps: 40 },
    }),
    {
      resolveDataset: resolveTiny,
      backend,
      onProgress: (e) => e.type === "progress" && counts.set(e.step, e.num_tensors),
    },
  );
  assert.equal(counts.get(150), counts.get(10));
  assert.equal(tf.memory().numTensors, before, "everything freed after the run");
});

Deno.test("trainPoint() stops when its signal aborts and frees the run's memory", async () => {
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  let last = 0;
  await assert.rejects(
    trainPoint(request({ ...gptBody, budget: { steps: 10_000 }, progress_every: 1 }), {
      resolveDataset: resolveTiny,
      backend,
      signal: controller.signal,
      onProgress: (e) => {
        last = e.step;
        if (e.step === 3) controller.abort();
      },
    }),
    (e: unknown) => e instanceof DOMException && e.name === "AbortError",
  );
  assert.equal(last, 3);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("trainPoint() trains a ViT and reports held-out accuracy", async () => {
  const r = await trainPoint(
    request({
      family: "vit",
      size: 16,
      config: { depth: 1, heads: 2 },
      dataset: "tiny-images",
      budget: { samples: 16 * 25 },
      batch_size: 16,
      lr: 3e-3,
      label_smoothing: 0.1,
      eval: { batches: 2, every_steps: 10 },
    }),
    { resolveDataset: resolveTiny, backend },
  );
  assert.equal(r.steps, 25);
  assert.deepEqual(r.evals.map((e) => e.step), [10, 20, 25]);
  assert.ok(r.eval_accuracy! > 0.9, `accuracy ${r.eval_accuracy}`);
  assert.equal(r.eval_samples, 32);
  assert.equal(r.tokens_per_sample, 5); // (8/4)² patches + CLS
});
