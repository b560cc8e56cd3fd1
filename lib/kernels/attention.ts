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
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { Gemm } from "./gemm.ts";
import type { FusedImpl } from "./fused_impl.ts";
import type { NativeKernels } from "./native.ts";
import { float32Pool } from "./pool.ts";
import { float32Values } from "./values.ts";

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

/**
 * Kernel configs of the fused attention on `backendName`. With `native` (the C library), each
 * kernel is one C call that spreads the heads over threads and multiplies the small per-head
 * matrices with its own register-tiled loops; otherwise a loop of OpenBLAS FFI calls here.
 */
export function attentionKernelConfigs(
  backendName: string,
  gemm: Gemm,
  impl: FusedImpl,
  native?: NativeKernels,
): tf.KernelConfig[] {
  const forward: tf.KernelFunc = (args) => {
    const backend = args.backend as MathBackendCPU;
    const { qkv, mask } = args.inputs as { qkv: tf.TensorInfo; mask?: tf.TensorInfo };
    const { batch: nb, tokens: t, heads: nh, causal } = args.attrs as unknown as AttentionAttrs;
    const c3 = qkv.shape[1];
    const c = c3 / 3;
    const hs = c / nh;
    const scale = 1 / Math.sqrt(hs);
    const x = float32Values(backend, qkv);
    if (native !== undefined) {
      const probs = float32Pool.take(nb * nh * t * t);
      const out = float32Pool.take(nb * t * c);
      const m = mask === undefined ? null : float32Values(backend, mask);
      const rc = native.ff_attention(
        x,
        m,
        probs,
        out,
        BigInt(nb),
        BigInt(t),
        BigInt(nh),
        BigInt(c),
        causal ? 1 : 0,
      );
      if (rc !== 0) throw new Error(`ff_attention failed (${rc})`);
      return [
        backend.makeTensorInfo([nb * t, c], "float32", out),
        backend.makeTensorInfo([nb, nh, t, t], "float32", probs),
      ];
    }
    const scores = float32Pool.take(nb * nh * t * t);
    for (let b = 0; b < nb; b++) {
      for (let h = 0; h < nh; h++) {
        gemm.sgemm({
          transA: false,
          transB: true,
          m: t,
          n: t,
          k: hs,
          alpha: scale,
          a: x,
          aOffset: b * t * c3 + h * hs,
          lda: c3,
          b: x,
          bOffset: b * t * c3 + c + h * hs,
          ldb: c3,
          beta: 0,
          c: scores,
          cOffset: (b * nh + h) * t * t,
          ldc: t,
        });
      }
    }
    if (mask !== undefined) {
      const m = float32Values(backend, mask);
      const tt = t * t;
      for (let base = 0; base < scores.length; base += tt) {
        for (let i = 0; i < tt; i++) scores[base + i] += m[i];
      }
    }
    if (causal) {
      // Here the full T×T is computed; the excluded keys get e^−∞ = 0 from the softmax.
      for (let base = 0; base < scores.length; base += t * t) {
        for (let i = 0; i < t; i++) {
          scores.fill(-Infinity, base + i * t + i + 1, base + (i + 1) * t);
        }
      }
    }
    const probs = impl.softmax(scores, nb * nh * t, t);
    float32Pool.release(scores);
    const out = float32Pool.take(nb * t * c);
    for (let b = 0; b < nb; b++) {
      for (let h = 0; h < nh; h++) {
        gemm.sgemm({
          transA: false,
          transB: false,
          m: t,
          n: hs,
          k: t,
          alpha: 1,
          a: probs,
          aOffset: (b * nh + h) * t * t,
          lda: t,
          b: x,
          bOffset: b * t * c3 + 2 * c + h * hs,
          ldb: c3,
          beta: 0,
          c: out,
          cOffset: b * t * c + h * hs,
          ldc: c,
        });
      }
    }
    return [
      backend.makeTensorInfo([nb * t, c], "float32", out),
      backend.makeTensorInfo([nb, nh, t, t], "float32", probs),
    ];
  };
  const backward: tf.KernelFunc = (args) => {
    const backend = args.backend as MathBackendCPU;
    const { qkv, probs, dy } = args.inputs as Record<string, tf.TensorInfo>;
    const { batch: nb, tokens: t, heads: nh, causal } = args.attrs as unknown as AttentionAttrs;
    const c3 = qkv.shape[1];
    const c = c3 / 3;
    const hs = c / nh;
    const scale = 1 / Math.sqrt(hs);
    const x = float32Values(backend, qkv);
    const p = float32Values(backend, probs);
    const dO = float32Values(backend, dy);
    const dx = float32Pool.take(nb * t * c3);
    if (native !== undefined) {
      const rc = native.ff_attention_grad(
        x,
        p,
        dO,
        dx,
        BigInt(nb),
        BigInt(t),
        BigInt(nh),
        BigInt(c),
        causal ? 1 : 0,
      );
      if (rc !== 0) throw new Error(`ff_attention_grad failed (${rc})`);
      return backend.makeTensorInfo([nb * t, c3], "float32", dx);
    }
    const dP = float32Pool.take(nb * nh * t * t); // scratch, given back below
    for (let b = 0; b < nb; b++) {
      for (let h = 0; h < nh; h++) {
        const slot = (b * nh + h) * t * t;
        // dP = dO Vᵀ
        gemm.sgemm({
          transA: false,
          transB: true,
          m: t,
          n: t,
          k: hs,
          alpha: 1,
          a: dO,
          aOffset: b * t * c + h * hs,
          lda: c,
          b: x,
          bOffset: b * t * c3 + 2 * c + h * hs,
          ldb: c3,
          beta: 0,
          c: dP,
          cOffset: slot,
          ldc: t,
        });
        // dV = Pᵀ dO
        gemm.sgemm({
          transA: true,
          transB: false,
          m: t,
          n: hs,
          k: t,
          alpha: 1,
          a: p,
          aOffset: slot,
          lda: t,
          b: dO,
          bOffset: b * t * c + h * hs,
          ldb: c,
          beta: 0,
          c: dx,
          cOffset: b * t * c3 + 2 * c + h * hs,
          ldc: c3,
        });
      }
    }
    const dS = impl.softmaxGrad(p, dP, nb * nh * t, t);
    for (let b = 0; b < nb; b++) {
      for (let h = 0; h < nh; h++) {
        const slot = (b * nh + h) * t * t;
        // dQ = s·dS K
        gemm.sgemm({
          transA: false,
          transB: false,
          m: t,
          n: hs,
          k: t,
          alpha: scale,
          a: dS,
          aOffset: slot,
          lda: t,
          b: x,
          bOffset: b * t * c3 + c + h * hs,
          ldb: c3,
          beta: 0,
          c: dx,
          cOffset: b * t * c3 + h * hs,
          ldc: c3,
        });
        // dK = s·dSᵀ Q
        gemm.sgemm({
          transA: true,
          transB: false,
          m: t,
          n: hs,
          k: t,
          alpha: scale,
          a: dS,
          aOffset: slot,
          lda: t,
          b: x,
          bOffset: b * t * c3 + h * hs,
          ldb: c3,
          beta: 0,
          c: dx,
          cOffset: b * t * c3 + c + h * hs,
          ldc: c3,
        });
      }
    }
    float32Pool.release(dP);
    float32Pool.release(dS);
    return backend.makeTensorInfo([nb * t, c3], "float32", dx);
  };
  return [
    { kernelName: ATTENTION_KERNELS.forward, backendName, kernelFunc: forward },
    { kernelName: ATTENTION_KERNELS.backward, backendName, kernelFunc: backward },
  ];
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
