/**
 * The `blas` backend's kernels for the fused ops of lib/ops/fused.ts (GELU, LayerNorm, softmax
 * gradient, softmax cross-entropy), native or JavaScript ({@linkcode FusedImpl}).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { FusedImpl } from "./fused_impl.ts";
import { float32Pool as pool } from "./pool.ts";
import { float32Values } from "./values.ts";
import { FUSED_KERNELS } from "../../ops/mod.ts";

/** Class indices as Int32Array, each checked to lie in [0, classes). */
function labelValues(backend: MathBackendCPU, t: tf.TensorInfo, classes: number): Int32Array {
  const v = backend.data.get(t.dataId).values;
  const labels = v instanceof Int32Array ? v : Int32Array.from(v as ArrayLike<number>);
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) {
      throw new RangeError(
        `label ${labels[i]} at row ${i} is not a class index in [0, ${classes})`,
      );
    }
  }
  return labels;
}

/**
 * Kernel configs of the fused ops (plus `Exp`, `Erf` and `Softmax`) for a tfjs-cpu-based backend.
 *
 * @param backendName The backend to register them under.
 * @param impl Native or JavaScript implementation.
 */
export function fusedKernelConfigs(backendName: string, impl: FusedImpl): tf.KernelConfig[] {
  const rowsOf = (shape: number[]) => shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const k = (kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig => ({
    kernelName,
    backendName,
    kernelFunc,
  });
  const unary = (name: string, f: (x: Float32Array) => Float32Array) => {
    const fallback = tf.getKernel(name, "cpu").kernelFunc;
    return k(name, (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype !== "float32") return fallback(args);
      const backend = args.backend as MathBackendCPU;
      return backend.makeTensorInfo(x.shape, "float32", f(float32Values(backend, x)));
    });
  };
  const softmaxFallback = tf.getKernel("Softmax", "cpu").kernelFunc;
  return [
    unary("Exp", impl.exp),
    unary("Erf", impl.erf),
    k("Softmax", (args) => {
      const { logits } = args.inputs as { logits: tf.TensorInfo };
      const { dim } = args.attrs as { dim: number };
      const rank = logits.shape.length;
      if (logits.dtype !== "float32" || rank === 0 || (dim !== -1 && dim !== rank - 1)) {
        return softmaxFallback(args);
      }
      const backend = args.backend as MathBackendCPU;
      const n = logits.shape[rank - 1];
      const y = impl.softmax(float32Values(backend, logits), rowsOf(logits.shape), n);
      return backend.makeTensorInfo(logits.shape, "float32", y);
    }),
    k(FUSED_KERNELS.gelu, (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const backend = args.backend as MathBackendCPU;
      return backend.makeTensorInfo(x.shape, "float32", impl.gelu(float32Values(backend, x)));
    }),
    k(FUSED_KERNELS.geluGrad, (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const backend = args.backend as MathBackendCPU;
      return backend.makeTensorInfo(
        x.shape,
        "float32",
        impl.geluGrad(float32Values(backend, x), float32Values(backend, dy)),
      );
    }),
    k(FUSED_KERNELS.layerNorm, (args) => {
      const { x, g, b } = args.inputs as { x: tf.TensorInfo; g: tf.TensorInfo; b: tf.TensorInfo };
      const { eps } = args.attrs as { eps: number };
      const backend = args.backend as MathBackendCPU;
      const c = x.shape[x.shape.length - 1];
      const rows = rowsOf(x.shape);
      const out = impl.layerNorm(
        float32Values(backend, x),
        float32Values(backend, g),
        float32Values(backend, b),
        rows,
        c,
        eps,
      );
      const statShape = [...x.shape.slice(0, -1), 1];
      return [
        backend.makeTensorInfo(x.shape, "float32", out.y),
        backend.makeTensorInfo(statShape, "float32", out.mean),
        backend.makeTensorInfo(statShape, "float32", out.rstd),
      ];
    }),
    k(FUSED_KERNELS.layerNormGrad, (args) => {
      const { x, g, mean, rstd, dy } = args.inputs as Record<string, tf.TensorInfo>;
      const backend = args.backend as MathBackendCPU;
      const c = x.shape[x.shape.length - 1];
      const grads = impl.layerNormGrad(
        float32Values(backend, x),
        float32Values(backend, g),
        float32Values(backend, mean),
        float32Values(backend, rstd),
        float32Values(backend, dy),
        rowsOf(x.shape),
        c,
      );
      return [
        backend.makeTensorInfo(x.shape, "float32", grads.dx),
        backend.makeTensorInfo([c], "float32", grads.dg),
        backend.makeTensorInfo([c], "float32", grads.db),
      ];
    }),
    k(FUSED_KERNELS.crossEntropy, (args) => {
      const { logits, labels } = args.inputs as { logits: tf.TensorInfo; labels: tf.TensorInfo };
      const { labelSmoothing: eps } = args.attrs as { labelSmoothing: number };
      const backend = args.backend as MathBackendCPU;
      const [rows, n] = logits.shape;
      const out = impl.crossEntropy(
        float32Values(backend, logits),
        labelValues(backend, labels, n),
        rows,
        n,
      );
      // loss = mean over rows of (1 − ε)·nll + ε·uniform, summed in double.
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += (1 - eps) * out.nll[r] + eps * out.uniform[r];
      pool.release(out.nll);
      pool.release(out.uniform);
      return [
        backend.makeTensorInfo([], "float32", Float32Array.of(rows === 0 ? NaN : sum / rows)),
        backend.makeTensorInfo([rows, n], "float32", out.probs),
      ];
    }),
    k(FUSED_KERNELS.crossEntropyGrad, (args) => {
      const { probs, labels, dy } = args.inputs as Record<string, tf.TensorInfo>;
      const { labelSmoothing: eps } = args.attrs as { labelSmoothing: number };
      const backend = args.backend as MathBackendCPU;
      const [rows, n] = probs.shape;
      const dz = impl.crossEntropyGrad(
        float32Values(backend, probs),
        labelValues(backend, labels, n),
        rows,
        n,
        { scale: float32Values(backend, dy)[0] / rows, smoothing: eps },
      );
      return backend.makeTensorInfo([rows, n], "float32", dz);
    }),
    k(FUSED_KERNELS.softmaxGrad, (args) => {
      const { y, dy } = args.inputs as { y: tf.TensorInfo; dy: tf.TensorInfo };
      const backend = args.backend as MathBackendCPU;
      const n = y.shape[y.shape.length - 1];
      const dx = impl.softmaxGrad(
        float32Values(backend, y),
        float32Values(backend, dy),
        rowsOf(y.shape),
        n,
      );
      return backend.makeTensorInfo(y.shape, "float32", dx);
    }),
  ];
}
