/**
 * Multi-head self-attention from a fused projection, forward and backward, in three kernels
 * forward-and-back plus one:
 *
 *     qkv `(B·T, 3C)`: q = qkv[:, h·hs + d], k = qkv[:, C + h·hs + d], v = qkv[:, 2C + h·hs + d]
 *     S = q·kᵀ · (1/√hs)       P = softmax_j(S)  (causal: j > i excluded, P = 0 there)
 *     O[b·T + i, h·hs + d] = Σ_j P[b, h, i, j] · v[b·T + j, h·hs + d]
 *
 * Backward, from dO:
 *
 *     dP = dO·vᵀ,  dS = P ⊙ (dP − Σ_j P·dP)
 *     dq = dS·k/√hs,  dk = dSᵀ·q/√hs,  dv = Pᵀ·dO
 *
 * P `(B, H, T, T)` is kept from the forward for the backward; dS is written to its own
 * `(B, H, T, T)` buffer. Excluding j > i exactly gives the same P as the tfjs path's additive
 * mask of −1e9 (whose exp underflows to 0).
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { f32, flatIndex, grid, storage } from "./wgsl.ts";

/** Shape of an attention launch. */
export interface AttentionShape {
  /** Label of the launch. */
  label: string;
  /** Batch B. */
  batch: number;
  /** Tokens T. */
  tokens: number;
  /** Heads H. */
  heads: number;
  /** Width C = H·hs. */
  width: number;
  /** Causal (GPT) or full (ViT). */
  causal: boolean;
}

/** Threads per (b, h, i) row in the row kernels. */
const ROW = 64;

const REDUCE = `
var<workgroup> red: array<f32, ${ROW}>;
fn reduce(lid: u32, is_max: bool) {
  for (var s = ${ROW / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (is_max) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] += red[lid + s]; }
    }
    workgroupBarrier();
  }
}`;

function constants(s: AttentionShape): string {
  const hs = s.width / s.heads;
  if (!Number.isInteger(hs)) throw new RangeError(`${s.label}: heads must divide the width`);
  return `const B = ${s.batch}u;
const T = ${s.tokens}u;
const H = ${s.heads}u;
const C = ${s.width}u;
const HS = ${hs}u;
const SCALE = ${f32(1 / Math.sqrt(hs))};`;
}

/** Last key index (inclusive) that query `i` sees. */
function lastKey(causal: boolean, i: string): string {
  return causal ? i : "T - 1u";
}

/**
 * Forward: the attention weights P `(B, H, T, T)`, one workgroup per (b, h, i).
 * @param o `qkv` `(B·T, 3C)` in, `probs` `(B, H, T, T)` out.
 */
export function attentionProbs(o: AttentionShape & { qkv: Region; probs: Region }): KernelSpec {
  const rows = o.batch * o.heads * o.tokens;
  const g = grid(rows);
  return {
    label: o.label,
    code: `${constants(o)}
${storage([["qkv", "f32"], ["probs", "f32"]])}
${REDUCE}
@compute @workgroup_size(${ROW})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = ${flatIndex(g)};
  if (row >= ${rows}u) { return; }
  let i = row % T;
  let h = (row / T) % H;
  let b = row / (T * H);
  let q0 = (b * T + i) * 3u * C + h * HS;
  let out = row * T;
  let last = ${lastKey(o.causal, "i")};
  var mx = -3.4e38;
  for (var j = l.x; j < T; j += ${ROW}u) {
    if (j > last) { probs[out + j] = 0.0; continue; }
    let k0 = (b * T + j) * 3u * C + C + h * HS;
    var s = 0.0;
    for (var d = 0u; d < HS; d++) { s = fma(qkv[q0 + d], qkv[k0 + d], s); }
    s *= SCALE;
    probs[out + j] = s;
    mx = max(mx, s);
  }
  red[l.x] = mx;
  workgroupBarrier();
  reduce(l.x, true);
  let m = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var j = l.x; j <= last; j += ${ROW}u) {
    let e = exp(probs[out + j] - m);
    probs[out + j] = e;
    sum += e;
  }
  red[l.x] = sum;
  workgroupBarrier();
  reduce(l.x, false);
  let inv = 1.0 / red[0];
  for (var j = l.x; j <= last; j += ${ROW}u) { probs[out + j] *= inv; }
}`,
    bindings: [o.qkv, o.probs],
    grid: g,
  };
}

/**
 * Forward: O = P·v, heads concatenated, one thread per output element.
 * @param o `qkv` `(B·T, 3C)` and `probs` in, `out` `(B·T, C)` out.
 */
