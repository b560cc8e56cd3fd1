/**
 * Shared helpers of the kernel tests: seeded random inputs, running one function on the reference
 * `cpu` backend and on `blas`, and a float32 tolerance check.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "../../../../models/gradients.ts";
import { blasBackendInfo, registerBlasBackend } from "../../../../lib/backend/blas/mod.ts";

/** Whether the blas backend is usable here (OpenBLAS found); tests skip otherwise. */
export const BLAS_OK = registerBlasBackend();
/** Why the blas tests are skipped, for the test names. */
export const BLAS_SKIP = BLAS_OK ? "" : ` (skipped: ${blasBackendInfo().reason})`;
if (!BLAS_OK) console.warn(`blas kernel tests skipped: ${blasBackendInfo().reason}`);

/**
 * Float32 tolerance: |got − want| ≤ ATOL + RTOL·|want|. Products of K terms reordered by BLAS
 * differ by ~K·2⁻²⁴ relative; 1e-4 covers K in the thousands.
 */
export const RTOL = 1e-4;
/** Absolute part of the tolerance, for values that cancel to near zero. */
export const ATOL = 1e-5;

/** Seeded uniform values in [−1, 1) (LCG), reproducible across runs. */
export function randomValues(n: number, seed: number): Float32Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** A spec of one input: its shape and seed. */
export type InputSpec = { shape: number[]; seed: number };

/**
 * Runs `fn` on fresh tensors of `inputs` on `backend`, returning every output's values and shape
 * (and leaving no tensors behind).
 */
export async function runOn(
  backend: string,
  inputs: InputSpec[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array }[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const xs = inputs.map((s) =>
    tf.tensor(randomValues(s.shape.reduce((a, b) => a * b, 1), s.seed), s.shape)
  );
  const out = tf.tidy(() => {
    const r = fn(...xs);
    return Array.isArray(r) ? r : [r];
  });
  const result = out.map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
  tf.dispose([...out, ...xs]);
  if (tf.memory().numTensors !== before) {
    throw new Error(`${backend}: ${tf.memory().numTensors - before} tensors leaked`);
  }
  return result;
}

/** Largest violation of the tolerance between two value arrays (≤ 0 means within). */
export function worstExcess(
  got: Float32Array,
  want: Float32Array,
  rtol = RTOL,
  atol = ATOL,
): number {
  let worst = -Infinity;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
    if (!(excess <= worst)) worst = Number.isNaN(excess) ? Infinity : excess;
  }
  return worst;
}

/**
 * Asserts `fn` gives the same outputs on `blas` as on `cpu` (shapes equal, values within
 * tolerance); with `grads`, also the gradients of sum(outputs · fixed weights) w.r.t. every input.
 */
export async function assertSameOnBlas(
  inputs: InputSpec[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  options: { grads?: boolean; rtol?: number; atol?: number; label?: string } = {},
): Promise<void> {
  const withGrads = (...xs: tf.Tensor[]) => {
    const outs = fn(...xs);
    const list = Array.isArray(outs) ? outs : [outs];
    if (!options.grads) return list;
    // A loss whose gradient w.r.t. each output is a fixed random tensor (not all ones).
    const loss = (...ys: tf.Tensor[]) => {
      const os = fn(...ys);
      const ol = Array.isArray(os) ? os : [os];
      return tf.addN(
        ol.map((o, i) => tf.sum(tf.mul(o, tf.tensor(randomValues(o.size, 1000 + i), o.shape)))),
      ) as tf.Scalar;
    };
    return [...list, ...tf.grads(loss)(xs)];
  };
  const want = await runOn("cpu", inputs, withGrads);
  const got = await runOn("blas", inputs, withGrads);
  const label = options.label ?? JSON.stringify(inputs.map((s) => s.shape));
  if (got.length !== want.length) {
    throw new Error(`${label}: ${got.length} outputs, want ${want.length}`);
  }
  for (let i = 0; i < want.length; i++) {
    if (JSON.stringify(got[i].shape) !== JSON.stringify(want[i].shape)) {
      throw new Error(`${label} output ${i}: shape ${got[i].shape}, want ${want[i].shape}`);
    }
    const excess = worstExcess(got[i].values, want[i].values, options.rtol, options.atol);
    if (excess > 0) {
      throw new Error(`${label} output ${i}: off by ${excess.toExponential(2)} beyond tolerance`);
    }
  }
}
