/**
 * Fused ops for transformer training — GELU, LayerNorm and softmax whose forward and backward are
 * one kernel each on the `blas` backend, and tfjs's composite ops everywhere else (the same
 * formulas, so every backend trains the same model).
 *
 * tfjs's composite LayerNorm is ~10 kernels forward and ~25 backward, each a full pass over the
 * activations; fused, it is one pass forward and one backward.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { FusedImpl } from "./fused_impl.ts";
import { float32Pool as pool } from "./pool.ts";
import { float32Values } from "./values.ts";

/** Kernel names of the fused ops (registered only on backends that implement them). */
export const FUSED_KERNELS = {
  gelu: "FlopsFitGelu",
  geluGrad: "FlopsFitGeluGrad",
  layerNorm: "FlopsFitLayerNorm",
  layerNormGrad: "FlopsFitLayerNormGrad",
  softmaxGrad: "FlopsFitSoftmaxGrad",
  crossEntropy: "FlopsFitCrossEntropy",
  crossEntropyGrad: "FlopsFitCrossEntropyGrad",
} as const;

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

/** Whether the active backend has the fused kernels. */
export function hasFusedKernels(): boolean {
  try {
    return tf.getKernel(FUSED_KERNELS.layerNorm, tf.getBackend()) !== undefined;
  } catch {
    return false;
  }
}

function run(name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs) as tf.Tensor;
}

function runMany(
  name: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap = {},
): tf.Tensor[] {
  return tf.engine().runKernel(name, inputs, attrs) as unknown as tf.Tensor[];
}

// deno-lint-ignore no-explicit-any
type CustomFn = (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: any, saved: any) => any };

const fusedGelu = tf.customGrad(
  ((x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return {
      value: run(FUSED_KERNELS.gelu, { x }),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        run(FUSED_KERNELS.geluGrad, { x: saved[0], dy }),
    };
  }) as CustomFn,
) as (x: tf.Tensor) => tf.Tensor;

/**
 * Exact GELU, `x·Φ(x) = ½·x·(1 + erf(x/√2))` (PyTorch's `F.gelu` default).
 *
 * @param x Any shape, float32.
 * @returns Same shape.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hasFusedKernels()) return fusedGelu(x);
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/**
 * LayerNorm over the last axis: `(x − μ)/√(σ² + eps)·g + b`, σ² the biased variance (as PyTorch).
 *
 * @param x `(..., C)` float32.
 * @param g `(C)` gain.
 * @param b `(C)` bias.
 * @param eps Added to the variance (PyTorch's default is 1e-5).
 * @returns Same shape as `x`.
 */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  if (hasFusedKernels()) {
    const op = tf.customGrad(
      ((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
        const [y, mean, rstd] = runMany(FUSED_KERNELS.layerNorm, { x: xi, g: gi, b: bi }, { eps });
        save([xi, gi, mean, rstd]);
        return {
          value: y,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [xs, gs, ms, rs] = saved;
            return runMany(FUSED_KERNELS.layerNormGrad, { x: xs, g: gs, mean: ms, rstd: rs, dy });
          },
        };
      }) as CustomFn,
    ) as (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    return op(x, g, b);
  }
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, g), b);
}

const fusedSoftmax = tf.customGrad(
  ((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = tf.softmax(x, -1);
    save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        run(FUSED_KERNELS.softmaxGrad, { y: saved[0], dy }),
    };
  }) as CustomFn,
) as (x: tf.Tensor) => tf.Tensor;

/**
 * Softmax over the last axis, with a one-kernel gradient `dx = y·(dy − Σ dy·y)` on the `blas`
 * backend (tfjs's own is four kernels).
 *
 * @param x `(..., N)` float32.
 * @returns Same shape.
 */
export function softmax(x: tf.Tensor): tf.Tensor {
  if (hasFusedKernels()) return fusedSoftmax(x);
  return tf.softmax(x, -1);
}

/**
 * Mean softmax cross-entropy with label smoothing ε (PyTorch's definition),
 * (1 − ε)·(−ln p_label) + ε·mean_k(−ln p_k), as one kernel forward and one backward,
 * dlogits = (p − ε/K − (1 − ε)·onehot(label))·dy/N. Requires {@linkcode hasFusedKernels}.
 *
 * @param logits `(N, K)` float32.
 * @param labels `(N)` int32 class indices, each in [0, K) (else a RangeError).
 * @param labelSmoothing ε in [0, 1).
 * @returns Scalar loss in nats.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  labelSmoothing = 0,
): tf.Scalar {
  const attrs = { labelSmoothing };
  const op = tf.customGrad(
    ((z: tf.Tensor, save: tf.GradSaveFunc) => {
      const [loss, probs] = runMany(FUSED_KERNELS.crossEntropy, { logits: z, labels }, attrs);
      save([probs, labels]);
      return {
        value: loss,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          run(FUSED_KERNELS.crossEntropyGrad, { probs: saved[0], labels: saved[1], dy }, attrs),
      };
    }) as CustomFn,
  ) as (z: tf.Tensor) => tf.Tensor;
  return op(logits) as tf.Scalar;
}
