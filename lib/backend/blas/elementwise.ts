/**
 * Elementwise kernels for the `blas` backend: binary ops with broadcasting and the unary ops a
 * transformer's forward and backward passes use, as tight Float32Array loops.
 *
 * Broadcasting is planned once per call: dimensions of size 1 are dropped and neighbouring
 * dimensions that broadcast the same way are merged, so `[B,T,D] + [D]` runs as `[B·T, D]` rows
 * with a stride-0 operand and `[B,T,D] · [B,T,1]` as `[B·T, D]` with a per-row scalar.
 *
 * @module
 */

import {
  backend_util,
  getKernel,
  type KernelFunc,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { NativeKernels } from "./native.ts";
import { float32Pool } from "./pool.ts";
import { float32Values } from "./values.ts";

/**
 * A float32 tensor's values as a Float32Array: tfjs-cpu may hold a float32 tensor in another typed
 * array (e.g. after casting a bool), which FFI would misread.
 */

/** ff_binary2d's op codes for the ops the native library has. */
const NATIVE_BINARY: Partial<Record<string, number>> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

/** Binary ops implemented here, by tfjs kernel name. */
export const BINARY_OPS = [
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "Maximum",
  "Minimum",
  "SquaredDifference",
] as const;
/** One of {@linkcode BINARY_OPS}. */
export type BinaryOp = typeof BINARY_OPS[number];

/** A broadcast plan: merged output dimensions and each operand's stride per dimension (0 = broadcast). */
export interface BroadcastPlan {
  outShape: number[];
  dims: number[];
  aStrides: number[];
  bStrides: number[];
}

/**
 * Plans `a ⊙ b` under numpy broadcasting.
 *
 * @throws {Error} When the shapes do not broadcast.
 */
export function planBroadcast(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan {
  const outShape = backend_util.assertAndGetBroadcastShape([...aShape], [...bShape]);
  const rank = outShape.length;
  const pad = (s: readonly number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const a = pad(aShape);
  const b = pad(bShape);
  // Merge dims: keep (size, aBroadcast, bBroadcast); drop size-1 dims.
  const dims: number[] = [];
  const aB: boolean[] = [];
  const bB: boolean[] = [];
  for (let d = 0; d < rank; d++) {
    if (outShape[d] === 1) continue;
    const ab = a[d] === 1;
    const bb = b[d] === 1;
    const last = dims.length - 1;
    if (last >= 0 && aB[last] === ab && bB[last] === bb) dims[last] *= outShape[d];
    else {
      dims.push(outShape[d]);
      aB.push(ab);
      bB.push(bb);
    }
  }
  const strides = (broadcast: boolean[]) => {
    const s = new Array<number>(dims.length);
    let acc = 1;
    for (let d = dims.length - 1; d >= 0; d--) {
      s[d] = broadcast[d] ? 0 : acc;
      if (!broadcast[d]) acc *= dims[d];
    }
    return s;
  };
  return { outShape, dims, aStrides: strides(aB), bStrides: strides(bB) };
}

/**
 * `out[o + i] = a[ai + i·sa] ⊙ b[bi + i·sb]` for i < n (sa, sb ∈ {0, 1}).
 * One loop per op so each stays monomorphic for the JIT.
 */
function binaryRow(
  op: BinaryOp,
  a: Float32Array,
  ai: number,
  sa: number,
  b: Float32Array,
  bi: number,
  sb: number,
  out: Float32Array,
  o: number,
  n: number,
): void {
  switch (op) {
    case "Add":
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * sa] + b[bi + i * sb];
      return;
    case "Sub":
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * sa] - b[bi + i * sb];
      return;
    case "Multiply":
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * sa] * b[bi + i * sb];
      return;
    case "RealDiv":
      for (let i = 0; i < n; i++) out[o + i] = a[ai + i * sa] / b[bi + i * sb];
      return;
    case "Maximum":
      for (let i = 0; i < n; i++) {
        const x = a[ai + i * sa];
        const y = b[bi + i * sb];
        out[o + i] = x !== x || y !== y ? NaN : x > y ? x : y;
      }
      return;
    case "Minimum":
      for (let i = 0; i < n; i++) {
        const x = a[ai + i * sa];
        const y = b[bi + i * sb];
        out[o + i] = x !== x || y !== y ? NaN : x < y ? x : y;
      }
      return;
    case "SquaredDifference":
      for (let i = 0; i < n; i++) {
        const d = a[ai + i * sa] - b[bi + i * sb];
        out[o + i] = d * d;
      }
      return;
  }
}

