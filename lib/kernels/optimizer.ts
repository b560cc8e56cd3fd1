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
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { float32Pool } from "./pool.ts";
import type { NativeKernels } from "./native.ts";
import { float32Values } from "./values.ts";

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

/**
 * The kernel config of the fused AdamW update on `backendName`: one C call over both threads with
 * `native`, else a JavaScript loop.
 */
export function adamwKernelConfig(backendName: string, native?: NativeKernels): tf.KernelConfig {
  return {
    kernelName: ADAMW_KERNEL,
    backendName,
    kernelFunc: (args) => {
      const backend = args.backend as MathBackendCPU;
      const { p, g, m, v, coef } = args.inputs as Record<string, tf.TensorInfo>;
      const a = args.attrs as unknown as AdamWUpdateAttrs;
      const pv = float32Values(backend, p);
      const gv = float32Values(backend, g);
      const mv = float32Values(backend, m);
      const vv = float32Values(backend, v);
      const c = float32Values(backend, coef)[0];
      const n = pv.length;
      const pOut = float32Pool.take(n);
      const mOut = float32Pool.take(n);
      const vOut = float32Pool.take(n);
      const keep = 1 - a.lr * a.weightDecay;
      if (native !== undefined) {
        const h = Float64Array.of(
          a.lr,
          a.beta1,
          a.beta2,
          a.eps,
          a.weightDecay,
          a.bias1,
          a.bias2,
          c,
        );
        native.ff_adamw(pv, gv, mv, vv, pOut, mOut, vOut, BigInt(n), h);
      } else {
        for (let i = 0; i < n; i++) {
          const gi = gv[i] * c;
          const mi = a.beta1 * mv[i] + (1 - a.beta1) * gi;
          const vi = a.beta2 * vv[i] + (1 - a.beta2) * gi * gi;
          mOut[i] = mi;
          vOut[i] = vi;
          pOut[i] = pv[i] * keep - a.lr * ((mi / a.bias1) / (Math.sqrt(vi / a.bias2) + a.eps));
        }
      }
      return [
        backend.makeTensorInfo(p.shape, "float32", pOut),
        backend.makeTensorInfo(p.shape, "float32", mOut),
        backend.makeTensorInfo(p.shape, "float32", vOut),
      ];
    },
  };
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
