/**
 * Data-movement kernels for the `blas` backend: `Transpose`, `Slice` and `SplitV` as strided row
 * copies (tfjs-cpu computes an index vector per element for these).
 *
 * @module
 */

import {
  backend_util,
  getKernel,
  type KernelFunc,
  slice_util,
  type TensorInfo,
  util,
} from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { float32Pool } from "./pool.ts";

/** Tile edge of the blocked 2-D transpose, in elements (a 32×32 float32 tile is 4 KiB). */
const TRANSPOSE_TILE = 32;

/**
 * Transposes `x` of `shape` by `perm` into a new array. Size-1 dimensions are dropped and input
 * dimensions that stay adjacent and in order are merged first; a 2-D result runs as a blocked
 * transpose, anything else as an odometer over output rows.
 */
export function transposeValues(
  x: Float32Array,
  shape: readonly number[],
  perm: readonly number[],
): Float32Array {
  const out = float32Pool.take(x.length);
  // Drop size-1 dims (renumbering the rest), then merge runs p, p+1, ... of the perm.
  const keptDims = shape.map((_, d) => d).filter((d) => shape[d] !== 1);
  const keptShape = keptDims.map((d) => shape[d]);
  const renumber = new Map(keptDims.map((d, i) => [d, i]));
  const kept = perm.filter((p) => shape[p] !== 1).map((p) => renumber.get(p)!);
  const groups: number[][] = [];
  for (const p of kept) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last[last.length - 1] + 1 === p) last.push(p);
    else groups.push([p]);
  }
  // Sizes of merged input dims, in input order, and the output order over them.
  const inOrder = [...groups].sort((g, h) => g[0] - h[0]);
  const inSizes = inOrder.map((g) => g.reduce((acc, d) => acc * keptShape[d], 1));
  const inStrides = new Array<number>(inSizes.length);
  let acc = 1;
  for (let d = inSizes.length - 1; d >= 0; d--) {
    inStrides[d] = acc;
    acc *= inSizes[d];
  }
  const outDims = groups.map((g) => inOrder.indexOf(g));
  const sizes = outDims.map((d) => inSizes[d]);
  const strides = outDims.map((d) => inStrides[d]);
  const rank = sizes.length;
  if (rank <= 1) {
    out.set(x);
    return out;
  }
  if (rank === 2) {
    // out[i, j] = x[j, i] with out of shape [rows, cols]: blocked for cache reuse.
    const rows = sizes[0];
    const cols = sizes[1];
    for (let i0 = 0; i0 < rows; i0 += TRANSPOSE_TILE) {
      const i1 = Math.min(i0 + TRANSPOSE_TILE, rows);
      for (let j0 = 0; j0 < cols; j0 += TRANSPOSE_TILE) {
        const j1 = Math.min(j0 + TRANSPOSE_TILE, cols);
        for (let i = i0; i < i1; i++) {
          const o = i * cols;
          for (let j = j0; j < j1; j++) out[o + j] = x[j * rows + i];
        }
      }
    }
    return out;
  }
  const n = sizes[rank - 1];
  const step = strides[rank - 1];
  const rowsTotal = x.length / n;
  const coord = new Array<number>(rank - 1).fill(0);
  let src = 0;
  for (let r = 0; r < rowsTotal; r++) {
    const o = r * n;
    if (step === 1) { for (let i = 0; i < n; i++) out[o + i] = x[src + i]; }
    else for (let i = 0; i < n; i++) out[o + i] = x[src + i * step];
    for (let d = rank - 2; d >= 0; d--) {
      coord[d]++;
      src += strides[d];
      if (coord[d] < sizes[d]) break;
      src -= strides[d] * sizes[d];
      coord[d] = 0;
    }
  }
  return out;
}

/** Makes the `Transpose` kernel (non-float32 goes to the cpu kernel). */
export function makeTransposeKernel(): KernelFunc {
  const fallback = getKernel("Transpose", "cpu").kernelFunc;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== "float32") return fallback(args);
    const { perm } = args.attrs as { perm: number[] };
    const backend = args.backend as MathBackendCPU;
    const outShape = perm.map((p) => x.shape[p]);
    const out = transposeValues(backend.data.get(x.dataId).values as Float32Array, x.shape, perm);
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

/**
 * Copies the box `begin .. begin + size` of `x` (shape `shape`) into a new array: an odometer over
 * the leading dimensions, one contiguous `set` per innermost run.
 */
