/**
 * What one training run is asked to do (the body of `POST /v1/train`) and what it reports.
 *
 * One zod schema holds every option's default and meaning; `trainPoint` takes the parsed object,
 * so the HTTP route and library callers share one contract.
 *
 * @module
 */
import { z } from "zod";

/** Largest peak learning rate accepted: above this AdamW diverges for any model here. */
export const MAX_LEARNING_RATE = 1;

/** Examples per optimiser step when a request gives no `batch_size` (the planner plans with it). */
export const DEFAULT_BATCH_SIZE = 32;

/** Budget of a run: exactly one of FLOPs, optimiser steps, samples or tokens. */
export const BudgetSchema = z.object({
  /** Training FLOPs (exact count: 3 × 2 × matmul MACs per sample × samples). */
  flops: z.number().positive().finite().optional(),
  /** Optimiser steps. */
  steps: z.number().int().positive().optional(),
  /** Training samples (images or sequences). */
  samples: z.number().int().positive().optional(),
  /** Training tokens (sequence length × sequences; patches + CLS per image for ViT). */
  tokens: z.number().int().positive().optional(),
}).strict().superRefine((budget, ctx) => {
  const given = Object.values(budget).filter((v) => v !== undefined).length;
  if (given !== 1) {
    ctx.addIssue({
      code: "custom",
      message: "Give exactly one of flops, steps, samples or tokens.",
      path: [],
    });
  }
}).meta({
  description: "Exactly one of `flops`, `steps`, `samples`, `tokens`.",
  example: { flops: 1e11 },
});

/** Held-out evaluation settings. */
export const EvalSchema = z.object({
  /** Held-out split; defaults to the dataset's `validation`, `val` or `test` split. */
  split: z.string().min(1).max(64).optional(),
  /** Batches evaluated (of `batch_size` examples each, or `eval.batch_size`). @default 4 */
  batches: z.number().int().min(1).max(10_000).default(4),
  /** Examples per eval batch. @default the training batch size */
  batch_size: z.number().int().min(1).max(4096).optional(),
  /** Also evaluate every this many steps (0: only at the end). @default 0 */
  every_steps: z.number().int().min(0).default(0),
  /** Seed of the held-out sample, fixed across sweep points. @default 0 */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
}).strict();

/** Body of `POST /v1/train`. */
export const TrainRequestSchema = z.object({
  /** Model family, e.g. `gpt` or `vit`. */
  family: z.string().min(1).max(64).meta({ example: "gpt" }),
  /** The family's size parameter (ViT `embed_dim`, GPT `d_model`); the rest is derived. */
  size: z.number().int().min(1).max(65_536).optional().meta({ example: 64 }),
  /** Explicit config fields, each overriding what the size rule derives. */
  config: z.record(z.string(), z.unknown()).optional(),
  /** Dataset name, or `{name, split}`. */
  dataset: z.union([
    z.string().min(1).max(128),
    z.object({
      name: z.string().min(1).max(128),
      split: z.string().min(1).max(64).default("train"),
    }).strict(),
  ]).meta({ example: "synthetic-text" }),
  /** Training budget. */
  budget: BudgetSchema,
  /** Examples per optimiser step. @default 32 */
  batch_size: z.number().int().min(1).max(4096).default(DEFAULT_BATCH_SIZE),
  /** Examples per forward/backward pass (gradient accumulation); must divide batch_size. */
  micro_batch_size: z.number().int().min(1).max(4096).optional(),
  /** Peak learning rate. @default 0.001 */
  lr: z.number().positive().max(MAX_LEARNING_RATE).default(1e-3),
  /** Final learning rate as a fraction of the peak (cosine decays to it). @default 0.1 */
  min_lr_ratio: z.number().min(0).max(1).default(0.1),
  /** Linear warm-up steps; default `warmup_fraction` of the run. */
  warmup_steps: z.number().int().min(0).optional(),
  /** Warm-up as a fraction of the run's steps, when `warmup_steps` is absent. @default 0.05 */
  warmup_fraction: z.number().min(0).max(1).default(0.05),
  /** AdamW decoupled weight decay (none on norms, biases, embeddings). @default 0.05 */
  weight_decay: z.number().min(0).max(10).default(0.05),
  /** AdamW β1. @default 0.9 */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** AdamW β2. @default 0.999 */
  beta2: z.number().min(0).lt(1).default(0.999),
  /** AdamW ε. @default 1e-8 */
  eps: z.number().positive().max(1).default(1e-8),
  /** Clip the global gradient norm to this (0 disables). @default 1 */
  grad_clip: z.number().min(0).default(1),
  /** Label smoothing of classifiers' cross-entropy. @default 0 */
  label_smoothing: z.number().min(0).lt(1).default(0),
  /** Train-time augmentation for image datasets. @default false */
  augment: z.boolean().default(false),
  /** Seed of the initialisation and the data order. @default 0 */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  /** Held-out evaluation. */
  eval: EvalSchema.default({ batches: 4, every_steps: 0, seed: 0 }),
  /** Emit a progress event every this many steps; default about 100 events per run. */
  progress_every: z.number().int().min(1).optional(),
  /** Give up after this many seconds (queueing included): the run stops and frees its memory. */
  timeout_s: z.number().positive().max(7 * 24 * 3600).optional(),
  /** Most points in the returned loss curve (longer runs are averaged into bins). @default 200 */
  curve_points: z.number().int().min(1).max(100_000).default(200),
}).strict().meta({
  example: {
    family: "gpt",
    size: 64,
    dataset: "synthetic-text",
    budget: { flops: 1e11 },
    seed: 0,
  },
});

