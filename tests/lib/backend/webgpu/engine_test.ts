import assert from "node:assert/strict";
import { gpuTest } from "./_gpu.ts";
import { imageBatches, referenceLosses, textBatches } from "./_reference.ts";
import { gpt, type GptConfig } from "../../../../models/gpt.ts";
import { vit, type VitConfig } from "../../../../models/vit.ts";
import { CompiledTrainer } from "../../../../lib/backend/webgpu/mod.ts";
import type { Model } from "../../../../models/family.ts";
import type { Batch } from "../../../../data/types.ts";
import type { GpuContext } from "../../../../lib/backend/webgpu/mod.ts";
import type { ModelSpec } from "../../../../lib/backend/webgpu/graph.ts";

const ADAMW = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

function initial(model: Model) {
  return model.variables.map((v) => ({
    name: v.name,
    shape: v.variable.shape,
    decay: v.decay,
    values: Float32Array.from(v.variable.dataSync()),
  }));
}

/** Train on the GPU and on tfjs-cpu from the same init and batches; compare every step's loss. */
async function compare(
  ctx: GpuContext,
  o: {
    spec: ModelSpec;
    model: () => Model;
    batches: Batch[];
    microSteps: number;
    steps: number;
    labelSmoothing: number;
    clipNorm: number;
  },
): Promise<void> {
  const lrs = Array.from({ length: o.steps }, (_, i) => 3e-3 * (1 - i / (2 * o.steps)));
  const model = o.model();
  const trainer = await CompiledTrainer.create({
    gpu: ctx,
    model: o.spec,
    variables: initial(model),
    microBatch: o.batches[0]!.shape[0],
    microSteps: o.microSteps,
    labelSmoothing: o.labelSmoothing,
    optimizer: { ...ADAMW, clipNorm: o.clipNorm },
  });
  const pending = [];
  try {
    for (let s = 0; s < o.steps; s++) {
      const micros = o.batches.slice(s * o.microSteps, (s + 1) * o.microSteps);
      pending.push((await trainer.submitStep(micros, lrs[s]!)).stats);
    }
    const gpuLosses = (await Promise.all(pending)).map((x) => x.loss);
    const evalGpu = await trainer.evaluate(o.batches.slice(0, 2));
    const ref = referenceLosses(model, o.batches, {
      lrs,
      microSteps: o.microSteps,
      clipNorm: o.clipNorm,
      labelSmoothing: o.labelSmoothing,
      adamw: ADAMW,
    });
    gpuLosses.forEach((loss, i) => {
      assert.ok(
        Math.abs(loss - ref[i]!) <= 1e-4 * Math.abs(ref[i]!),
        `step ${i + 1}: ${loss} (webgpu) vs ${ref[i]} (tfjs-cpu)`,
      );
    });
    // Held-out loss after training, against the trained tfjs model's own evaluate().
    let lossSum = 0;
    let accSum = 0;
    for (const batch of o.batches.slice(0, 2)) {
      const out = model.evaluate(batch);
      lossSum += out.loss.dataSync()[0]! * batch.shape[0];
      accSum += (out.metric?.dataSync()[0] ?? 0) * batch.shape[0];
    }
    const samples = 2 * o.batches[0]!.shape[0];
    assert.ok(
      Math.abs(evalGpu.loss - lossSum / samples) <= 1e-4 * lossSum / samples,
      `eval loss ${evalGpu.loss} vs ${lossSum / samples}`,
    );
    if (evalGpu.accuracy !== undefined) {
      assert.ok(
        Math.abs(evalGpu.accuracy - accSum / samples) < 1e-6,
        `accuracy ${evalGpu.accuracy}`,
      );
    }
  } finally {
    trainer.destroy();
    model.dispose();
  }
}