/**
 * Computes `a ⊙ b` with broadcasting into a new array.
 *
 * @returns The values, laid out as `planBroadcast(aShape, bShape).outShape`.
 */
export function binaryValues(
  op: BinaryOp,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
  native?: NativeKernels,
): { values: Float32Array; shape: number[] } {
  const plan = planBroadcast(aShape, bShape);
  const out = float32Pool.take(util.sizeFromShape(plan.outShape));
  const { dims, aStrides, bStrides } = plan;
  const rank = dims.length;
  const code = NATIVE_BINARY[op];
  if (native !== undefined && code !== undefined && rank <= 2 && out.length > 0) {
    // [d0, d1] with inner strides in {0, 1}: one vectorised C call.
    const d1 = rank === 0 ? 1 : dims[rank - 1];
    const d0 = rank === 2 ? dims[0] : 1;
    const [sa0, sb0] = rank === 2 ? [aStrides[0], bStrides[0]] : [0, 0];
    const [sa1, sb1] = rank === 0 ? [0, 0] : [aStrides[rank - 1], bStrides[rank - 1]];
    native.ff_binary2d(
      code,
      a,
      BigInt(sa0),
      BigInt(sa1),
      b,
      BigInt(sb0),
      BigInt(sb1),
      out,
      BigInt(d0),
      BigInt(d1),
    );
    return { values: out, shape: plan.outShape };
  }
  if (rank === 0) {
    binaryRow(op, a, 0, 0, b, 0, 0, out, 0, out.length);
    return { values: out, shape: plan.outShape };
  }
  const n = dims[rank - 1];
  const sa = aStrides[rank - 1];
  const sb = bStrides[rank - 1];
  const rows = out.length / n;
  // Odometer over the outer dims, keeping each operand's offset.
  const coord = new Array<number>(rank - 1).fill(0);
  let ai = 0;
  let bi = 0;
  for (let r = 0; r < rows; r++) {
    binaryRow(op, a, ai, sa, b, bi, sb, out, r * n, n);
    for (let d = rank - 2; d >= 0; d--) {
      coord[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (coord[d] < dims[d]) break;
      ai -= aStrides[d] * dims[d];
      bi -= bStrides[d] * dims[d];
      coord[d] = 0;
    }
  }
  return { values: out, shape: plan.outShape };
}

/**
 * Makes the kernel for one binary op (non-float32 inputs go to the cpu kernel); with `native`,
 * add/sub/mul/div over plans of rank ≤ 2 run in C.
 */
export function makeBinaryKernel(op: BinaryOp, native?: NativeKernels): KernelFunc {
  const fallback = getKernel(op, "cpu").kernelFunc;
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32") return fallback(args);
    const backend = args.backend as MathBackendCPU;
    const { values, shape } = binaryValues(
      op,
      float32Values(backend, a),
      a.shape,
      float32Values(backend, b),
      b.shape,
      native,
    );
    return backend.makeTensorInfo(shape, "float32", values);
  };
}

/** Unary ops implemented here, by tfjs kernel name. */
export const UNARY_OPS = [
  "Neg",
  "Sqrt",
  "Rsqrt",
  "Square",
  "Tanh",
  "Relu",
  "Sigmoid",
  "Log",
  "Abs",
  "Reciprocal",
] as const;
/** One of {@linkcode UNARY_OPS}. */
export type UnaryOp = typeof UNARY_OPS[number];

/** `out[i] = f(x[i])`, one loop per op. */
export function unaryValues(op: UnaryOp, x: Float32Array): Float32Array {
  const n = x.length;
  const out = float32Pool.take(n);
  switch (op) {
    case "Neg":
      for (let i = 0; i < n; i++) out[i] = -x[i];
      break;
    case "Sqrt":
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      break;
    case "Rsqrt":
      for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]);
      break;
    case "Square":
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      break;
    case "Tanh":
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      break;
    case "Relu":
      for (let i = 0; i < n; i++) out[i] = x[i] < 0 ? 0 : x[i];
      break;
    case "Sigmoid":
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
      break;
    case "Log":
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      break;
    case "Abs":
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      break;
    case "Reciprocal":
      for (let i = 0; i < n; i++) out[i] = 1 / x[i];
      break;
  }
  return out;
}

/** Makes the kernel for one unary op (non-float32 input goes to the cpu kernel). */
export function makeUnaryKernel(op: UnaryOp): KernelFunc {
  const fallback = getKernel(op, "cpu").kernelFunc;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== "float32") return fallback(args);
    const backend = args.backend as MathBackendCPU;
    const values = unaryValues(op, backend.data.get(x.dataId).values as Float32Array);
    return backend.makeTensorInfo(x.shape, "float32", values);
  };
}
