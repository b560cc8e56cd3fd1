/**
 * Projections and lookups as the models describe them, run the way the active backend runs them
 * best: where the backend has the fused kernels (`blas`), the GEMM takes transposed operands and
 * the bias as they are and the embedding gradient is a one-pass scatter-add; elsewhere the same
 * computation is written with explicit transposes and plain matmuls, which every backend takes.
 * The models call these and never ask which backend is active.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { hasFusedKernels, oneHotFloat } from "./fused.ts";

/** The argument type of `tf.customGrad`. */
type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];

/**
 * `x @ w` for 2-D operands whose gradient is dx = dy @ wᵀ, dw = xᵀ @ dy: with transposed
 * operands where the backend's GEMM takes them (no transpose copies), else explicit transposes.
 */
const matmul2d = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor2D, w: tf.Tensor2D, save: any) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        if (hasFusedKernels()) {
          return [tf.matMul(dy, ws, false, true), tf.matMul(xs, dy, true, false)];
        }
        return [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)];
      },
    };
  }) as unknown as CustomGradientFunc,
) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * `x @ w` for 2-D operands, with a gradient of plain matmuls.
 * FLOPs (forward): 2·rows·in·out.
 *
 * @param x `(rows, in)`.
 * @param w `(in, out)`.
 * @returns `(rows, out)`.
 */
export function matmul(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return matmul2d(x, w);
}

/**
 * `x @ w + b`: on `blas` one GEMM that accumulates the bias itself
 * (lib/backend/blas/matmul.ts), elsewhere {@linkcode matmul} and an add.
 * FLOPs (forward): 2·rows·in·out.
 *
 * @param x `(rows, in)`.
 * @param w `(in, out)`.
 * @param b `(out)` bias, or none.
 * @returns `(rows, out)`.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor): tf.Tensor2D {
  if (hasFusedKernels()) return tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
  const y = matmul2d(x, w);
  return b === undefined ? y : tf.add(y, b);
}

/**
 * Rows of `table` at `ids`, whose gradient is the scatter-add dtable[v] = Σ_{i : ids[i] = v} dy[i]:
 * one pass on `blas` (lib/backend/blas/layout.ts), elsewhere written as a matmul onehot(ids)ᵀ @ dy
 * — so it also runs on backends lacking `UnsortedSegmentSum` (wasm).
 *
 * @param table `(V, C)` embedding table.
 * @param ids `(N)` int32 indices.
 * @returns `(N, C)`.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  const vocab = table.shape[0];
  const lookup = tf.customGrad(
    // deno-lint-ignore no-explicit-any
    ((t: tf.Tensor2D, save: any) => {
      save([ids]); // kept by the engine until the backward pass
      return {
        value: tf.gather(t, ids),
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
          const savedIds = saved[0] as tf.Tensor1D;
          if (hasFusedKernels()) return [tf.unsortedSegmentSum(dy, savedIds, vocab)];
          const oneHotT = tf.transpose(oneHotFloat(savedIds, vocab)); // (V, N)
          return [tf.matMul(oneHotT, dy)];
        },
      };
    }) as unknown as CustomGradientFunc,
  ) as unknown as (t: tf.Tensor2D) => tf.Tensor2D;
  return lookup(table);
}
