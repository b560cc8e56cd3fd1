/**
 * The fused element-wise kernels in two implementations with the same formulas: native
 * (lib/backend/blas/native/ff_kernels.c through FFI) and JavaScript (this file), so that a host without
 * a C compiler still runs every kernel of the `blas` backend.
 *
 * Formulas:
 * - GELU (exact): y = x·Φ(x), Φ(x) = ½·(1 + erf(x/√2)); dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π)
 * - LayerNorm over rows of width C: y = (x − μ)·rstd·g + b, rstd = 1/√(σ² + ε), σ² biased;
 *   dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = dy·g, x̂ = (x − μ)·rstd; dg = Σ dy·x̂; db = Σ dy
 * - Softmax over rows: y = e^(x − max)/Σ e^(x − max); dx = y·(dy − Σ dy·y)
 * - erf: Abramowitz & Stegun 7.1.26 (abs. error ≤ 1.5e-7), as tfjs-cpu's `Erf`
 *
 * @module
 */

import { backend_util } from "@tensorflow/tfjs-core";
import type { NativeKernels } from "./native.ts";
import { float32Pool } from "./pool.ts";

/** LayerNorm forward outputs: y and the per-row statistics the gradient needs. */
export interface LayerNormOut {
  y: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
}

/** LayerNorm gradients. */
export interface LayerNormGrads {
  dx: Float32Array;
  dg: Float32Array;
  db: Float32Array;
}

/** Softmax cross-entropy forward outputs, per row. */
export interface CrossEntropyOut {
  /** `(rows, n)` softmax probabilities, kept for the gradient. */
  probs: Float32Array;
  /** `(rows)` −ln p_label. */
  nll: Float32Array;
  /** `(rows)` −mean_j ln p_j (the label-smoothing term). */
  uniform: Float32Array;
}

/** One implementation of the fused kernels. */
export interface FusedImpl {
  /** "native" or "js". */
  name: string;
  exp(x: Float32Array): Float32Array;
  erf(x: Float32Array): Float32Array;
  gelu(x: Float32Array): Float32Array;
  geluGrad(x: Float32Array, dy: Float32Array): Float32Array;
  layerNorm(
    x: Float32Array,
    g: Float32Array,
    b: Float32Array,
    rows: number,
    c: number,
    eps: number,
  ): LayerNormOut;
  layerNormGrad(
    x: Float32Array,
    g: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    rows: number,
    c: number,
  ): LayerNormGrads;
  softmax(x: Float32Array, rows: number, n: number): Float32Array;
  softmaxGrad(y: Float32Array, dy: Float32Array, rows: number, n: number): Float32Array;
  /** Softmax cross-entropy of logits `z` `(rows, n)` against `labels` (each in [0, n)). */
  crossEntropy(z: Float32Array, labels: Int32Array, rows: number, n: number): CrossEntropyOut;
  /** dz = scale·(p − ε/n − (1 − ε)·onehot(label)). */
  crossEntropyGrad(
    probs: Float32Array,
    labels: Int32Array,
    rows: number,
    n: number,
    coefs: { scale: number; smoothing: number },
  ): Float32Array;
}

/** The implementation over the native library. */
export function nativeImpl(k: NativeKernels): FusedImpl {
  return {
    name: "native",
    exp(x) {
      const y = float32Pool.take(x.length);
      k.ff_exp(x, y, BigInt(x.length));
      return y;
    },
    erf(x) {
      const y = float32Pool.take(x.length);
      k.ff_erf(x, y, BigInt(x.length));
      return y;
    },
    gelu(x) {
      const y = float32Pool.take(x.length);
      k.ff_gelu(x, y, BigInt(x.length));
      return y;
    },
    geluGrad(x, dy) {
      const dx = float32Pool.take(x.length);
      k.ff_gelu_grad(x, dy, dx, BigInt(x.length));
      return dx;
    },
    layerNorm(x, g, b, rows, c, eps) {
      const y = float32Pool.take(rows * c);
      const mean = float32Pool.take(rows);
      const rstd = float32Pool.take(rows);
      k.ff_layernorm(x, g, b, y, mean, rstd, BigInt(rows), BigInt(c), eps);
      return { y, mean, rstd };
    },
    layerNormGrad(x, g, mean, rstd, dy, rows, c) {
      const dx = float32Pool.take(rows * c);
      const dg = new Float64Array(c);
      const db = new Float64Array(c);
      const rc = k.ff_layernorm_grad(x, g, mean, rstd, dy, dx, dg, db, BigInt(rows), BigInt(c));
      if (rc !== 0) throw new Error(`ff_layernorm_grad failed (${rc}): out of memory`);
      return { dx, dg: Float32Array.from(dg), db: Float32Array.from(db) };
    },
    softmax(x, rows, n) {
      const y = float32Pool.take(rows * n);
      k.ff_softmax(x, y, BigInt(rows), BigInt(n));
      return y;
    },
    softmaxGrad(y, dy, rows, n) {
      const dx = float32Pool.take(rows * n);
      k.ff_softmax_grad(y, dy, dx, BigInt(rows), BigInt(n));
      return dx;
    },
    crossEntropy(z, labels, rows, n) {
      const probs = float32Pool.take(rows * n);
      const nll = float32Pool.take(rows);
      const uniform = float32Pool.take(rows);
      k.ff_cross_entropy(z, labels, probs, nll, uniform, BigInt(rows), BigInt(n));
      return { probs, nll, uniform };
    },
    crossEntropyGrad(probs, labels, rows, n, { scale, smoothing }) {
      const dz = float32Pool.take(rows * n);
      k.ff_cross_entropy_grad(probs, labels, dz, BigInt(rows), BigInt(n), scale, smoothing);
      return dz;
    },
  };
}

