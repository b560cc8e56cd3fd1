/**
 * The `blas` tfjs backend: tfjs-cpu's backend (tensors in JS TypedArrays, every cpu kernel) with
 * the hot kernels replaced by OpenBLAS GEMM and tight typed-array loops.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { loadOpenBlas } from "./openblas.ts";
import { type Gemm, openBlasGemm } from "./gemm.ts";
import { makeBatchMatMul, makeFusedMatMul } from "./matmul.ts";
import { BINARY_OPS, makeBinaryKernel, makeUnaryKernel, UNARY_OPS } from "./elementwise.ts";
import { makeReduceKernel } from "./reduce.ts";
import { loadNative } from "./native.ts";
import { type FusedImpl, jsImpl, nativeImpl } from "./fused_impl.ts";
import { fusedKernelConfigs } from "./fused.ts";
import { attentionKernelConfigs } from "./attention.ts";
import { adamwKernelConfig } from "./adamw.ts";
import { float32Pool } from "./pool.ts";
import {
  makeConcatKernel,
  makeGatherKernel,
  makePadKernel,
  makeSegmentSumKernel,
  makeSliceKernel,
  makeSplitVKernel,
  makeTransposeKernel,
} from "./layout.ts";

/** The backend name under which the fast CPU path is registered. */
export const BLAS_BACKEND = "blas";

/**
 * Registration priority: below tfjs-cpu's 1, so tfjs never picks `blas` on its own; the backend
 * selection (lib/backend/select.ts) chooses it explicitly.
 */
const BLAS_PRIORITY = 0;

/** What {@linkcode registerBlasBackend} loaded, or why it could not. */
export interface BlasBackendInfo {
  /** Whether the `blas` backend is registered. */
  registered: boolean;
  /** Why not, when it is not. */
  reason?: string;
  /** The OpenBLAS file loaded. */
  library?: string;
  /** OpenBLAS's build description. */
  config?: string;
  /** OpenBLAS's thread count. */
  threads?: number;
  /** Which GEMM path the matmul kernels use. */
  gemm?: string;
  /** Which implementation the fused element-wise kernels use: `native` or `js`. */
  elementwise?: string;
  /** How the fused attention runs. */
  attention?: string;
  /** The native kernel library loaded, or why the JavaScript kernels run instead. */
  native?: string;
  /** Kernels replaced by fast versions. */
  kernels?: string[];
}

let info: BlasBackendInfo | undefined;

/**
 * Registers the `blas` backend once (later calls return the first answer).
 *
 * @returns `true` when the backend is available; see {@linkcode blasBackendInfo} for details.
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * if (registerBlasBackend()) await tf.setBackend("blas");
 * ```
 */
export function registerBlasBackend(): boolean {
  if (info) return info.registered;
  info = register();
  return info.registered;
}

/** What {@linkcode registerBlasBackend} found (registers first if needed). */
export function blasBackendInfo(): BlasBackendInfo {
  registerBlasBackend();
  return { ...info! };
}

/** tfjs-core's id of a tensor's data. */
type DataId = Parameters<MathBackendCPU["readSync"]>[0];

/**
 * tfjs-cpu's backend, telling the buffer pool (lib/backend/blas/pool.ts) when tensor data is written,
 * disposed, or read out to code outside the backend, so kernel outputs can reuse the buffers of
 * disposed tensors.
 */
class BlasBackend extends MathBackendCPU {
  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType) {
    const dataId = super.write(values, shape, dtype);
    float32Pool.attach(values);
    return dataId;
  }
  override move(
    dataId: DataId,
    values: tf.backend_util.BackendValues,
    shape: number[],
    dtype: tf.DataType,
    refCount: number,
  ): void {
    super.move(dataId, values, shape, dtype, refCount);
    float32Pool.attach(values);
  }
  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const done = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) float32Pool.detach(values);
    return done;
  }
  override readSync(dataId: DataId): tf.backend_util.BackendValues {
    if (this.data.has(dataId)) float32Pool.escape(this.data.get(dataId).values);
    return super.readSync(dataId);
  }
}

function register(): BlasBackendInfo {
  const load = loadOpenBlas();
  if (!load.ok) return { registered: false, reason: load.reason };
  const gemm: Gemm = openBlasGemm(load.blas);
  // tfjs-cpu registers its kernels on import; copy every one under the new backend name.
  for (const kernel of tf.getKernelsForBackend("cpu")) {
    tf.registerKernel({ ...kernel, backendName: BLAS_BACKEND });
  }
  const overrides: tf.KernelConfig[] = [];
  const batchMatMul = makeBatchMatMul(gemm);
  overrides.push({
    kernelName: tf.BatchMatMul,
    backendName: BLAS_BACKEND,
    kernelFunc: batchMatMul,
  });
  overrides.push({
    kernelName: tf._FusedMatMul,
    backendName: BLAS_BACKEND,
    kernelFunc: makeFusedMatMul(gemm, batchMatMul),
  });
  const native = loadNative();
  const nativeSymbols = native.ok ? native.symbols : undefined;
  const fast: [string, tf.KernelFunc][] = [
    ...BINARY_OPS.map((op): [string, tf.KernelFunc] => [op, makeBinaryKernel(op, nativeSymbols)]),
    ...UNARY_OPS.map((op): [string, tf.KernelFunc] => [op, makeUnaryKernel(op)]),
    ["Sum", makeReduceKernel("Sum", nativeSymbols)],
    ["Mean", makeReduceKernel("Mean", nativeSymbols)],
    ["Max", makeReduceKernel("Max")],
    ["Transpose", makeTransposeKernel()],
    ["Slice", makeSliceKernel()],
    ["SplitV", makeSplitVKernel()],
    ["Concat", makeConcatKernel()],
    ["GatherV2", makeGatherKernel()],
    ["UnsortedSegmentSum", makeSegmentSumKernel()],
    ["PadV2", makePadKernel()],
  ];
  for (const [kernelName, kernelFunc] of fast) {
    overrides.push({ kernelName, backendName: BLAS_BACKEND, kernelFunc });
  }
  const impl: FusedImpl = native.ok ? nativeImpl(native.symbols) : jsImpl;
  overrides.push(...fusedKernelConfigs(BLAS_BACKEND, impl));
  overrides.push(...attentionKernelConfigs(BLAS_BACKEND, gemm, impl, nativeSymbols));
  overrides.push(adamwKernelConfig(BLAS_BACKEND, nativeSymbols));
  for (const kernel of overrides) {
    if (tf.getKernel(kernel.kernelName, BLAS_BACKEND) !== undefined) {
      tf.unregisterKernel(kernel.kernelName, BLAS_BACKEND);
    }
    tf.registerKernel(kernel);
  }
  tf.registerBackend(BLAS_BACKEND, () => new BlasBackend(), BLAS_PRIORITY);
  return {
    registered: true,
    library: load.blas.path,
    config: load.blas.config,
    threads: load.blas.threads,
    gemm: gemm.name,
    elementwise: impl.name,
    attention: native.ok
      ? `native, ${native.symbols.ff_threads()} threads over heads`
      : "OpenBLAS per head through FFI",
    native: native.ok ? native.path : `unavailable (${native.reason}); JavaScript kernels`,
    kernels: [...new Set(overrides.map((k) => k.kernelName))],
  };
}
