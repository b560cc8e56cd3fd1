/**
 * Element-wise and column-reduction kernels: exact GELU and its gradient, column sums (a bias's
 * gradient), and the erf the GELU needs.
 *
 * WGSL has no `erf`. {@linkcode ERF_WGSL} is Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), the
 * same polynomial and constants as tfjs's `Erf` kernel (`tfjs-backend-cpu`), so GELU here and on
 * tfjs-cpu agree to float rounding.
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { flatIndex, grid, storage } from "./wgsl.ts";

/** Threads per workgroup of the element-wise kernels. */
const WORKGROUP = 256;

/** `erf(x)` in WGSL, Abramowitz & Stegun 7.1.26 (as tfjs's `Erf`). */
export const ERF_WGSL = `
fn erf_as(x: f32) -> f32 {
  let s = sign(x);
  let v = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * v);
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t +
    0.254829592) * t;
  return s * (1.0 - poly * exp(-v * v));
}`;

/**
 * GELU forward, `y = ½·x·(1 + erf(x/√2))`, over `n` elements.
 * @param o `x` input, `y` output (same length), label.
 */
export function gelu(o: { label: string; x: Region; y: Region }): KernelSpec {
  const n = o.x.length;
  const g = grid(Math.ceil(n / WORKGROUP));
  return {
    label: o.label,
    code: `${storage([["x", "f32"], ["y", "f32"]])}
${ERF_WGSL}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = ${flatIndex(g)} * ${WORKGROUP}u + lid.x;
  if (i >= ${n}u) { return; }
  let v = x[i];
  y[i] = 0.5 * v * (1.0 + erf_as(v * 0.70710678118654752));
}`,
    bindings: [o.x, o.y],
    grid: g,
  };
}

/**
 * GELU backward, `dx = dy·(Φ(x) + x·φ(x))` with Φ(x) = ½(1 + erf(x/√2)) and
 * φ(x) = exp(−x²/2)/√(2π).
 * @param o `x` the forward input, `dy` the output gradient, `dx` the input gradient.
 */
export function geluBackward(
  o: { label: string; x: Region; dy: Region; dx: Region },
): KernelSpec {
  const n = o.x.length;
  const g = grid(Math.ceil(n / WORKGROUP));
  return {
    label: o.label,
    code: `${storage([["x", "f32"], ["dy", "f32"], ["dx", "f32"]])}
${ERF_WGSL}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = ${flatIndex(g)} * ${WORKGROUP}u + lid.x;
  if (i >= ${n}u) { return; }
  let v = x[i];
  let cdf = 0.5 * (1.0 + erf_as(v * 0.70710678118654752));
  let pdf = exp(-0.5 * v * v) * 0.39894228040143268;
  dx[i] = dy[i] * (cdf + v * pdf);
}`,
    bindings: [o.x, o.dy, o.dx],
    grid: g,
  };
}

/**
 * Column sums, `out[c] (+)= Σ_r x[r, c]` of a row-major `(rows, cols)` matrix — a bias's
 * gradient. Each workgroup owns 16 columns; its 16 lanes stride the rows and are summed in
 * workgroup memory.
 * @param o `x` `(rows, cols)`, `out` `(cols)`, and whether to accumulate into `out`.
 */
export function columnSums(
  o: { label: string; x: Region; out: Region; rows: number; cols: number; accumulate?: boolean },
): KernelSpec {
  const { rows, cols } = o;
  if (o.x.length !== rows * cols || o.out.length !== cols) {
    throw new RangeError(`${o.label}: column sums of ${o.x.label} into ${o.out.label}: bad shapes`);
  }
  const g = grid(Math.ceil(cols / 16));
  return {
    label: o.label,
    code: `${storage([["x", "f32"], ["out", "f32"]])}
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = ${flatIndex(g)} * 16u + lid.x;
  var s = 0.0;
  if (col < ${cols}u) {
    for (var r = lid.y; r < ${rows}u; r += 16u) { s += x[r * ${cols}u + col]; }
  }
  part[lid.y * 16u + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && col < ${cols}u) {
    var t = 0.0;
    for (var l = 0u; l < 16u; l++) { t += part[l * 16u + lid.x]; }
    out[col] ${o.accumulate ? "+=" : "="} t;
  }
}`,
    bindings: [o.x, o.out],
    grid: g,
  };
}
