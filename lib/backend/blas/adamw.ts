/**
 * The `blas` backend's kernel for the fused AdamW update of lib/ops/adamw.ts (formula there).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { float32Pool } from "./pool.ts";
import type { NativeKernels } from "./native.ts";
import { float32Values } from "./values.ts";
import { ADAMW_KERNEL, type AdamWUpdateAttrs } from "../../ops/mod.ts";

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
