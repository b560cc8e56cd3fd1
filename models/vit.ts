/**
 * Vision Transformer (Dosovitskiy et al. 2021) for small images, e.g. 32×32×3 → 10 classes.
 *
 * Read top to bottom: config → size rule → parameter and FLOP counts → model. The building blocks
 * (LayerNorm, fused-qkv attention, GELU MLP, pre-LN block) live in `layers.ts`. It matches
 * `../shared/reference/vit_torch.py` layer for layer: patch embedding as a linear map of the
 * flattened patch, CLS token, position embeddings added to every token, pre-LN blocks, final
 * LayerNorm, linear head on the CLS token.
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
  accuracy,
  block,
  blockActivationFloats,
  blockMacs,
  blockParams,
  createBlock,
  createLayerNorm,
  createLinear,
  crossEntropy,
  deriveHeads,
  layerNorm,
  linear,
  ParamStore,
} from "./layers.ts";

/** Complete ViT configuration. */
export const VitConfigSchema = z.object({
  /** Width C of every token (the size parameter). */
  embed_dim: z.number().int().min(4).max(4096),
  /** Number of transformer blocks. */
  depth: z.number().int().min(1).max(64),
  /** Attention heads (must divide `embed_dim`). */
  heads: z.number().int().min(1).max(256),
  /** Side of the square patches (must divide `image_size`). @default 4 */
  patch_size: z.number().int().min(1).max(512),
  /** MLP width as a multiple of `embed_dim` (M = mlp_ratio · C must be an integer). @default 4 */
  mlp_ratio: z.number().positive().max(16),
  /** Side of the square input images (from the dataset). */
  image_size: z.number().int().min(1).max(1024),
  /** Channels of the input images (from the dataset). */
  channels: z.number().int().min(1).max(64),
  /** Classes of the head (from the dataset). */
  num_classes: z.number().int().min(2).max(100_000),
  /** Position embeddings: `learned` (trainable) or `sincos` (fixed 2-D sine-cosine). */
  pos_embedding: z.enum(["learned", "sincos"]),
});

/** Complete ViT configuration. */
export type VitConfig = z.infer<typeof VitConfigSchema>;

/** Defaults of the fields the size rule does not derive. */
const DEFAULTS = {
  patch_size: 4,
  mlp_ratio: 4,
  image_size: 32,
  channels: 3,
  num_classes: 10,
  pos_embedding: "learned",
} as const;

/**
 * The size rule: embed_dim C → heads = C/16 (head dim 16, at most 16 heads, a divisor of C),
 * depth = clamp(round(C/32) + 2, 2, 12). It reproduces the benchmark configurations:
 * 64 → (depth 4, heads 4), 128 → (6, 8).
 * @param embedDim C.
 * @returns The derived fields.
 */
export function vitSizeRule(embedDim: number): Pick<VitConfig, "embed_dim" | "depth" | "heads"> {
  return {
    embed_dim: embedDim,
    depth: Math.min(12, Math.max(2, Math.round(embedDim / 32) + 2)),
    heads: deriveHeads(embedDim, 16, 16),
  };
}

/** Patches per image (image_size / patch_size)² and tokens (+ CLS). */
function grid(c: VitConfig): { patches: number; tokens: number; patchDim: number; mlp: number } {
  const side = c.image_size / c.patch_size;
  const patches = side * side;
  return {
    patches,
    tokens: patches + 1,
    patchDim: c.channels * c.patch_size * c.patch_size,
    mlp: Math.round(c.mlp_ratio * c.embed_dim),
  };
}

/**
 * Complete and validate a config: size rule, explicit fields, dataset shapes.
 * @throws {ConfigError} naming the offending field.
 */
