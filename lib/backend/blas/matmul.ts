/**
 * `BatchMatMul` and `_FusedMatMul` kernels for the `blas` backend: every transpose, batch
 * broadcasting, bias and activation, with the products done by a {@linkcode Gemm}.
 *
 * Shapes (tfjs's contract): `a` is `[...batchA, rA, cA]`, `b` is `[...batchB, rB, cB]`;
 * `op(a)` is `[M, K]` (`aᵀ` when `transposeA`), `op(b)` is `[K, N]`; the result is
 * `[...broadcast(batchA, batchB), M, N]`.
 *
 * @module
 */

import {
  backend_util,
  broadcast_util,
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { Gemm } from "./gemm.ts";
import { float32Pool } from "./pool.ts";
import { float32Values } from "./values.ts";

/** The products a matmul of these shapes needs, after batch broadcasting. */
export interface MatMulPlan {
  m: number;
  n: number;
  k: number;
  outShape: number[];
  /** Matrices in the output. */
  batch: number;
  /** For each output matrix, the index of its `a` and `b` matrix (null: the identity map). */
  aIndex: Int32Array | null;
  bIndex: Int32Array | null;
}

/**
 * Works out the shapes and broadcast of `op(a)·op(b)`.
 *
 * @throws {Error} When inner dimensions differ or batch shapes do not broadcast.
 */
export function planMatMul(
  aShape: readonly number[],
  bShape: readonly number[],
  transposeA: boolean,
  transposeB: boolean,
): MatMulPlan {
  const aRank = aShape.length;
  const bRank = bShape.length;
  const m = transposeA ? aShape[aRank - 1] : aShape[aRank - 2];
  const kA = transposeA ? aShape[aRank - 2] : aShape[aRank - 1];
  const kB = transposeB ? bShape[bRank - 1] : bShape[bRank - 2];
  const n = transposeB ? bShape[bRank - 2] : bShape[bRank - 1];
  if (kA !== kB) {
    throw new Error(
      `Error in matMul: inner shapes (${kA}) and (${kB}) of Tensors with shapes ${aShape} and ` +
        `${bShape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const outBatch = broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const batch = util.sizeFromShape(outBatch);
  const sizeA = util.sizeFromShape(batchA);
  const sizeB = util.sizeFromShape(batchB);
  return {
    m,
    n,
    k: kA,
    outShape: [...outBatch, m, n],
    batch,
    aIndex: sizeA === batch || sizeA === 1 ? null : broadcastIndex(batchA, outBatch),
    bIndex: sizeB === batch || sizeB === 1 ? null : broadcastIndex(batchB, outBatch),
  };
}

/** For each index of `outShape`, the flat index of the broadcast source of shape `inShape`. */
function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const size = util.sizeFromShape([...outShape]);
  const result = new Int32Array(size);
  const lead = outShape.length - inShape.length;
  const inStrides = util.computeStrides([...inShape]);
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    let src = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const coord = rest % outShape[d];
      rest = Math.floor(rest / outShape[d]);
      const di = d - lead;
      if (di >= 0 && inShape[di] !== 1) {
        src += coord * (di < inShape.length - 1 ? inStrides[di] : 1);
      }
    }
    result[flat] = src;
  }
  return result;
}

/**
 * Multiplies `op(a)·op(b)` (plus `bias` on every row, when given) into a Float32Array from the
 * buffer pool, laid out as `plan.outShape`. The bias is written first and the GEMM accumulates onto it (beta = 1), so
 * it costs no extra pass over the product.
 *
 * @param gemm The GEMM implementation.
 * @param bias Length n (one value per column) or 1.
 * @returns The product values.
 */
export function matMulValues(
  gemm: Gemm,
  plan: MatMulPlan,
  a: Float32Array,
  b: Float32Array,
  transposeA: boolean,
  transposeB: boolean,
  bias?: Float32Array,
): Float32Array {
  const { m, n, k, batch } = plan;
  const out = float32Pool.take(batch * m * n);
  if (bias !== undefined) {
    if (bias.length === 1) out.fill(bias[0]);
    else for (let row = 0; row < out.length; row += n) out.set(bias, row);
  } else if (k === 0) out.fill(0);
  if (batch === 0 || m === 0 || n === 0) return out;
  if (k === 0) return out;
  const beta = bias === undefined ? 0 : 1;
  const matA = m * k;
  const matB = k * n;
  const aBatches = a.length / matA;
  const bBatches = b.length / matB;
  if (plan.aIndex === null && plan.bIndex === null) {
    // One weight matrix shared by a batch of untransposed inputs: fold the batch into M.
    if (bBatches === 1 && aBatches === batch && !transposeA && batch > 1) {
      gemm.batch({
        transA: false,
        transB: transposeB,
        batch: 1,
        m: batch * m,
        n,
        k,
        a,
        strideA: 0,
        b,
        strideB: 0,
        c: out,
        strideC: 0,
        beta,
      });
      return out;
    }
    gemm.batch({
      transA: transposeA,
      transB: transposeB,
      batch,
      m,
      n,
      k,
      a,
      strideA: aBatches === 1 ? 0 : matA,
      b,
      strideB: bBatches === 1 ? 0 : matB,
      c: out,
      strideC: m * n,
      beta,
    });
    return out;
  }
  // General broadcasting (e.g. [2,1] against [1,3] batch dims): one product per output matrix.
  for (let i = 0; i < batch; i++) {
    const ai = plan.aIndex === null ? (aBatches === 1 ? 0 : i) : plan.aIndex[i];
    const bi = plan.bIndex === null ? (bBatches === 1 ? 0 : i) : plan.bIndex[i];
    gemm.batch({
      transA: transposeA,
      transB: transposeB,
      batch: 1,
      m,
      n,
      k,
      a: a.subarray(ai * matA, (ai + 1) * matA),
      strideA: 0,
      b: b.subarray(bi * matB, (bi + 1) * matB),
      strideB: 0,
      c: out.subarray(i * m * n, (i + 1) * m * n),
      strideC: 0,
      beta,
    });
  }
  return out;
}

/**
 * Makes the `BatchMatMul` kernel function over a {@linkcode Gemm}. Non-float32 inputs go to the
 * reference cpu kernel.
 */
export function makeBatchMatMul(gemm: Gemm): KernelFunc {
  const fallback = getKernel("BatchMatMul", "cpu").kernelFunc;
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as MathBackendCPU;
    const plan = planMatMul(a.shape, b.shape, transposeA, transposeB);
    const out = matMulValues(
      gemm,
      plan,
      float32Values(backend, a),
      float32Values(backend, b),
      transposeA,
      transposeB,
    );
    return backend.makeTensorInfo(plan.outShape, "float32", out);
  };
}

/** Activations applied in place inside `_FusedMatMul` (others go through the cpu kernels). */
const INLINE_ACTIVATIONS = new Set(["linear", "relu", "relu6", "sigmoid", "elu", "leakyrelu"]);

/**
 * Makes the `_FusedMatMul` kernel: `act(op(a)·op(b) + bias)`. A bias over the last dimension (or a
 * scalar) is written into the output before the GEMM accumulates onto it; the activations in
 * `INLINE_ACTIVATIONS` are applied in place; any other bias shape or `prelu` uses the cpu `Add` /
 * `Prelu` kernels.
 */
export function makeFusedMatMul(gemm: Gemm, batchMatMul: KernelFunc): KernelFunc {
  const add = getKernel("Add", "cpu").kernelFunc;
  const prelu = getKernel("Prelu", "cpu").kernelFunc;
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const attrs = args.attrs as NamedAttrMap & {
      transposeA: boolean;
      transposeB: boolean;
      activation: backend_util.Activation;
      leakyreluAlpha?: number;
    };
    const backend = args.backend as MathBackendCPU;
    const { transposeA, transposeB } = attrs;
    const plan = a.dtype === "float32" && b.dtype === "float32"
      ? planMatMul(a.shape, b.shape, transposeA, transposeB)
      : null;
    const n = plan?.n ?? 0;
    const biasSize = bias === undefined ? 0 : util.sizeFromShape(bias.shape);
    const biasInline = plan !== null && bias !== undefined && bias.dtype === "float32" &&
      bias.shape.length <= plan.outShape.length &&
      (biasSize === 1 || (biasSize === n && bias.shape[bias.shape.length - 1] === n));
    let current: TensorInfo;
    if (plan !== null) {
      const values = matMulValues(
        gemm,
        plan,
        float32Values(backend, a),
        float32Values(backend, b),
        transposeA,
        transposeB,
        biasInline ? float32Values(backend, bias!) : undefined,
      );
      current = backend.makeTensorInfo(plan.outShape, "float32", values);
    } else {
      current = batchMatMul({
        inputs: { a, b },
        attrs: { transposeA, transposeB },
        backend,
      }) as TensorInfo;
    }
    if (bias !== undefined && !biasInline) {
      const sum = add({ inputs: { a: current, b: bias }, backend, attrs: {} }) as TensorInfo;
      backend.disposeIntermediateTensorInfo(current);
      current = sum;
    }
    const activation = attrs.activation ?? "linear";
    if (INLINE_ACTIVATIONS.has(activation)) {
      applyActivation(
        backend.data.get(current.dataId).values as Float32Array,
        activation,
        attrs.leakyreluAlpha ?? 0.2,
      );
    } else if (activation === "prelu") {
      const out = prelu({
        inputs: { x: current, alpha: preluActivationWeights! },
        backend,
        attrs: {},
      }) as TensorInfo;
      backend.disposeIntermediateTensorInfo(current);
      current = out;
    } else {
      throw new Error(`Activation ${activation} has not been implemented for the blas backend.`);
    }
    return current;
  };
}

/** In place: `y[i] = act(y[i])`. */
function applyActivation(y: Float32Array, activation: string, leakyAlpha: number): void {
  switch (activation) {
    case "linear":
      return;
    case "relu":
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = 0;
      return;
    case "relu6":
      for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i], 0), 6);
      return;
    case "sigmoid":
      for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      return;
    case "elu":
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] = Math.exp(y[i]) - 1;
      return;
    case "leakyrelu":
      for (let i = 0; i < y.length; i++) if (y[i] < 0) y[i] *= leakyAlpha;
      return;
  }
}
