import assert from "node:assert/strict";
import { float32Pool } from "../../../lib/backend/blas/pool.ts";
import { registerBlasBackend } from "../../../lib/backend/blas/mod.ts";
import * as tf from "@tensorflow/tfjs-core";
import { trainPoint, type TrainProgress, TrainRequestSchema } from "../../../lib/train/mod.ts";
import { getDataset } from "../../../data/mod.ts";
import { ensureBackend } from "../../../lib/backend/select.ts";
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

Deno.test("trainPoint() leaks no tensors: the live count at step 10 equals that at step 1,000", async () => {
  await ensureBackend(backend);
  const before = tf.memory().numTensors;
  const counts = new Map<number, number>();
  await trainPoint(
    request({
      family: "gpt",
      size: 8,
      config: { context: 4, depth: 1, heads: 1 },
      dataset: "tiny-text",
      budget: { steps: 1000 },
      batch_size: 2,
      micro_batch_size: 1,
      progress_every: 1,
      eval: { batches: 1, every_steps: 250 },
    }),
    {
      resolveDataset: resolveTiny,
      backend,
      onProgress: (e) => e.type === "progress" && counts.set(e.step, e.num_tensors),
    },
  );
  assert.equal(counts.size, 1000, "one progress event per step");
  assert.equal(counts.get(1000), counts.get(10));
  assert.equal(tf.memory().numTensors, before, "everything freed after the run");
});

Deno.test({
  name: `trainPoint() on blas reuses disposed buffers during the run and keeps none after it${
    registerBlasBackend() ? "" : " (skipped: blas unavailable)"
  }`,
  ignore: !registerBlasBackend(),
  fn: async () => {
    const hitsBefore = float32Pool.stats().hits;
    let hitsDuring = 0;
    const r = await trainPoint(request({ ...gptBody, budget: { steps: 5 }, progress_every: 1 }), {
      resolveDataset: resolveTiny,
      backend: { override: "blas" },
      onProgress: () => (hitsDuring = float32Pool.stats().hits - hitsBefore),
    });
    assert.equal(r.backend.name, "blas");
    assert.ok(hitsDuring > 0, "kernel outputs reused disposed buffers");
    assert.equal(float32Pool.stats().freeBytes, 0, "the pool was emptied at the end");
  },
});

Deno.test("trainPoint() stops when its signal aborts and frees the run's memory", async () => {
  await ensureBackend(backend);
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

Deno.test("trainPoint() runs one at a time; a request cancelled while queued leaves at once", async () => {
  const long = new AbortController();
  let firstStarted = false;
  const first = trainPoint(request({ ...gptBody, budget: { steps: 10_000 }, progress_every: 1 }), {
    resolveDataset: resolveTiny,
    backend,
    signal: long.signal,
    onProgress: () => {
      firstStarted = true;
    },
  });
  const queued = new AbortController();
  let queuedSteps = 0;
  const second = trainPoint(request({ ...gptBody, budget: { steps: 2 } }), {
    resolveDataset: resolveTiny,
    backend,
    signal: queued.signal,
    onProgress: () => queuedSteps++,
  });
  while (!firstStarted) await new Promise((r) => setTimeout(r, 5));
  queued.abort();
  await assert.rejects(
    second,
    (e: unknown) => e instanceof DOMException && e.name === "AbortError",
  );
  assert.equal(queuedSteps, 0);
  long.abort();
  await assert.rejects(first);
  const third = await trainPoint(request({ ...gptBody, budget: { steps: 1 } }), {
    resolveDataset: resolveTiny,
    backend,
  });
  assert.equal(third.steps, 1);
});

Deno.test("on synthetic-text the loss falls steadily, and more model and budget reach a lower loss", async () => {
  const run = (size: number, depth: number, steps: number) =>
    trainPoint(
      request({
        family: "gpt",
        size,
        config: { context: 32, depth },
        dataset: "synthetic-text",
        budget: { steps },
        batch_size: 8,
        lr: 3e-3,
        eval: { batches: 4 },
      }),
      { backend },
    );
  const small = await run(16, 1, 30);
  const large = await run(32, 2, 90);
  assert.ok(large.flops > 10 * small.flops && large.params > 4 * small.params);
  assert.ok(large.eval_loss! < small.eval_loss! - 0.3, `${small.eval_loss} → ${large.eval_loss}`);
  // Thirds of the larger run's curve: each lower than the one before.
  const third = Math.floor(large.curve.length / 3);
  const mean = (i: number) =>
    large.curve.slice(i * third, (i + 1) * third).reduce((s, p) => s + p.loss!, 0) / third;
  assert.ok(mean(0) > mean(1) && mean(1) > mean(2), `${mean(0)} ${mean(1)} ${mean(2)}`);
  // Above the source's entropy rate, the floor no model can beat.
  assert.ok(large.eval_loss! > getDataset("synthetic-text").info.entropy_nats!);
});