export function attentionOutput(
  o: AttentionShape & { qkv: Region; probs: Region; out: Region },
): KernelSpec {
  const n = o.batch * o.tokens * o.width;
  const g = grid(Math.ceil(n / 256));
  return {
    label: o.label,
    code: `${constants(o)}
${storage([["qkv", "f32"], ["probs", "f32"], ["out", "f32"]])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let idx = ${flatIndex(g)} * 256u + l.x;
  if (idx >= ${n}u) { return; }
  let c = idx % C;
  let bt = idx / C;
  let i = bt % T;
  let b = bt / T;
  let h = c / HS;
  let p0 = ((b * H + h) * T + i) * T;
  let v0 = b * T * 3u * C + 2u * C + c;
  var s = 0.0;
  for (var j = 0u; j <= ${lastKey(o.causal, "i")}; j++) {
    s = fma(probs[p0 + j], qkv[v0 + j * 3u * C], s);
  }
  out[idx] = s;
}`,
    bindings: [o.qkv, o.probs, o.out],
    grid: g,
  };
}

/**
 * Backward, step 1: dS = P ⊙ (dO·vᵀ − Σ_j P·dO·vᵀ), one workgroup per (b, h, i).
 * @param o `qkv`, `probs`, `dout` `(B·T, C)` in; `dscores` `(B, H, T, T)` out.
 */
export function attentionScoresBackward(
  o: AttentionShape & { qkv: Region; probs: Region; dout: Region; dscores: Region },
): KernelSpec {
  const rows = o.batch * o.heads * o.tokens;
  const g = grid(rows);
  return {
    label: o.label,
    code: `${constants(o)}
${storage([["qkv", "f32"], ["probs", "f32"], ["dout", "f32"], ["ds", "f32"]])}
${REDUCE}
@compute @workgroup_size(${ROW})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = ${flatIndex(g)};
  if (row >= ${rows}u) { return; }
  let i = row % T;
  let h = (row / T) % H;
  let b = row / (T * H);
  let o0 = (b * T + i) * C + h * HS;
  let out = row * T;
  let last = ${lastKey(o.causal, "i")};
  var dot = 0.0;
  for (var j = l.x; j < T; j += ${ROW}u) {
    if (j > last) { ds[out + j] = 0.0; continue; }
    let v0 = (b * T + j) * 3u * C + 2u * C + h * HS;
    var s = 0.0;
    for (var d = 0u; d < HS; d++) { s = fma(dout[o0 + d], qkv[v0 + d], s); }
    ds[out + j] = s;
    dot += s * probs[out + j];
  }
  red[l.x] = dot;
  workgroupBarrier();
  reduce(l.x, false);
  let total = red[0];
  for (var j = l.x; j <= last; j += ${ROW}u) {
    ds[out + j] = probs[out + j] * (ds[out + j] - total);
  }
}`,
    bindings: [o.qkv, o.probs, o.dout, o.dscores],
    grid: g,
  };
}

/**
 * Backward, step 2: dq, dk, dv into `dqkv` `(B·T, 3C)` (every element written), one thread per
 * (b, t, channel).
 * @param o `qkv`, `probs`, `dscores`, `dout` in; `dqkv` out.
 */
export function attentionQkvBackward(
  o: AttentionShape & {
    qkv: Region;
    probs: Region;
    dscores: Region;
    dout: Region;
    dqkv: Region;
  },
): KernelSpec {
  const n = o.batch * o.tokens * o.width;
  const g = grid(Math.ceil(n / 256));
  const first = o.causal ? "t" : "0u";
  return {
    label: o.label,
    code: `${constants(o)}
${storage([["qkv", "f32"], ["probs", "f32"], ["ds", "f32"], ["dout", "f32"], ["dqkv", "f32"]])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let idx = ${flatIndex(g)} * 256u + l.x;
  if (idx >= ${n}u) { return; }
  let c = idx % C;
  let bt = idx / C;
  let t = bt % T;
  let b = bt / T;
  let h = c / HS;
  let plane = (b * H + h) * T * T;
  let row3 = 3u * C;
  let base = b * T * row3;
  var dq = 0.0;
  for (var j = 0u; j <= ${lastKey(o.causal, "t")}; j++) {
    dq = fma(ds[plane + t * T + j], qkv[base + j * row3 + C + c], dq);
  }
  var dk = 0.0;
  var dv = 0.0;
  for (var i = ${first}; i < T; i++) {
    dk = fma(ds[plane + i * T + t], qkv[base + i * row3 + c], dk);
    dv = fma(probs[plane + i * T + t], dout[(b * T + i) * C + c], dv);
  }
  let o3 = bt * row3 + c;
  dqkv[o3] = dq * SCALE;
  dqkv[o3 + C] = dk * SCALE;
  dqkv[o3 + 2u * C] = dv;
}`,
    bindings: [o.qkv, o.probs, o.dscores, o.dout, o.dqkv],
    grid: g,
  };
}
