/**
 * The building blocks both families share, written with tfjs-core ops on explicit variables (no
 * tfjs-layers), so that the kernels under them can be swapped by registering another backend.
 *
 * Activations flow between layers as 2-D `(B·T, C)` matrices, so every projection is one plain
 * 2-D matmul — the form fast backends (XNNPACK, BLAS) handle best — and its gradient is written
 * with explicit transposes for the same reason.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedVariable } from "./family.ts";
import * as ops from "../lib/ops/mod.ts";
import { gelu, layerNorm as fusedLayerNorm, softmaxCrossEntropy } from "../lib/ops/mod.ts";
import { mulberry32 } from "../lib/random.ts";

/** PyTorch's `nn.LayerNorm` default epsilon, kept so losses match the reference. */
export const LAYER_NORM_EPS = 1e-5;

/**
 * Additive mask value for disallowed attention positions: large enough that `exp` underflows to
 * exactly 0 in float32 after the max-subtraction in softmax, finite so gradients stay NaN-free.
 */
export const MASK_NEGATIVE: number = ops.MASK_NEGATIVE;

/** Standard deviation of the truncated-normal initialisation (ViT/GPT-2 convention). */
export const INIT_STD = 0.02;

/** Truncation of the initial normal draws, in standard deviations (as `tf.truncatedNormal`). */
const TRUNCATE_SIGMAS = 2;

/**
 * A small seeded PRNG (mulberry32): deterministic initial weights on every backend, independent
 * of tfjs's own random ops.
 */
export class Rng {
  #next: () => number;
  /** @param seed Any integer. */
  constructor(seed: number) {
    this.#next = mulberry32(Math.trunc(seed) ^ 0x9e3779b9);
  }
  /** @returns A uniform draw in [0, 1). */
  uniform(): number {
    return this.#next();
  }
  /** @returns A standard normal draw truncated to ±2σ (Box–Muller, rejection). */
  truncatedNormal(): number {
    for (;;) {
      const u1 = 1 - this.uniform(); // (0, 1]: log is finite
      const u2 = this.uniform();
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      if (Math.abs(z) <= TRUNCATE_SIGMAS) return z;
    }
  }
}

/** Collects a model's variables as it is built. */
export class ParamStore {
  /** Variables in creation order. */
  readonly variables: NamedVariable[] = [];
  /** The PRNG drawing initial values. */
  readonly rng: Rng;
  /** @param seed Seed of the initialisation. */
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  /**
   * A trainable weight drawn from trunc-normal(0, std).
   * @param name Dotted name.
   * @param shape Shape.
   * @param options `std` (default 0.02) and `decay` (default true).
   */
  normal(
    name: string,
    shape: number[],
    options: { std?: number; decay?: boolean } = {},
  ): tf.Variable {
    const std = options.std ?? INIT_STD;
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = std * this.rng.truncatedNormal();
    return this.#add(name, tf.tensor(values, shape), options.decay ?? true);
  }
  /**
   * A trainable tensor filled with one value (biases 0, norm gains 1); never weight-decayed.
   * @param name Dotted name.
   * @param shape Shape.
   * @param value Fill value.
   */
  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.#add(name, tf.fill(shape, value), false);
  }
  #add(name: string, init: tf.Tensor, decay: boolean): tf.Variable {
    // No tfjs name: tfjs names are global across models, ours are per model.
    const variable = tf.variable(init, true);
    init.dispose();
    this.variables.push({ name, variable, decay });
    return variable;
  }
}

/**
 * `x @ w` for 2-D operands, with a gradient of plain (non-transposed) matmuls.
 * FLOPs (forward): 2·rows·in·out.
 * @param x `(rows, in)`.
 * @param w `(in, out)`.
 * @returns `(rows, out)`.
 */
export function matmul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return ops.matmul(x, w);
}

/** Weights of a linear layer: `w` `(in, out)`, optional bias `(out)`. */
export interface LinearParams {
  /** `(in, out)` weight. */
  w: tf.Variable;
  /** `(out)` bias. */
  b?: tf.Variable;
}

/**
 * Create a linear layer. Params: in·out (+ out with bias).
 * @param store Parameter store.
 * @param name Dotted name.
 * @param shape `[in, out]`, and options `bias` (default true) and `std` of the weights.
 */
