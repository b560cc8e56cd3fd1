/**
 * The `blas` backend's kernels for the fused multi-head self-attention of lib/ops/attention.ts
 * (formulas there).
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
import { ATTENTION_KERNELS, type AttentionAttrs } from "../../ops/mod.ts";

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
