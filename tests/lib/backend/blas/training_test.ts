import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { BLAS_OK, BLAS_SKIP } from "./_helpers.ts";
import { type BenchConfig, makeTrainStep } from "../../../bench/_train_step.ts";

/**
 * Relative tolerance on the loss curve: float32 kernels that sum in a different order drift by
 * ~1e-6 per step; 1e-4 over a few AdamW steps is the bar the issue sets.
 */
const LOSS_RTOL = 1e-4;
const STEPS = 4;

/** Small versions of the benchmark families, so the reference cpu backend stays fast. */
const TINY: BenchConfig[] = [
  {
    id: "vit-tiny",
    family: "vit",
    config: { embed_dim: 16, depth: 2, heads: 2, image_size: 16 },
    batch: 8,
    unit: "img",
    reference: [],
  },
  {
    id: "gpt-tiny",
    family: "gpt",
    config: { d_model: 16, depth: 2, heads: 2, context: 16 },
    batch: 4,
    unit: "tok",
    reference: [],
  },
];

async function lossCurve(backend: string, cfg: BenchConfig): Promise<number[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const train = makeTrainStep(cfg, 3);
  const losses = Array.from({ length: STEPS }, () => train.step());
  train.dispose();
  assert.equal(tf.memory().numTensors, before, `${backend} ${cfg.id}: tensors leaked`);
  return losses;
}

Deno.test(
  `training on blas gives cpu's loss curve to 1e-4 relative (ViT and GPT, ${STEPS} AdamW steps)${BLAS_SKIP}`,
  {
    ignore: !BLAS_OK,
  },
  async () => {
    for (const cfg of TINY) {
      const want = await lossCurve("cpu", cfg);
      const got = await lossCurve("blas", cfg);
      assert.ok(want[STEPS - 1] < want[0], `${cfg.id}: loss should fall (${want})`);
      for (let i = 0; i < STEPS; i++) {
        const rel = Math.abs(got[i] - want[i]) / Math.abs(want[i]);
        assert.ok(
          rel <= LOSS_RTOL,
          `${cfg.id} step ${i}: blas ${got[i]} vs cpu ${want[i]} (rel ${rel})`,
        );
      }
    }
  },
);
