/**
 * Fused multi-head self-attention for the `blas` backend: from the fused projection `qkv`
 * `(B·T, 3C)` straight to the heads' concatenated output `(B·T, C)`, with no split, transpose or
 * scale kernels — each head's Q, K and V are read in place (leading dimension 3C).
 *
 * Per batch row b and head h (hs = C/H, s = 1/√hs, M the additive mask or 0):
 *   forward:  S = s·Q Kᵀ + M,  P = softmax(S),  O = P V
 *   backward: dP = dO Vᵀ,  dV = Pᵀ dO,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = s·dS K,  dK = s·dSᵀ Q
 *
 * Causal attention (`causal`: key j > query i excluded, P exactly 0 there) runs in blocks of 32
 * query rows in the native kernel, skipping the products above the diagonal's blocks: 62.5 % of the
 * full T×T work at T = 128. FLOP counts (models/) still count the full T×T, as PyTorch's
 * reference does.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { softmax } from "./fused.ts";

/** Kernel names of the fused attention. */
export const ATTENTION_KERNELS = {
  forward: "FlopsFitAttention",
  backward: "FlopsFitAttentionGrad",
} as const;

/** Attrs of the attention kernels. */
export interface AttentionAttrs {
  batch: number;
  tokens: number;
  heads: number;
  /** Whether input `mask` `(T, T)` is present. */
  masked: boolean;
  /** Key j > query i is excluded (probability exactly 0), whatever the mask says. */
  causal: boolean;
}

/** Whether the active backend has the fused attention. */
export function hasFusedAttention(): boolean {
  try {
    return tf.getKernel(ATTENTION_KERNELS.forward, tf.getBackend()) !== undefined;
  } catch {
    return false;
  }
}

// deno-lint-ignore no-explicit-any
type CustomFn = (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: any, saved: any) => any };

/**
 * Multi-head self-attention from the fused projection, one kernel forward and one backward
 * (requires {@linkcode hasFusedAttention}; the mask gets no gradient).
 *
 * @param qkv `(B·T, 3C)`: q, k, v side by side, heads contiguous within each.
 * @param shape Batch B, tokens T, heads H, an optional additive `(T, T)` mask, and `causal`
 *   (key j > query i excluded; the kernel then skips that work).
 * @returns `(B·T, C)`, heads concatenated.
 */
export function fusedAttention(
  qkv: tf.Tensor2D,
  shape: { batch: number; tokens: number; heads: number; mask?: tf.Tensor2D; causal?: boolean },
): tf.Tensor2D {
  const attrs: AttentionAttrs = {
    batch: shape.batch,
    tokens: shape.tokens,
    heads: shape.heads,
    masked: shape.mask !== undefined,
    causal: shape.causal ?? false,
  };
  const mask = shape.mask;
  const op = tf.customGrad(
    ((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const inputs: tf.NamedTensorMap = mask === undefined ? { qkv: x } : { qkv: x, mask };
      const [out, probs] = tf.engine().runKernel(
        ATTENTION_KERNELS.forward,
        inputs,
        attrs as unknown as tf.NamedAttrMap,
      ) as unknown as tf.Tensor[];
      save([x, probs]);
      return {
        value: out,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.engine().runKernel(
            ATTENTION_KERNELS.backward,
            { qkv: saved[0], probs: saved[1], dy },
            attrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor,
      };
    }) as CustomFn,
  ) as (x: tf.Tensor) => tf.Tensor;
  return op(qkv) as tf.Tensor2D;
}

/**
 * Additive mask value for disallowed attention positions: large enough that `exp` underflows to
 * exactly 0 in float32 after the max-subtraction in softmax, finite so gradients stay NaN-free.
 */
export const MASK_NEGATIVE = -1e9;

/**
 * The additive causal mask `(T, T)`: 0 on and below the diagonal, {@linkcode MASK_NEGATIVE} above.
 *
 * @param tokens T.
 * @returns The mask.
 */
export function causalMask(tokens: number): tf.Tensor2D {
  const values = new Float32Array(tokens * tokens);
  for (let i = 0; i < tokens; i++) {
    for (let j = i + 1; j < tokens; j++) values[i * tokens + j] = MASK_NEGATIVE;
  }
  return tf.tensor2d(values, [tokens, tokens]);
}

/**
 * Multi-head self-attention from the fused projection, run the way the active backend runs it:
 * one kernel forward and one backward where the backend has them
 * ({@linkcode hasFusedAttention}), else the composite ops (split, transposes, a scaled matmul,
 * the mask, softmax, a matmul).
 *
 * @param qkv `(B·T, 3C)`: q, k, v side by side, heads contiguous within each.
 * @param shape Batch B, tokens T, heads H, an optional additive `(T, T)` mask, and `causal`.
 * @returns `(B·T, C)`, heads concatenated.
 */
export function selfAttention(
  qkv: tf.Tensor2D,
  shape: { batch: number; tokens: number; heads: number; mask?: tf.Tensor2D; causal?: boolean },
): tf.Tensor2D {
  if (hasFusedAttention()) return fusedAttention(qkv, shape);
  const { batch: b, tokens: t, heads: h } = shape;
  const c = qkv.shape[1] / 3;
  const hs = c / h;
  const toHeads = (x: tf.Tensor) =>
    tf.transpose(tf.reshape(x, [b, t, h, hs]), [0, 2, 1, 3]) as tf.Tensor4D; // (B, H, T, hs)
  const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
  let scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)); // (B, H, T, T)
  if (shape.mask !== undefined) scores = tf.add(scores, shape.mask);
  if (shape.causal) scores = tf.add(scores, causalMask(t));
  const weights = softmax(scores); // tf.softmax(scores, -1), with a fused gradient on blas
  const out = tf.matMul(weights, v); // (B, H, T, hs)
  return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b * t, c]); // (B·T, C)
}
