/**
 * Reductions for the `blas` backend: `Sum`, `Mean` and `Max` over contiguous axes, as
 * Float32Array loops (sums accumulate in float64, as tfjs-cpu's do).
 *
 * @module
 */

import { getKernel, type KernelFunc, type TensorInfo, util } from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { NativeKernels } from "./native.ts";
import { float32Pool } from "./pool.ts";
import { float32Values } from "./values.ts";

/**
 * A float32 tensor's values as a Float32Array: tfjs-cpu may hold a float32 tensor in another typed
 * array (e.g. after casting a bool), which FFI would misread.
 */

/** A reduction of `[outer, reduce, inner]` (the reduced axes are contiguous). */
export interface ReducePlan {
  outer: number;
  reduce: number;
  inner: number;
  outShape: number[];
}

/**
 * Plans a reduction over `axis`, or returns null when the reduced axes (ignoring size-1 ones) are
 * not contiguous.
 */
export function planReduce(
  shape: readonly number[],
  axis: number | number[] | null | undefined,
  keepDims: boolean,
): ReducePlan | null {
  const axes = util.parseAxisParam(axis as number | number[], [...shape]).sort((x, y) => x - y);
  const reduced = new Set(axes);
  const live = axes.filter((a) => shape[a] !== 1);
  for (let i = 1; i < live.length; i++) {
    for (let d = live[i - 1] + 1; d < live[i]; d++) if (shape[d] !== 1) return null;
  }
  const first = live.length > 0 ? live[0] : shape.length;
  const last = live.length > 0 ? live[live.length - 1] : shape.length - 1;
  const prod = (from: number, to: number) => {
    let p = 1;
    for (let d = from; d < to; d++) if (!reduced.has(d)) p *= shape[d];
    return p;
  };
  let reduce = 1;
  for (const a of axes) reduce *= shape[a];
  const outShape = keepDims
    ? shape.map((s, d) => (reduced.has(d) ? 1 : s))
    : shape.filter((_, d) => !reduced.has(d));
  return { outer: prod(0, first), reduce, inner: prod(last + 1, shape.length), outShape };
}

/** Sums (or averages, `scale` = 1/reduce) `x` per {@linkcode ReducePlan} (in C with `native`). */
export function sumValues(
  x: Float32Array,
  plan: ReducePlan,
  scale = 1,
  native?: NativeKernels,
): Float32Array {
  const { outer, reduce, inner } = plan;
  const out = float32Pool.take(outer * inner);
  if (
    native !== undefined && out.length > 0 &&
    native.ff_sum3(x, out, BigInt(outer), BigInt(reduce), BigInt(inner), scale) === 0
  ) {
    return out;
  }
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * reduce;
      for (let r = 0; r < reduce; r++) s += x[base + r];
      out[o] = s * scale;
    }
    return out;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let r = 0; r < reduce; r++) {
      const base = (o * reduce + r) * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[base + i];
    }
    const ob = o * inner;
    for (let i = 0; i < inner; i++) out[ob + i] = acc[i] * scale;
  }
  return out;
}

/** Maximum per {@linkcode ReducePlan} (NaN propagates). */
export function maxValues(x: Float32Array, plan: ReducePlan): Float32Array {
  const { outer, reduce, inner } = plan;
  const out = float32Pool.take(outer * inner).fill(-Infinity);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * reduce;
      let m = -Infinity;
      let nan = false;
      for (let r = 0; r < reduce; r++) {
        const v = x[base + r];
        if (v > m) m = v;
        else if (v !== v) nan = true;
      }
      out[o] = nan ? NaN : m;
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < reduce; r++) {
      const base = (o * reduce + r) * inner;
      const ob = o * inner;
      for (let i = 0; i < inner; i++) {
        const v = x[base + i];
        if (v > out[ob + i] || v !== v) out[ob + i] = v;
      }
    }
  }
  return out;
}

/** Makes the `Sum`, `Mean` or `Max` kernel (other dtypes and layouts go to the cpu kernel). */
export function makeReduceKernel(op: "Sum" | "Mean" | "Max", native?: NativeKernels): KernelFunc {
  const fallback = getKernel(op, "cpu").kernelFunc;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const attrs = args.attrs as {
      axis?: number | number[];
      reductionIndices?: number | number[];
      keepDims: boolean;
    };
    if (x.dtype !== "float32") return fallback(args);
    // null or undefined means every axis (util.parseAxisParam's convention).
    const axis = op === "Max" ? attrs.reductionIndices : attrs.axis;
    const plan = planReduce(x.shape, axis, attrs.keepDims);
    if (plan === null) return fallback(args);
    const backend = args.backend as MathBackendCPU;
    const values = float32Values(backend, x);
    const out = op === "Max"
      ? maxValues(values, plan)
      : sumValues(values, plan, op === "Mean" ? 1 / plan.reduce : 1, native);
    return backend.makeTensorInfo(plan.outShape, "float32", out);
  };
}
