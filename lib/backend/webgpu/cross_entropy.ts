/**
 * Softmax cross-entropy over the rows of `(N, K)` logits with label smoothing ε (PyTorch's
 * definition), fused with its gradient, plus the reductions that turn per-row values into the
 * numbers a step reports.
 *
 *     lse = log Σ_k exp(z_k)
 *     ℓ_r = (1 − ε)·(lse − z_label) + ε·(lse − mean_k z_k)
 *     dz  = (softmax(z) − ε/K − (1 − ε)·onehot(label)) / N     (gradient of mean_r ℓ_r)
 *     correct_r = [argmax_k z_k = label]   (first maximum, as tf.argMax)
 *
 * One workgroup of 64 threads per row.
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { f32, flatIndex, grid, storage } from "./wgsl.ts";

/** Threads per row. */
const ROW = 64;

/** Options of {@linkcode crossEntropy}. */
export interface CrossEntropyOptions {
  /** Label of the launch. */
  label: string;
  /** Logits `(N, K)`. */
  logits: Region;
  /** Labels `(N)`, u32 in [0, K). */
  labels: Region;
  /** Per-row loss ℓ_r `(N)`, nats. */
  rowLoss: Region;
  /** Rows N. */
  rows: number;
  /** Classes K. */
  classes: number;
  /** Label smoothing ε. @default 0 */
  labelSmoothing?: number;
  /** Gradient of the mean loss w.r.t. the logits `(N, K)` (training). */
  dlogits?: Region;
  /** Per-row 1/0 "arg-max is the label" `(N)` (evaluation). */
  correct?: Region;
}

/**
 * The fused loss (and gradient, and accuracy flags) launch.
 * @param o Logits, labels, outputs, shape, ε.
 */
export function crossEntropy(o: CrossEntropyOptions): KernelSpec {
  const eps = o.labelSmoothing ?? 0;
  const k = o.classes;
  const g = grid(o.rows);
  const names: [string, "f32" | "u32"][] = [["logits", "f32"], ["labels", "u32"], [
    "row_loss",
    "f32",
  ]];
  const regions = [o.logits, o.labels, o.rowLoss];
  if (o.dlogits !== undefined) {
    names.push(["dlogits", "f32"]);
    regions.push(o.dlogits);
  }
  if (o.correct !== undefined) {
    names.push(["correct", "f32"]);
    regions.push(o.correct);
  }
  const grad = o.dlogits === undefined ? "" : `
  let inv_sum = 1.0 / total;
  for (var j = l.x; j < K; j += ${ROW}u) {
    var d = exp(logits[base + j] - mx) * inv_sum - ${f32(eps / k)};
    if (j == label) { d -= ${f32(1 - eps)}; }
    dlogits[base + j] = d * ${f32(1 / o.rows)};
  }`;
  const argmax = o.correct === undefined ? "" : `
  // First index holding the maximum, as tf.argMax.
  var first = K;
  for (var j = l.x; j < K; j += ${ROW}u) { if (logits[base + j] == mx) { first = min(first, j); } }
  redu[l.x] = first;
  workgroupBarrier();
  for (var s = ${ROW / 2}u; s > 0u; s >>= 1u) {
    if (l.x < s) { redu[l.x] = min(redu[l.x], redu[l.x + s]); }
    workgroupBarrier();
  }
  if (l.x == 0u) { correct[row] = select(0.0, 1.0, redu[0] == label); }`;
  return {
    label: o.label,
    code: `const K = ${k}u;
${storage(names)}
var<workgroup> red: array<f32, ${ROW}>;
var<workgroup> redu: array<u32, ${ROW}>;
fn reduce(lid: u32, is_max: bool) {
  for (var s = ${ROW / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (is_max) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] += red[lid + s]; }
    }
    workgroupBarrier();
  }
}
@compute @workgroup_size(${ROW})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = ${flatIndex(g)};
  if (row >= ${o.rows}u) { return; }
  let base = row * K;
  let label = labels[row];
  var m = -3.4e38;
  var zsum = 0.0;
  for (var j = l.x; j < K; j += ${ROW}u) { let z = logits[base + j]; m = max(m, z); zsum += z; }
  red[l.x] = m;
  workgroupBarrier();
  reduce(l.x, true);
  let mx = red[0];
  workgroupBarrier();
  var e = 0.0;
  for (var j = l.x; j < K; j += ${ROW}u) { e += exp(logits[base + j] - mx); }
  red[l.x] = e;
  workgroupBarrier();
  reduce(l.x, false);
  let total = red[0];
  workgroupBarrier();
  red[l.x] = zsum;
  workgroupBarrier();
  reduce(l.x, false);
  let lse = mx + log(total);
  if (l.x == 0u) {
    let nll = lse - logits[base + label];
    let uniform = lse - red[0] / ${k}.0;
    row_loss[row] = ${f32(1 - eps)} * nll + ${f32(eps)} * uniform;
  }${grad}${argmax}
}`,
    bindings: regions,
    grid: g,
  };
}

/**
 * `out[slot] += scale · Σ_i x[i]`, one workgroup of 256 threads (a loss or accuracy total).
 * @param o `x` the values, `out` the totals buffer, `slot` its element, `scale` the factor.
 */
export function sumInto(
  o: { label: string; x: Region; out: Region; slot: number; scale: number },
): KernelSpec {
  const n = o.x.length;
  return {
    label: o.label,
    code: `${storage([["x", "f32"], ["out", "f32"]])}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) l: vec3u) {
  var s = 0.0;
  for (var i = l.x; i < ${n}u; i += 256u) { s += x[i]; }
  red[l.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (l.x < k) { red[l.x] += red[l.x + k]; }
    workgroupBarrier();
  }
  if (l.x == 0u) { out[${o.slot}u] += red[0] * ${f32(o.scale)}; }
}`,
    bindings: [o.x, o.out],
    grid: { x: 1, y: 1 },
  };
}