function resolveConfig(input: ResolveConfigInput): VitConfig {
  const explicit = input.config ?? {};
  const size = resolveSize(input, "embed_dim", "ViT");
  const image = input.data?.image;
  if (image !== undefined && image.height !== image.width) {
    throw new ConfigError(
      "dataset",
      `ViT needs square images, got ${image.height}×${image.width}.`,
    );
  }
  const fromData = image === undefined
    ? {}
    : { image_size: image.height, channels: image.channels, num_classes: image.classes.length };
  const merged = { ...DEFAULTS, ...vitSizeRule(size), ...fromData, ...explicit };
  const c = parseConfig<VitConfig>(VitConfigSchema, merged);
  checkBlockWidths({ width: c.embed_dim, heads: c.heads, mlpRatio: c.mlp_ratio }, "embed_dim");
  if (c.image_size % c.patch_size !== 0) {
    throw new ConfigError(
      "patch_size",
      `image_size ${c.image_size} is not divisible by patch_size ${c.patch_size}.`,
    );
  }
  if (c.pos_embedding === "sincos" && c.embed_dim % 4 !== 0) {
    throw new ConfigError(
      "pos_embedding",
      "2-D sin-cos position embeddings need embed_dim % 4 = 0.",
    );
  }
  if (image !== undefined && (c.image_size !== image.height || c.channels !== image.channels)) {
    throw new ConfigError(
      "image_size",
      `The dataset's images are ${image.height}×${image.width}×${image.channels}.`,
    );
  }
  return c;
}

/**
 * Exact parameter counts.
 *   patch embedding  P²·Ch·C + C
 *   CLS token        C                 (embedding)
 *   position emb.    (N+1)·C if learned (embedding; 0 when sin-cos)
 *   blocks           depth × (4C + 4C² + 4C + 2CM + M + C)
 *   final LN         2C
 *   head             C·K + K
 * @param c Config.
 */
export function vitParams(c: VitConfig): ParamCounts {
  const g = grid(c);
  const d = c.embed_dim;
  const patch = g.patchDim * d + d;
  const cls = d;
  const pos = c.pos_embedding === "learned" ? g.tokens * d : 0;
  const blocks = c.depth * blockParams(d, g.mlp);
  const head = 2 * d + d * c.num_classes + c.num_classes;
  const total = patch + cls + pos + blocks + head;
  return { total, nonEmbedding: total - cls - pos };
}

/**
 * Forward MACs per image: N·(P²·Ch)·C (patch embedding) + depth × block MACs over N+1 tokens
 * + C·K (head on the CLS token only).
 * @param c Config.
 */
export function vitForwardMacs(c: VitConfig): number {
  const g = grid(c);
  return g.patches * g.patchDim * c.embed_dim +
    c.depth * blockMacs(g.tokens, c.embed_dim, g.mlp) +
    c.embed_dim * c.num_classes;
}

/**
 * The fixed 2-D sine-cosine position embedding (MAE's `get_2d_sincos_pos_embed`), with a zero row
 * for the CLS token: the first C/2 dims encode the row, the last C/2 the column, each as
 * [sin(p·ω_i), cos(p·ω_i)] with ω_i = 10000^(−i/(C/4)).
 * @param side Patches per side.
 * @param width C (divisible by 4).
 * @returns `(side² + 1, C)` values, row-major.
 */
export function sinCos2d(side: number, width: number): Float32Array {
  const quarter = width / 4;
  const out = new Float32Array((side * side + 1) * width);
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      const base = (1 + row * side + col) * width;
      for (let i = 0; i < quarter; i++) {
        const omega = Math.pow(10000, -i / quarter);
        out[base + i] = Math.sin(row * omega);
        out[base + quarter + i] = Math.cos(row * omega);
        out[base + 2 * quarter + i] = Math.sin(col * omega);
        out[base + 3 * quarter + i] = Math.cos(col * omega);
      }
    }
  }
  return out;
}

/**
 * Build a ViT with trunc-normal(0.02) weights, zero biases, unit LayerNorm gains.
 * @param c A resolved config.
 * @param seed Initialisation seed.
 */