gpuTest(
  "compiled GPT step (tied head, 2 micro-batches, clipping) matches tfjs-cpu per step",
  async (ctx) => {
    const config: GptConfig = gpt.resolveConfig({
      size: 32,
      config: { depth: 2, heads: 2, context: 16, vocab_size: 64 },
    });
    await compare(ctx, {
      spec: { family: "gpt", config },
      model: () => gpt.build(config, 7),
      batches: textBatches(12, [3, 16], 64, 1),
      microSteps: 2,
      steps: 6,
      labelSmoothing: 0,
      clipNorm: 0.5,
    });
  },
);

// 8 × 64 = 512 rows: the weight gradients are split over the rows (split-K) into 2 parts.
gpuTest(
  "compiled GPT step (untied head, split-K weight gradients) matches tfjs-cpu",
  async (ctx) => {
    const config: GptConfig = gpt.resolveConfig({
      size: 32,
      config: { depth: 1, heads: 4, context: 64, vocab_size: 40, tie_embeddings: false },
    });
    await compare(ctx, {
      spec: { family: "gpt", config },
      model: () => gpt.build(config, 3),
      batches: textBatches(4, [8, 64], 40, 2),
      microSteps: 1,
      steps: 4,
      labelSmoothing: 0,
      clipNorm: 1,
    });
  },
);

gpuTest(
  "compiled ViT step (label smoothing 0.1) matches tfjs-cpu per step, eval accuracy too",
  async (ctx) => {
    const config: VitConfig = vit.resolveConfig({
      size: 16,
      config: { depth: 2, heads: 2, image_size: 8, patch_size: 4, channels: 3, num_classes: 10 },
    });
    await compare(ctx, {
      spec: { family: "vit", config },
      model: () => vit.build(config, 5),
      batches: imageBatches(6, [6, 8, 8, 3], 10, 3),
      microSteps: 1,
      steps: 6,
      labelSmoothing: 0.1,
      clipNorm: 1,
    });
  },
);

gpuTest("compiled ViT step with fixed sin-cos positions matches tfjs-cpu per step", async (ctx) => {
  const config: VitConfig = vit.resolveConfig({
    size: 16,
    config: {
      depth: 1,
      heads: 2,
      image_size: 8,
      patch_size: 2,
      channels: 3,
      num_classes: 10,
      pos_embedding: "sincos",
    },
  });
  await compare(ctx, {
    spec: { family: "vit", config },
    model: () => vit.build(config, 6),
    batches: imageBatches(3, [4, 8, 8, 3], 10, 7),
    microSteps: 1,
    steps: 3,
    labelSmoothing: 0,
    clipNorm: 1,
  });
});

// The benchmark configurations themselves, at CI scale (the 50-step check at larger batches is
// tests/bench/webgpu_numerics.ts): GPT 128/4/4 at context 128, ViT a and ViT b on 32×32×3.
gpuTest("compiled GPT 128/4/4 (context 128, batch 2) matches tfjs-cpu for 2 steps", async (ctx) => {
  const config: GptConfig = gpt.resolveConfig({
    size: 128,
    config: { depth: 4, heads: 4, context: 128 },
  });
  await compare(ctx, {
    spec: { family: "gpt", config },
    model: () => gpt.build(config, 0),
    batches: textBatches(2, [2, 128], 256, 4),
    microSteps: 1,
    steps: 2,
    labelSmoothing: 0,
    clipNorm: 1,
  });
});

for (
  const [label, size, depth, heads, batch] of [["a", 64, 4, 4, 2], ["b", 128, 6, 8, 1]] as const
) {
  gpuTest(
    `compiled ViT ${label} (${size}/${depth}/${heads}, batch ${batch}) matches tfjs-cpu for 2 steps`,
    async (ctx) => {
      const config: VitConfig = vit.resolveConfig({ size, config: { depth, heads } });
      await compare(ctx, {
        spec: { family: "vit", config },
        model: () => vit.build(config, 0),
        batches: imageBatches(2, [batch, 32, 32, 3], 10, 5),
        microSteps: 1,
        steps: 2,
        labelSmoothing: 0.1,
        clipNorm: 1,
      });
    },
  );
}