export function createLinear(
  store: ParamStore,
  name: string,
  shape: [number, number],
  options: { bias?: boolean; std?: number } = {},
): LinearParams {
  const w = store.normal(`${name}.w`, shape, { std: options.std });
  const b = options.bias === false ? undefined : store.constant(`${name}.b`, [shape[1]], 0);
  return b === undefined ? { w } : { w, b };
}

/**
 * `x @ w + b`. FLOPs (forward): 2·rows·in·out.
 * @param x `(rows, in)`.
 * @param p The layer's weights.
 * @returns `(rows, out)`.
 */
export function linear(x: tf.Tensor2D, p: LinearParams): tf.Tensor2D {
  return ops.linear(x, p.w as tf.Tensor2D, p.b);
}

/** Weights of a LayerNorm: gain `g` and bias `b`, both `(C)`. */
export interface LayerNormParams {
  /** `(C)` gain, initialised to 1. */
  g: tf.Variable;
  /** `(C)` bias, initialised to 0. */
  b: tf.Variable;
}

/**
 * Create a LayerNorm. Params: 2·C.
 * @param store Parameter store.
 * @param name Dotted name.
 * @param channels C.
 */
export function createLayerNorm(
  store: ParamStore,
  name: string,
  channels: number,
): LayerNormParams {
  return {
    g: store.constant(`${name}.g`, [channels], 1),
    b: store.constant(`${name}.b`, [channels], 0),
  };
}

/**
 * LayerNorm over the last axis: (x − μ) / √(σ² + ε) · g + b, σ² the biased variance (as PyTorch).
 * @param x `(rows, C)`.
 * @param p Gain and bias.
 * @returns `(rows, C)`.
 */
export function layerNorm(x: tf.Tensor2D, p: LayerNormParams): tf.Tensor2D {
  // One kernel forward and one backward where the backend has them (lib/ops/fused.ts).
  return fusedLayerNorm(x, p.g, p.b, LAYER_NORM_EPS) as tf.Tensor2D;
}

/** Weights of a pre-LN transformer block. */
export interface BlockParams {
  /** LayerNorm before attention. */
  ln1: LayerNormParams;
  /** Fused q, k, v projection `(C, 3C)`. */
  qkv: LinearParams;
  /** Attention output projection `(C, C)`. */
  proj: LinearParams;
  /** LayerNorm before the MLP. */
  ln2: LayerNormParams;
  /** MLP up-projection `(C, M)`. */
  fc1: LinearParams;
  /** MLP down-projection `(M, C)`. */
  fc2: LinearParams;
}

/**
 * Create one pre-LN block.
 * Params: 4C (two LNs) + 3C²+3C (qkv) + C²+C (proj) + CM+M (fc1) + MC+C (fc2).
 * @param store Parameter store.
 * @param name Dotted name.
 * @param dims Width C, MLP width M, and the std of the residual projections (proj, fc2).
 */
export function createBlock(
  store: ParamStore,
  name: string,
  dims: { width: number; mlpWidth: number; residualStd?: number },
): BlockParams {
  const c = dims.width;
  const m = dims.mlpWidth;
  return {
    ln1: createLayerNorm(store, `${name}.ln1`, c),
    qkv: createLinear(store, `${name}.attn.qkv`, [c, 3 * c]),
    proj: createLinear(store, `${name}.attn.proj`, [c, c], { std: dims.residualStd }),
    ln2: createLayerNorm(store, `${name}.ln2`, c),
    fc1: createLinear(store, `${name}.mlp.fc1`, [c, m]),
    fc2: createLinear(store, `${name}.mlp.fc2`, [m, c], { std: dims.residualStd }),
  };
}

/** Exact parameter count of {@linkcode createBlock}: 4C + 4C² + 4C + 2CM + M + C. */
export function blockParams(width: number, mlpWidth: number): number {
  const c = width;
  const m = mlpWidth;
  return 4 * c + (3 * c * c + 3 * c) + (c * c + c) + (c * m + m) + (m * c + c);
}

/**
 * Forward MACs of one block over a sequence of T tokens:
 * T·C·3C (qkv) + T·T·C (QKᵀ) + T·T·C (A·V) + T·C·C (proj) + 2·T·C·M (MLP).
 */
export function blockMacs(tokens: number, width: number, mlpWidth: number): number {
  const t = tokens;
  const c = width;
  return t * c * 3 * c + 2 * t * t * c + t * c * c + 2 * t * c * mlpWidth;
}

