/**
 * The three benchmark configurations as training steps on the project's own models (models/), for
 * the training benchmark and the kernel profiler. Not a test file (leading underscore).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { Batch } from "../../data/types.ts";
import { getFamily } from "../../models/mod.ts";
import { AdamW } from "../../lib/train/adamw.ts";

/** One benchmark configuration, named as in ../shared/reference/README.md. */
export interface BenchConfig {
  /** Short id: `vit-a`, `vit-b`, `gpt`. */
  id: string;
  /** Model family in models/. */
  family: "vit" | "gpt";
  /** Explicit config fields. */
  config: Record<string, number | boolean>;
  /** Batch size. */
  batch: number;
  /** Samples are images (ViT) or sequences whose tokens count (GPT). */
  unit: "img" | "tok";
  /** The reference script and its arguments (../shared/reference/). */
  reference: string[];
}

/** ViT(64/4/4, b128), ViT(128/6/8, b128), GPT(128/4/4, ctx 128, b32). */
export const BENCH_CONFIGS: BenchConfig[] = [
  {
    id: "vit-a",
    family: "vit",
    config: { embed_dim: 64, depth: 4, heads: 4 },
    batch: 128,
    unit: "img",
    reference: ["vit_torch.py", "a"],
  },
  {
    id: "vit-b",
    family: "vit",
    config: { embed_dim: 128, depth: 6, heads: 8 },
    batch: 128,
    unit: "img",
    reference: ["vit_torch.py", "b"],
  },
  {
    id: "gpt",
    family: "gpt",
    // An untied output head with bias, as gpt_torch.py (875,520 parameters).
    config: { d_model: 128, depth: 4, heads: 4, context: 128, tie_embeddings: false },
    batch: 32,
    unit: "tok",
    reference: ["gpt_torch.py"],
  },
];

/** A training step ready to run on the active backend. */
export interface TrainStep {
  /** Runs one step (forward, backward, AdamW update) and returns the loss. */
  step(): number;
  /** Exact training FLOPs of one step (the family's counter × batch). */
  flopsPerStep: number;
  /** Images or tokens per step. */
  unitsPerStep: number;
  /** Frees variables, optimiser state and the batch. */
  dispose(): void;
}

/** A fixed random batch (seeded) of the right kind for a config. */
function makeBatch(cfg: BenchConfig, seed: number): Batch {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  if (cfg.family === "vit") {
    const n = cfg.batch;
    const side = Number(cfg.config.image_size ?? 32);
    const images = new Float32Array(n * side * side * 3).map(() => next() * 2 - 1);
    const labels = new Int32Array(n).map(() => Math.floor(next() * 10));
    return { kind: "image", images, labels, shape: [n, side, side, 3] };
  }
  const t = Number(cfg.config.context);
  const inputs = new Int32Array(cfg.batch * t).map(() => Math.floor(next() * 256));
  const targets = new Int32Array(cfg.batch * t).map(() => Math.floor(next() * 256));
  return { kind: "text", inputs, targets, shape: [cfg.batch, t] };
}

/** AdamW settings of the PyTorch reference steps (lr 1e-3, weight decay 0.05). */
const REFERENCE_LR = 1e-3;
const REFERENCE_ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };

/**
 * Builds the model of `cfg` with the project's AdamW (the reference's settings) on the active
 * backend: one step is forward, backward and update on a fixed seeded batch.
 *
 * @param cfg The configuration.
 * @param seed Seed of the weights and the batch.
 */
export function makeTrainStep(cfg: BenchConfig, seed = 0): TrainStep {
  const family = getFamily(cfg.family)!;
  const config = family.resolveConfig({ config: cfg.config });
  const model = family.build(config, seed);
  const batch = makeBatch(cfg, seed + 1);
  const optimizer = new AdamW(model.variables, REFERENCE_ADAMW);
  const vars = model.variables.map((v) => v.variable);
  const perSample = family.trainingFlopsPerSample(config);
  return {
    step() {
      const { value, grads } = tf.variableGrads(() => model.loss(batch), vars);
      const norm = optimizer.step(vars.map((v) => grads[v.name]), { lr: REFERENCE_LR });
      const loss = value.dataSync()[0];
      tf.dispose([value, norm]);
      return loss;
    },
    flopsPerStep: perSample * cfg.batch,
    unitsPerStep: cfg.unit === "img" ? cfg.batch : cfg.batch * Number(cfg.config.context),
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}