export function sliceValues(
  x: Float32Array,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): Float32Array {
  const rank = shape.length;
  const total = util.sizeFromShape([...size]);
  const out = float32Pool.take(total);
  if (total === 0) return out;
  // Innermost run: the trailing dims taken whole, times the first partial dim above them.
  let inner = rank - 1;
  let run = 1;
  while (inner >= 0 && size[inner] === shape[inner]) run *= shape[inner--];
  if (inner < 0) {
    out.set(x.subarray(0, total));
    return out;
  }
  const strides = util.computeStrides([...shape]);
  const strideOf = (d: number) => (d === rank - 1 ? 1 : strides[d]);
  run *= size[inner];
  let src = 0;
  for (let d = 0; d <= inner; d++) src += begin[d] * strideOf(d);
  const rows = total / run;
  const coord = new Array<number>(inner).fill(0);
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(src, src + run), r * run);
    for (let d = inner - 1; d >= 0; d--) {
      coord[d]++;
      src += strideOf(d);
      if (coord[d] < size[d]) break;
      src -= strideOf(d) * size[d];
      coord[d] = 0;
    }
  }
  return out;
}

/** Makes the `Slice` kernel (non-float32 goes to the cpu kernel). */
export function makeSliceKernel(): KernelFunc {
  const fallback = getKernel("Slice", "cpu").kernelFunc;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== "float32") return fallback(args);
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    const [b, s] = slice_util.parseSliceParams(x, begin, size);
    slice_util.assertParamsValid(x, b, s);
    const backend = args.backend as MathBackendCPU;
    const out = sliceValues(backend.data.get(x.dataId).values as Float32Array, x.shape, b, s);
    return backend.makeTensorInfo(s, "float32", out);
  };
}

/** Makes the `SplitV` kernel: one {@linkcode sliceValues} per piece. */
export function makeSplitVKernel(): KernelFunc {
  const fallback = getKernel("SplitV", "cpu").kernelFunc;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== "float32") return fallback(args);
    const { numOrSizeSplits, axis } = args.attrs as {
      numOrSizeSplits: number | number[];
      axis: number;
    };
    const backend = args.backend as MathBackendCPU;
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
    const values = backend.data.get(x.dataId).values as Float32Array;
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((piece) => {
      const size = [...x.shape];
      size[$axis] = piece;
      const out = sliceValues(values, x.shape, begin, size);
      begin[$axis] += piece;
      return backend.makeTensorInfo(size, "float32", out);
    });
  };
}

/**
 * Concatenates float32 arrays along `axis`: for each of the `outer` leading positions, each input
 * contributes one contiguous run of `prod(shape[axis:])` values.
 */
export function concatValues(
  parts: { values: Float32Array; shape: readonly number[] }[],
  axis: number,
): { values: Float32Array; shape: number[] } {
  const shape = [...parts[0].shape];
  shape[axis] = parts.reduce((acc, p) => acc + p.shape[axis], 0);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const runs = parts.map((p) => p.shape.slice(axis).reduce((a, b) => a * b, 1));
  const rowLength = runs.reduce((a, b) => a + b, 0);
  const out = float32Pool.take(outer * rowLength);
  let offset = 0;
  parts.forEach((p, i) => {
    const run = runs[i];
    if (run > 0) {
      for (let o = 0; o < outer; o++) {
        out.set(p.values.subarray(o * run, (o + 1) * run), o * rowLength + offset);
      }
    }
    offset += run;
  });
  return { values: out, shape };
}

/** Makes the `Concat` kernel (inputs not all float32 go to the cpu kernel). */
export function makeConcatKernel(): KernelFunc {
  const fallback = getKernel("Concat", "cpu").kernelFunc;
  return (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    if (inputs.length === 0 || inputs.some((t) => t.dtype !== "float32")) return fallback(args);
    const { axis } = args.attrs as { axis: number };
    const $axis = util.parseAxisParam(axis, inputs[0].shape)[0];
    backend_util.assertParamsConsistent(inputs.map((t) => t.shape), $axis);
    const backend = args.backend as MathBackendCPU;
    const { values, shape } = concatValues(
      inputs.map((t) => ({
        values: backend.data.get(t.dataId).values as Float32Array,
        shape: t.shape,
      })),
      $axis,
    );
    return backend.makeTensorInfo(shape, "float32", values);
  };
}

/**
 * Gathers slices of `x` along `axis` (batchDims 0): output shape is
 * `x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]`, one contiguous copy per index.
 *
 * @throws {Error} When an index is outside `[0, x.shape[axis])` (as tfjs-cpu).
 */
export function gatherValues(
  x: Float32Array,
  shape: readonly number[],
  indices: ArrayLike<number>,
  axis: number,
): Float32Array {
  const dim = shape[axis];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const slice = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = indices.length;
  for (let i = 0; i < n; i++) {
    const index = indices[i];
    if (!(index >= 0 && index <= dim - 1)) {
      throw new Error(`GatherV2: the index value ${index} is not in [0, ${dim - 1}]`);
    }
  }
  const out = float32Pool.take(outer * n * slice);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < n; i++) {
      const src = (o * dim + indices[i]) * slice;
      out.set(x.subarray(src, src + slice), (o * n + i) * slice);
    }
  }
  return out;
}