const { ERF_P, ERF_A1, ERF_A2, ERF_A3, ERF_A4, ERF_A5 } = backend_util;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erf by Abramowitz & Stegun 7.1.26 (see the module doc). */
function erf(v: number): number {
  const a = Math.abs(v);
  const t = 1 / (1 + ERF_P * a);
  const e = 1 -
    ((((ERF_A5 * t + ERF_A4) * t + ERF_A3) * t + ERF_A2) * t + ERF_A1) * t * Math.exp(-a * a);
  return v < 0 ? -e : e;
}

/** The JavaScript implementation. */
export const jsImpl: FusedImpl = {
  name: "js",
  exp(x) {
    const y = float32Pool.take(x.length);
    for (let i = 0; i < x.length; i++) y[i] = Math.exp(x[i]);
    return y;
  },
  erf(x) {
    const y = float32Pool.take(x.length);
    for (let i = 0; i < x.length; i++) y[i] = erf(x[i]);
    return y;
  },
  gelu(x) {
    const y = float32Pool.take(x.length);
    for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i] * (1 + erf(x[i] * Math.SQRT1_2));
    return y;
  },
  geluGrad(x, dy) {
    const dx = float32Pool.take(x.length);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const cdf = 0.5 * (1 + erf(v * Math.SQRT1_2));
      dx[i] = dy[i] * (cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
    }
    return dx;
  },
  layerNorm(x, g, b, rows, c, eps) {
    const y = float32Pool.take(rows * c);
    const mean = float32Pool.take(rows);
    const rstd = float32Pool.take(rows);
    for (let r = 0; r < rows; r++) {
      const base = r * c;
      let s = 0;
      for (let j = 0; j < c; j++) s += x[base + j];
      const mu = s / c;
      let v = 0;
      for (let j = 0; j < c; j++) v += (x[base + j] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / c + eps);
      for (let j = 0; j < c; j++) y[base + j] = (x[base + j] - mu) * rs * g[j] + b[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
    return { y, mean, rstd };
  },
  layerNormGrad(x, g, mean, rstd, dy, rows, c) {
    const dx = float32Pool.take(rows * c);
    const dg = new Float64Array(c);
    const db = new Float64Array(c);
    for (let r = 0; r < rows; r++) {
      const base = r * c;
      const mu = mean[r];
      const rs = rstd[r];
      let sumG = 0;
      let sumGx = 0;
      for (let j = 0; j < c; j++) {
        const xh = (x[base + j] - mu) * rs;
        const gh = dy[base + j] * g[j];
        sumG += gh;
        sumGx += gh * xh;
        dg[j] += dy[base + j] * xh;
        db[j] += dy[base + j];
      }
      const mG = sumG / c;
      const mGx = sumGx / c;
      for (let j = 0; j < c; j++) {
        const xh = (x[base + j] - mu) * rs;
        dx[base + j] = rs * (dy[base + j] * g[j] - mG - xh * mGx);
      }
    }
    return { dx, dg: Float32Array.from(dg), db: Float32Array.from(db) };
  },
  softmax(x, rows, n) {
    const y = float32Pool.take(rows * n);
    for (let base = 0; base < rows * n; base += n) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) if (x[base + j] > max) max = x[base + j];
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(x[base + j] - max);
        y[base + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < n; j++) y[base + j] *= inv;
    }
    return y;
  },
  softmaxGrad(y, dy, rows, n) {
    const dx = float32Pool.take(rows * n);
    for (let base = 0; base < rows * n; base += n) {
      let s = 0;
      for (let j = 0; j < n; j++) s += dy[base + j] * y[base + j];
      for (let j = 0; j < n; j++) dx[base + j] = y[base + j] * (dy[base + j] - s);
    }
    return dx;
  },
  crossEntropy(z, labels, rows, n) {
    // lse = m + ln Σ e^(z − m), p = e^(z − m)/Σ, nll = lse − z_label, uniform = lse − mean(z).
    const probs = float32Pool.take(rows * n);
    const nll = float32Pool.take(rows);
    const uniform = float32Pool.take(rows);
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      let m = -Infinity;
      for (let j = 0; j < n; j++) if (z[base + j] > m) m = z[base + j];
      let s = 0;
      let zSum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp(z[base + j] - m);
        probs[base + j] = e;
        s += e;
        zSum += z[base + j];
      }
      const inv = 1 / s;
      for (let j = 0; j < n; j++) probs[base + j] *= inv;
      const lse = m + Math.log(s);
      nll[r] = lse - z[base + labels[r]];
      uniform[r] = lse - zSum / n;
    }
    return { probs, nll, uniform };
  },
  crossEntropyGrad(probs, labels, rows, n, { scale, smoothing }) {
    const dz = float32Pool.take(rows * n);
    const off = smoothing / n;
    const on = 1 - smoothing;
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      for (let j = 0; j < n; j++) dz[base + j] = scale * (probs[base + j] - off);
      dz[base + labels[r]] -= scale * on;
    }
    return dz;
  },
};
