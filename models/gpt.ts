/**
 * GPT: a causal, pre-LN transformer language model (Radford et al. 2019; nanoGPT's model.py).
 *
 * Read top to bottom: config → size rule → parameter and FLOP counts → model. Token and position
 * embeddings are summed, pre-LN causal blocks (from `layers.ts`) follow, then a final LayerNorm and
 * the output head — tied to the token embedding by default (no bias), or, with
 * `tie_embeddings: false`, a separate linear layer with bias exactly as
 * `../shared/reference/gpt_torch.py`. Byte-level tokens (vocabulary 256) by default.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";
import "./gradients.ts";
import type { Batch } from "../data/mod.ts";
import {
  checkBlockWidths,
  ConfigError,
  type Model,
  type ModelFamily,
  type ParamCounts,
  parseConfig,
  type ResolveConfigInput,
  resolveSize,
} from "./family.ts";
import {
  block,
  blockActivationFloats,
  blockMacs,
  blockParams,
  createBlock,
  createLayerNorm,
  createLinear,
  crossEntropy,
  deriveHeads,
  embeddingLookup,
  INIT_STD,
  layerNorm,
  linear,
  matmul,
  ParamStore,
} from "./layers.ts";

/** Complete GPT configuration. */
export const GptConfigSchema = z.object({
  /** Width C of the residual stream (the size parameter). */
  d_model: z.number().int().min(4).max(8192),
  /** Number of transformer blocks. */
  depth: z.number().int().min(1).max(96),
  /** Attention heads (must divide `d_model`). */
  heads: z.number().int().min(1).max(256),
  /** Sequence length T the model is trained on. @default 128 */
  context: z.number().int().min(2).max(8192),
  /** MLP width as a multiple of `d_model`. @default 4 */
  mlp_ratio: z.number().positive().max(16),
  /** Vocabulary V (from the dataset; 256 for byte-level tokens). @default 256 */
  vocab_size: z.number().int().min(2).max(1_000_000),
  /** Share the token embedding with the output head (no head bias). @default true */
  tie_embeddings: z.boolean(),
});

/** Complete GPT configuration. */
export type GptConfig = z.infer<typeof GptConfigSchema>;

/** Defaults of the fields the size rule does not derive. */
const DEFAULTS = { context: 128, mlp_ratio: 4, vocab_size: 256, tie_embeddings: true } as const;

/**
 * The size rule: d_model C → heads = C/32 (head dim 32, at most 16 heads, a divisor of C),
 * depth = clamp(round(C/32), 2, 12). 128 → (depth 4, heads 4), the benchmark configuration.
 * @param dModel C.
 * @returns The derived fields.
 */
export function gptSizeRule(dModel: number): Pick<GptConfig, "d_model" | "depth" | "heads"> {
  return {
    d_model: dModel,
    depth: Math.min(12, Math.max(2, Math.round(dModel / 32))),
    heads: deriveHeads(dModel, 32, 16),
  };
}

/**
 * Complete and validate a config: size rule, explicit fields, the dataset's vocabulary.
 * @throws {ConfigError} naming the offending field.
 */
function resolveConfig(input: ResolveConfigInput): GptConfig {
  const explicit = input.config ?? {};
  const size = resolveSize(input, "d_model", "GPT");
  const text = input.data?.text;
  const fromData = text === undefined ? {} : { vocab_size: text.vocab_size };
  const c = parseConfig<GptConfig>(GptConfigSchema, {
    ...DEFAULTS,
    ...gptSizeRule(size),
    ...fromData,
    ...explicit,
  });
  checkBlockWidths({ width: c.d_model, heads: c.heads, mlpRatio: c.mlp_ratio }, "d_model");
  if (text !== undefined && c.vocab_size !== text.vocab_size) {
    throw new ConfigError(
      "vocab_size",
      `The dataset's vocabulary has ${text.vocab_size} tokens, not ${c.vocab_size}.`,
    );
  }
  return c;
}

/** MLP width M. */
function mlpWidth(c: GptConfig): number {
  return Math.round(c.mlp_ratio * c.d_model);
}

/**
 * Exact parameter counts.
 *   token embedding  V·C                  (embedding)
 *   position emb.    T·C                  (embedding)
 *   blocks           depth × (4C + 4C² + 4C + 2CM + M + C)
 *   final LN         2C
 *   head             0 when tied, else C·V + V
 * @param c Config.
 */