function build(c: VitConfig, seed: number): Model {
  const g = grid(c);
  const d = c.embed_dim;
  const side = c.image_size / c.patch_size;
  const store = new ParamStore(seed);
  const patch = createLinear(store, "patch", [g.patchDim, d]);
  const cls = store.normal("cls", [1, 1, d], { decay: false });
  const pos = c.pos_embedding === "learned"
    ? store.normal("pos", [1, g.tokens, d], { decay: false })
    : tf.tensor(sinCos2d(side, d), [1, g.tokens, d]);
  const blocks = Array.from(
    { length: c.depth },
    (_, i) => createBlock(store, `blocks.${i}`, { width: d, mlpWidth: g.mlp }),
  );
  const lnFinal = createLayerNorm(store, "ln_f", d);
  const head = createLinear(store, "head", [d, c.num_classes]);

  /** Images `(B, H, W, Ch)` → logits `(B, K)`. */
  function forward(images: tf.Tensor4D): tf.Tensor2D {
    const b = images.shape[0];
    const p = c.patch_size;
    // (B, H, W, Ch) → (B, side, p, side, p, Ch) → (B, side, side, p, p, Ch) → (B·N, p·p·Ch)
    const patches = tf.reshape(
      tf.transpose(tf.reshape(images, [b, side, p, side, p, c.channels]), [0, 1, 3, 2, 4, 5]),
      [b * g.patches, g.patchDim],
    ) as tf.Tensor2D;
    const embedded = tf.reshape(linear(patches, patch), [b, g.patches, d]); // (B, N, C)
    const tokens = tf.add(tf.concat([tf.broadcastTo(cls, [b, 1, d]), embedded], 1), pos); // (B, N+1, C)
    let x = tf.reshape(tokens, [b * g.tokens, d]) as tf.Tensor2D; // (B·(N+1), C)
    for (const p of blocks) x = block(x, p, { batch: b, tokens: g.tokens, heads: c.heads });
    // The final LayerNorm normalises each token on its own, so only the CLS token's is computed.
    const clsToken = tf.reshape(
      tf.slice(tf.reshape(x, [b, g.tokens, d]), [0, 0, 0], [b, 1, d]),
      [b, d],
    ) as tf.Tensor2D; // (B, C)
    return linear(layerNorm(clsToken, lnFinal), head); // (B, K)
  }

  function tensors(batch: Batch): { images: tf.Tensor4D; labels: tf.Tensor1D } {
    if (batch.kind !== "image") throw new TypeError("ViT consumes image batches.");
    return {
      images: tf.tensor4d(batch.images, batch.shape),
      labels: tf.tensor1d(batch.labels, "int32"),
    };
  }

  return {
    variables: store.variables,
    loss(batch, options = {}) {
      const { images, labels } = tensors(batch);
      return crossEntropy(forward(images), labels, options.labelSmoothing ?? 0);
    },
    evaluate(batch) {
      const { images, labels } = tensors(batch);
      const logits = forward(images);
      return { loss: crossEntropy(logits, labels), metric: accuracy(logits, labels) };
    },
    dispose() {
      for (const v of store.variables) v.variable.dispose();
      if (c.pos_embedding === "sincos") pos.dispose();
    },
  };
}

/** The ViT family. */
export const vit: ModelFamily<VitConfig> = {
  name: "vit",
  description: "Vision Transformer classifier (patch embedding, CLS token, pre-LN blocks).",
  modality: "image",
  sizeParam: "embed_dim",
  configSchema: VitConfigSchema,
  metricName: "accuracy",
  resolveConfig,
  countParams: vitParams,
  trainingFlopsPerSample: (c) => 3 * 2 * vitForwardMacs(c),
  tokensPerSample: (c) => grid(c).tokens,
  activationBytesPerSample(c) {
    const g = grid(c);
    const floats = c.depth *
        blockActivationFloats(g.tokens, { width: c.embed_dim, mlpWidth: g.mlp, heads: c.heads }) +
      4 * c.image_size * c.image_size * c.channels + 4 * g.tokens * c.embed_dim;
    return 4 * floats;
  },
  build,
};
