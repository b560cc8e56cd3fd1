/**
 * The ops models call: GELU, LayerNorm, softmax, softmax cross-entropy, multi-head self-attention
 * and the AdamW update, each one fused kernel forward and one backward where the active backend
 * registers them (the `blas` backend, lib/backend/blas/), and tfjs's composite ops elsewhere.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { gelu } from "./mod.ts";
 * gelu(tf.tensor1d([-1, 0, 1])).print();
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
  fusedAttention,
  hasFusedAttention,
} from "./attention.ts";
export { ADAMW_KERNEL, type AdamWUpdateAttrs, fusedAdamWUpdate, hasFusedAdamW } from "./adamw.ts";
