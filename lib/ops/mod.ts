/**
 * The ops models call: projections (`matmul`, `linear`), embedding lookups, GELU, LayerNorm,
 * softmax, softmax cross-entropy, multi-head self-attention and the AdamW update, each one fused
 * kernel forward and one backward where the active backend registers them (the `blas` backend,
 * lib/backend/blas/), and tfjs's composite ops elsewhere. A model describes its computation with
 * these; which kernels run it is the backend's business — no model asks which backend is active.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu"; // any backend: the composite ops run everywhere
 * import { gelu } from "./mod.ts";
 * const y = gelu(tf.tensor1d([-1, 0, 1])).dataSync();
 * if (y[1] !== 0 || !(y[2]! > 0.84 && y[2]! < 0.85)) throw new Error("unexpected");
 * ```
 *
 * @module
 */

export {
  FUSED_KERNELS,
  gelu,
  hasFusedKernels,
  layerNorm,
  oneHotFloat,
  softmax,
  softmaxCrossEntropy,
} from "./fused.ts";
export {
  ATTENTION_KERNELS,
  type AttentionAttrs,
  causalMask,
  fusedAttention,
  hasFusedAttention,
  MASK_NEGATIVE,
  selfAttention,
} from "./attention.ts";
export { embeddingLookup, linear, matmul } from "./linear.ts";
export { ADAMW_KERNEL, type AdamWUpdateAttrs, fusedAdamWUpdate, hasFusedAdamW } from "./adamw.ts";
