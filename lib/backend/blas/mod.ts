/**
 * The fast CPU path: a tfjs backend named `blas` whose matmuls run on OpenBLAS (through Deno's FFI)
 * and whose other hot kernels are tight typed-array loops.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { blasBackendInfo, registerBlasBackend } from "./mod.ts";
 * if (registerBlasBackend()) await tf.setBackend("blas");
 * else console.warn(blasBackendInfo().reason);
 * ```
 *
 * @module
 */

export {
  BLAS_BACKEND,
  type BlasBackendInfo,
  blasBackendInfo,
  registerBlasBackend,
} from "./backend.ts";
export { findOpenBlas, loadOpenBlas, type OpenBlas, type OpenBlasLoad } from "./openblas.ts";
export {
  DEFAULT_POOL_CAP_BYTES,
  Float32Pool,
  float32Pool,
  poolCapFromEnv,
  type PoolStats,
} from "./pool.ts";