export function gptParams(c: GptConfig): ParamCounts {
  const d = c.d_model;
  const wte = c.vocab_size * d;
  const wpe = c.context * d;
  const blocks = c.depth * blockParams(d, mlpWidth(c));
  const head = c.tie_embeddings ? 0 : d * c.vocab_size + c.vocab_size;
  const total = wte + wpe + blocks + 2 * d + head;
  return { total, nonEmbedding: total - wte - wpe };
}

/**
 * Forward MACs per sequence of T tokens: depth × block MACs (full T×T attention, the causal mask
 * not discounted) + T·C·V (the head, tied or not).
 * @param c Config.
 */
export function gptForwardMacs(c: GptConfig): number {
  return c.depth * blockMacs(c.context, c.d_model, mlpWidth(c)) +
    c.context * c.d_model * c.vocab_size;
}

/**
 * Build a GPT: trunc-normal(0.02) weights, residual projections scaled by 1/√(2·depth) (GPT-2),
 * zero biases, unit LayerNorm gains.
 * @param c A resolved config.
 * @param seed Initialisation seed.
 */
function build(c: GptConfig, seed: number): Model {
  const d = c.d_model;
  const t = c.context;
  const store = new ParamStore(seed);
  const wte = store.normal("wte", [c.vocab_size, d], { decay: false });
  const wpe = store.normal("wpe", [t, d], { decay: false });
  const residualStd = INIT_STD / Math.sqrt(2 * c.depth);
  const blocks = Array.from(
    { length: c.depth },
    (_, i) => createBlock(store, `blocks.${i}`, { width: d, mlpWidth: mlpWidth(c), residualStd }),
  );
  const lnFinal = createLayerNorm(store, "ln_f", d);
  const head = c.tie_embeddings ? undefined : createLinear(store, "head", [d, c.vocab_size]);

  /** Token ids `(B·T)` → logits `(B·T, V)`. */
  function forward(ids: tf.Tensor1D, b: number): tf.Tensor2D {
    const tokens = tf.reshape(embeddingLookup(wte as tf.Tensor2D, ids), [b, t, d]); // (B, T, C)
    let x = tf.reshape(tf.add(tokens, wpe), [b * t, d]) as tf.Tensor2D; // (B·T, C)
    for (const p of blocks) x = block(x, p, { batch: b, tokens: t, heads: c.heads, causal: true });
    const h = layerNorm(x, lnFinal); // (B·T, C)
    return head === undefined
      ? matmul(h, tf.transpose(wte) as tf.Tensor2D) // (B·T, V), tied: h @ wteᵀ
      : linear(h, head);
  }

  function tensors(batch: Batch): { ids: tf.Tensor1D; targets: tf.Tensor1D; b: number } {
    if (batch.kind !== "text") throw new TypeError("GPT consumes text batches.");
    if (batch.shape[1] !== t) {
      throw new RangeError(`Batch context ${batch.shape[1]} differs from the model's ${t}.`);
    }
    return {
      ids: tf.tensor1d(batch.inputs, "int32"),
      targets: tf.tensor1d(batch.targets, "int32"),
      b: batch.shape[0],
    };
  }

  return {
    variables: store.variables,
    loss(batch) {
      const { ids, targets, b } = tensors(batch);
      return crossEntropy(forward(ids, b), targets);
    },
    evaluate(batch) {
      const { ids, targets, b } = tensors(batch);
      return { loss: crossEntropy(forward(ids, b), targets) };
    },
    dispose() {
      for (const v of store.variables) v.variable.dispose();
    },
  };
}

/** The GPT family. */
export const gpt: ModelFamily<GptConfig> = {
  name: "gpt",
  description: "Causal pre-LN transformer language model, byte-level tokens by default.",
  modality: "text",
  sizeParam: "d_model",
  configSchema: GptConfigSchema,
  resolveConfig,
  countParams: gptParams,
  trainingFlopsPerSample: (c) => 3 * 2 * gptForwardMacs(c),
  tokensPerSample: (c) => c.context,
  activationBytesPerSample(c) {
    const t = c.context;
    const floats = c.depth *
        blockActivationFloats(t, { width: c.d_model, mlpWidth: mlpWidth(c), heads: c.heads }) +
      6 * t * c.vocab_size + 4 * t * c.d_model;
    return 4 * floats;
  },
  build,
};