/**
 * Floats kept per sample by one block during a training step, at the peak of the backward pass:
 * 32·T·C + 12·T·M + 30·H·T². Fitted to `tf.profile` peaks of the three benchmark models on wasm
 * (ViT 64/4/4: 13.1 MB per image, ViT 128/6/8: 38.7 MB, GPT 128/4/4 at context 128: 54.9 MB;
 * the formula is within 5 % of each). The attention term is large because every T×T tensor
 * (scores, mask, softmax, their gradients, the transposes of the batched matmuls) is kept or
 * materialised per head.
 */
export function blockActivationFloats(
  tokens: number,
  dims: { width: number; mlpWidth: number; heads: number },
): number {
  const t = tokens;
  return 32 * t * dims.width + 12 * t * dims.mlpWidth + 30 * dims.heads * t * t;
}

/** Shape of the attention inside {@linkcode block}. */
export interface AttentionShape {
  /** Batch size B. */
  batch: number;
  /** Sequence length T. */
  tokens: number;
  /** Heads H (C must be divisible by H). */
  heads: number;
  /** Additive `(T, T)` mask (causal), or none for full attention. */
  mask?: tf.Tensor2D;
  /**
   * Key j > query i is excluded (as PyTorch's `is_causal`). The fused kernel then skips the work
   * above the diagonal; the composite path applies the causal mask itself.
   */
  causal?: boolean;
}

/**
 * Multi-head self-attention from the fused projection.
 * @param qkv `(B·T, 3C)`.
 * @param shape B, T, H and the optional mask.
 * @returns `(B·T, C)`, heads concatenated.
 */
export function attention(qkv: tf.Tensor2D, shape: AttentionShape): tf.Tensor2D {
  return ops.selfAttention(qkv, shape);
}

/**
 * The additive causal mask `(T, T)`: 0 on and below the diagonal, {@linkcode MASK_NEGATIVE} above.
 * @param tokens T.
 */
export const causalMask: (tokens: number) => tf.Tensor2D = ops.causalMask;

/**
 * One pre-LN block: x + proj(attn(LN(x))), then x + fc2(GELU(fc1(LN(x)))).
 * @param x `(B·T, C)` residual stream.
 * @param p Block weights.
 * @param shape Attention shape.
 * @returns `(B·T, C)`.
 */
export function block(x: tf.Tensor2D, p: BlockParams, shape: AttentionShape): tf.Tensor2D {
  const attended = attention(linear(layerNorm(x, p.ln1), p.qkv), shape);
  const x1 = tf.add(x, linear(attended, p.proj)) as tf.Tensor2D;
  const hidden = gelu(linear(layerNorm(x1, p.ln2), p.fc1)) as tf.Tensor2D; // (B·T, M)
  return tf.add(x1, linear(hidden, p.fc2)) as tf.Tensor2D;
}

/**
 * Rows of `table` at `ids`, whose gradient is the scatter-add dtable[v] = Σ_{i : ids[i] = v} dy[i]:
 * one pass on blas, elsewhere written as a matmul onehot(ids)ᵀ @ dy — so it also runs on backends
 * lacking `UnsortedSegmentSum` (wasm).
 * @param table `(V, C)` embedding table.
 * @param ids `(N)` int32 indices.
 * @returns `(N, C)`.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  return ops.embeddingLookup(table, ids);
}

/**
 * Mean cross-entropy with optional label smoothing ε (PyTorch's definition):
 * (1 − ε) · NLL + ε · mean_k(−log p_k).
 * @param logits `(N, K)`.
 * @param labels `(N)` int32 class indices.
 * @param labelSmoothing ε in [0, 1).
 * @returns Scalar loss in nats.
 */
export function crossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  labelSmoothing = 0,
): tf.Scalar {
  // One kernel forward and one backward where the backend has them (lib/ops/fused.ts).
  return softmaxCrossEntropy(logits, labels, labelSmoothing);
}

/**
 * Fraction of rows whose arg-max equals the label.
 * @param logits `(N, K)`.
 * @param labels `(N)` int32.
 * @returns Scalar in [0, 1].
 */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), labels), "float32"));
}

/**
 * The largest head count h ≤ maxHeads with h ≤ width / minHeadDim that divides width (≥ 1).
 * @param width Model width C.
 * @param minHeadDim Smallest head dimension wanted.
 * @param maxHeads Cap on heads.
 */
export function deriveHeads(width: number, minHeadDim: number, maxHeads: number): number {
  for (let h = Math.min(maxHeads, Math.floor(width / minHeadDim)); h > 1; h--) {
    if (width % h === 0) return h;
  }
  return 1;
}
