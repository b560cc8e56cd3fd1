/**
 * Reading a tensor's values inside a `blas` kernel.
 *
 * @module
 */

import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";

/**
 * The values of `t` as a Float32Array: the backend's own array when it is one (no copy; the
 * kernel must not write to it), else a float32 copy.
 *
 * @param backend The cpu-derived backend holding `t`.
 * @param t A tensor of that backend.
 */
export function float32Values(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}