/** Makes the `GatherV2` kernel (batchDims > 0 or non-float32 go to the cpu kernel). */
export function makeGatherKernel(): KernelFunc {
  const fallback = getKernel("GatherV2", "cpu").kernelFunc;
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
    if (x.dtype !== "float32" || (batchDims ?? 0) !== 0) return fallback(args);
    const backend = args.backend as MathBackendCPU;
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const out = gatherValues(
      backend.data.get(x.dataId).values as Float32Array,
      x.shape,
      backend.data.get(indices.dataId).values as ArrayLike<number>,
      $axis,
    );
    const outShape = [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)];
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

/**
 * Sums the rows of `x` `(N, inner)` into `numSegments` rows by `segmentIds` `(N)`:
 * out[s] = Σ_{i : ids[i] = s} x[i]. Ids outside [0, numSegments) are dropped (as tfjs-cpu's).
 */
export function segmentSumValues(
  x: Float32Array,
  segmentIds: ArrayLike<number>,
  numSegments: number,
): Float32Array {
  const n = segmentIds.length;
  const inner = n === 0 ? 0 : x.length / n;
  const out = float32Pool.takeZeroed(numSegments * inner);
  for (let i = 0; i < n; i++) {
    const s = segmentIds[i];
    if (!(s >= 0 && s < numSegments)) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
  return out;
}

/**
 * Makes the `UnsortedSegmentSum` kernel — the embedding gradient — as one pass over the rows
 * (tfjs-cpu's runs one masked full pass per segment). Float32 `x` with 1-D ids only; the rest
 * goes to the cpu kernel.
 */
export function makeSegmentSumKernel(): KernelFunc {
  const fallback = getKernel("UnsortedSegmentSum", "cpu").kernelFunc;
  return (args) => {
    const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = args.attrs as { numSegments: number };
    if (x.dtype !== "float32" || segmentIds.shape.length !== 1 || x.shape.length < 1) {
      return fallback(args);
    }
    const backend = args.backend as MathBackendCPU;
    const out = segmentSumValues(
      backend.data.get(x.dataId).values as Float32Array,
      backend.data.get(segmentIds.dataId).values as ArrayLike<number>,
      numSegments,
    );
    return backend.makeTensorInfo([numSegments, ...x.shape.slice(1)], "float32", out);
  };
}

/**
 * Pads `x` (shape `shape`) with `constant`: the output has `before[d] + shape[d] + after[d]` along
 * each dimension and holds `x` in the box starting at `before`. One contiguous `set` per run of
 * `x` (its trailing unpadded dimensions merged), an odometer over the rest.
 */
export function padValues(
  x: Float32Array,
  shape: readonly number[],
  paddings: readonly (readonly [number, number])[],
  constant: number,
): { values: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = shape.map((n, d) => paddings[d][0] + n + paddings[d][1]);
  const out = float32Pool.take(util.sizeFromShape(outShape)).fill(constant);
  if (x.length === 0) return { values: out, shape: outShape };
  // Innermost run: trailing dims with no padding, times the first padded dim above them.
  let inner = rank - 1;
  let run = 1;
  while (inner >= 0 && paddings[inner][0] === 0 && paddings[inner][1] === 0) run *= shape[inner--];
  if (inner < 0) {
    out.set(x);
    return { values: out, shape: outShape };
  }
  run *= shape[inner];
  const strides = util.computeStrides(outShape);
  const strideOf = (d: number) => (d === rank - 1 ? 1 : strides[d]);
  let dst = 0;
  for (let d = 0; d <= inner; d++) dst += paddings[d][0] * strideOf(d);
  const coord = new Array<number>(inner).fill(0);
  for (let src = 0; src < x.length; src += run) {
    out.set(x.subarray(src, src + run), dst);
    for (let d = inner - 1; d >= 0; d--) {
      coord[d]++;
      dst += strideOf(d);
      if (coord[d] < shape[d]) break;
      dst -= strideOf(d) * shape[d];
      coord[d] = 0;
    }
  }
  return { values: out, shape: outShape };
}

/** Makes the `PadV2` kernel (non-float32 goes to the cpu kernel). */
export function makePadKernel(): KernelFunc {
  const fallback = getKernel("PadV2", "cpu").kernelFunc;
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== "float32") return fallback(args);
    const { paddings, constantValue } = args.attrs as unknown as {
      paddings: [number, number][];
      constantValue: number;
    };
    const backend = args.backend as MathBackendCPU;
    const { values, shape } = padValues(
      backend.data.get(x.dataId).values as Float32Array,
      x.shape,
      paddings,
      constantValue,
    );
    return backend.makeTensorInfo(shape, "float32", values);
  };
}