/** Parsed body of `POST /v1/train` (defaults filled in). */
export type TrainRequest = z.infer<typeof TrainRequestSchema>;

/** Input of `POST /v1/train` before defaults. */
export type TrainRequestInput = z.input<typeof TrainRequestSchema>;

/** One point of the loss curve. */
export const CurvePointSchema = z.object({
  step: z.number().int(),
  samples: z.number().int(),
  flops: z.number(),
  loss: z.number().nullable(),
  lr: z.number(),
});

/** One held-out evaluation. */
export const EvalPointSchema = z.object({
  step: z.number().int(),
  loss: z.number().nullable(),
  accuracy: z.number().optional(),
});

/** The WebGPU adapter seen, in a train response and `/healthz`. */
export const AdapterReportSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  fallback: z.boolean(),
});

/** Backend facts in a train response and `/healthz`. */
export const BackendReportSchema = z.object({
  name: z.string(),
  kind: z.enum(["gpu", "cpu"]),
  description: z.string(),
  adapter: AdapterReportSchema.optional(),
});

/** What a finished run reports. */
export const TrainResultSchema = z.object({
  family: z.string(),
  config: z.record(z.string(), z.unknown()),
  dataset: z.object({ name: z.string(), split: z.string(), eval_split: z.string() }),
  seed: z.number().int(),
  params: z.number().int(),
  non_embedding_params: z.number().int(),
  flops_per_sample: z.number().meta({ description: "Exact: 3 × 2 × MACs of every matmul." }),
  flops_per_sample_6n: z.number().meta({ description: "6 × non-embedding params × tokens." }),
  tokens_per_sample: z.number().int(),
  budget: z.object({ kind: z.enum(["flops", "steps", "samples", "tokens"]), value: z.number() }),
  steps: z.number().int(),
  batch_size: z.number().int(),
  micro_batch_size: z.number().int(),
  samples: z.number().int(),
  tokens: z.number().int(),
  flops: z.number().meta({ description: "Training FLOPs spent (exact count)." }),
  lr: z.object({ peak: z.number(), min: z.number(), warmup_steps: z.number().int() }),
  loss: z.number().nullable().meta({ description: "Mean train loss over the last steps." }),
  loss_window_steps: z.number().int(),
  diverged: z.boolean(),
  eval_loss: z.number().nullable(),
  eval_accuracy: z.number().optional(),
  eval_samples: z.number().int(),
  curve: z.array(CurvePointSchema),
  evals: z.array(EvalPointSchema),
  wall_s: z.number(),
  train_s: z.number(),
  step_ms_median: z.number(),
  samples_per_s: z.number(),
  tokens_per_s: z.number(),
  model_flops_per_s: z.number(),
  backend: BackendReportSchema,
  dispatches_per_step: z.number().int().optional().meta({
    description: "WebGPU kernel launches per optimiser step (compiled WebGPU step only).",
  }),
  host_ms_per_step: z.number().optional().meta({
    description: "Median host ms to encode and submit one step (compiled WebGPU step only).",
  }),
}).meta({ id: "TrainResult" });

/** What a finished run reports. */
export type TrainResult = z.infer<typeof TrainResultSchema>;

/** A progress event during training. */
export interface TrainProgress {
  /** `progress` after a step, `eval` after a held-out evaluation. */
  type: "progress" | "eval";
  /** Steps done. */
  step: number;
  /** Steps in the run. */
  steps: number;
  /** Samples seen. */
  samples: number;
  /** Training FLOPs spent. */
  flops: number;
  /** Loss of the last step (train) or the held-out loss (eval). */
  loss: number | null;
  /** Held-out accuracy (eval events of classifiers). */
  accuracy?: number;
  /** Learning rate of the last step. */
  lr: number;
  /** Global gradient norm before clipping. */
  grad_norm?: number;
  /** Seconds since training started. */
  elapsed_s: number;
  /** Live tfjs tensors (constant from step to step when nothing leaks). */
  num_tensors: number;
}
