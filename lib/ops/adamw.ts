/**
 * A fused AdamW update for the `blas` backend: one kernel per parameter instead of tfjs's ~14
 * (each a full pass and an engine round trip). Same update order as lib/train/adamw.ts (PyTorch's):
 *
 *     g ← coef·g
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     p ← p·(1 − η·λ) − η · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";

/** Kernel name of the fused update. */
export const ADAMW_KERNEL = "FlopsFitAdamW";

/** Hyper-parameters of one fused update. */
export interface AdamWUpdateAttrs {
  /** Learning rate η. */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay λ (0 for norms, biases, embeddings). */
  weightDecay: number;
  /** 1 − β1ᵗ. */
  bias1: number;
  /** 1 − β2ᵗ. */
  bias2: number;
}

/** Whether the active backend has the fused AdamW update. */
export function hasFusedAdamW(): boolean {
  try {
    return tf.getKernel(ADAMW_KERNEL, tf.getBackend()) !== undefined;
  } catch {
    return false;
  }
}

/**
 * One fused AdamW update (requires {@linkcode hasFusedAdamW}); no gradient is recorded.
 *
 * @param state Parameter `p`, gradient `g`, moments `m` and `v`, and the scalar gradient
 *   coefficient `coef` (clipping × micro-batch scale).
 * @param attrs Hyper-parameters of this step.
 * @returns The new parameter, first and second moments.
 */
export function fusedAdamWUpdate(
  state: { p: tf.Tensor; g: tf.Tensor; m: tf.Tensor; v: tf.Tensor; coef: tf.Tensor },
  attrs: AdamWUpdateAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(
    ADAMW_KERNEL,
    state as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}
