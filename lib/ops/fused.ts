/**
 * Fused ops for transformer training — GELU, LayerNorm, softmax and softmax cross-entropy whose
 * forward and backward are one kernel each where the backend has them (the `blas` backend,
 * lib/backend/blas/fused.ts), and tfjs's composite ops everywhere else (the same formulas, so every
 * backend trains the same model).
 *
 * tfjs's composite LayerNorm is ~10 kernels forward and ~25 backward, each a full pass over the
 * activations; fused, it is one pass forward and one backward.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";

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
 * (1 − ε)·(−ln p_label) + ε·mean_k(−ln p_k). Where the backend has the fused kernels, one kernel
 * forward and one backward, dlogits = (p − ε/K − (1 − ε)·onehot(label))·dy/N (labels outside
 * [0, K) are a RangeError there); elsewhere the composite log-softmax formula.
 *
 * @param logits `(N, K)` float32.
 * @param labels `(N)` int32 class indices, each in [0, K).
 * @param labelSmoothing ε in [0, 1).
 * @returns Scalar loss in nats.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  labelSmoothing = 0,
): tf.Scalar {
  if (!hasFusedKernels()) return compositeCrossEntropy(logits, labels, labelSmoothing);
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

function compositeCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  labelSmoothing: number,
): tf.Scalar {
  const classes = logits.shape[1];
  const logProbs = tf.logSoftmax(logits, -1);
  const nll = tf.neg(tf.sum(tf.mul(oneHotFloat(labels, classes), logProbs), -1));
  if (labelSmoothing === 0) return tf.mean(nll);
  const uniform = tf.neg(tf.mean(logProbs, -1));
  return tf.mean(tf.add(tf.mul(nll, 1 - labelSmoothing), tf.mul(uniform, labelSmoothing)));
}

/**
 * One-hot rows as float32. (tfjs-backend-wasm 4.22's `OneHot` ignores the dtype argument and
 * writes int32 bits into a float32 tensor, so build int32 and cast.)
 *
 * @param ids `(N)` int32 indices.
 * @param depth Columns.
 * @returns `(N, depth)` float32.
 */
export function oneHotFloat(ids: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(ids, depth), "float32") as tf.Tensor2D;
}
