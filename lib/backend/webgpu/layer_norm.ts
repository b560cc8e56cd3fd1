/**
 * LayerNorm over the last axis of a row-major `(rows, C)` matrix, forward and backward.
 *
 *     μ = mean(x),  σ² = mean((x − μ)²)  (biased, as PyTorch),  r = 1/√(σ² + ε)
 *     x̂ = (x − μ)·r,  y = x̂·g + b
 *
 * Backward, with dx̂ = dy·g:
 *
 *     dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),   dg = Σ_rows dy·x̂,   db = Σ_rows dy
 *
 * One workgroup of 64 threads per row (forward, input gradient); the parameter gradients are a
 * column reduction of their own. The forward saves μ and r per row for the backward.
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { f32, flatIndex, grid, storage } from "./wgsl.ts";

/** Threads per row. */
const WORKGROUP = 64;

/** WGSL: tree-reduce `red[0…63]` into `red[0]` (all threads call it). */
const REDUCE = `
fn reduce_sum(lid: u32) {
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
}`;

/** Shape of a LayerNorm launch. */
export interface LayerNormShape {
  /** Label of the launch. */
  label: string;
  /** Rows. */
  rows: number;
  /** Channels C. */
  channels: number;
  /** ε added to the variance. */
  eps: number;
}

/**
 * LayerNorm forward.
 * @param o `x` `(rows, C)`, gain `g` and bias `b` `(C)`; outputs `y` `(rows, C)`, `mean` and
 *   `rstd` `(rows)`.
 */
export function layerNormForward(
  o: LayerNormShape & { x: Region; g: Region; b: Region; y: Region; mean: Region; rstd: Region },
): KernelSpec {
  const c = o.channels;
  const g = grid(o.rows);
  return {
    label: o.label,
    code: `${
      storage([["x", "f32"], ["gain", "f32"], ["bias", "f32"], ["y", "f32"], ["mean", "f32"], [
        "rstd",
        "f32",
      ]])
    }
var<workgroup> red: array<f32, ${WORKGROUP}>;
${REDUCE}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = ${flatIndex(g)};
  if (row >= ${o.rows}u) { return; }
  let base = row * ${c}u;
  var s = 0.0;
  for (var i = l.x; i < ${c}u; i += ${WORKGROUP}u) { s += x[base + i]; }
  red[l.x] = s;
  workgroupBarrier();
  reduce_sum(l.x);
  let mu = red[0] / ${c}.0;
  workgroupBarrier();
  var q = 0.0;
  for (var i = l.x; i < ${c}u; i += ${WORKGROUP}u) { let d = x[base + i] - mu; q += d * d; }
  red[l.x] = q;
  workgroupBarrier();
  reduce_sum(l.x);
  let r = inverseSqrt(red[0] / ${c}.0 + ${f32(o.eps)});
  for (var i = l.x; i < ${c}u; i += ${WORKGROUP}u) {
    y[base + i] = (x[base + i] - mu) * r * gain[i] + bias[i];
  }
  if (l.x == 0u) { mean[row] = mu; rstd[row] = r; }
}`,
    bindings: [o.x, o.g, o.b, o.y, o.mean, o.rstd],
    grid: g,
  };
}

/**
 * LayerNorm input gradient, added to a residual gradient: `dxOut = dxIn + dx` (`dxIn` may be
 * omitted: then `dxOut = dx`).
 * @param o Forward input `x`, gain `g`, saved `mean`/`rstd`, output gradient `dy`.
 */
export function layerNormBackward(
  o: LayerNormShape & {
    x: Region;
    g: Region;
    mean: Region;
    rstd: Region;
    dy: Region;
    dxIn?: Region;
    dxOut: Region;
  },
): KernelSpec {
  const c = o.channels;
  const g = grid(o.rows);
  const names: [string, "f32"][] = [
    ["x", "f32"],
    ["gain", "f32"],
    ["mean", "f32"],
    [
      "rstd",
      "f32",
    ],
    ["dy", "f32"],
    ["dx_out", "f32"],
  ];
  const regions = [o.x, o.g, o.mean, o.rstd, o.dy, o.dxOut];
  if (o.dxIn !== undefined) {
    names.push(["dx_in", "f32"]);
    regions.push(o.dxIn);
  }
  const residual = o.dxIn === undefined ? "" : " + dx_in[base + i]";
  return {
    label: o.label,
    code: `${storage(names)}
var<workgroup> red: array<f32, ${WORKGROUP}>;
${REDUCE}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = ${flatIndex(g)};
  if (row >= ${o.rows}u) { return; }
  let base = row * ${c}u;
  let mu = mean[row];
  let r = rstd[row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var i = l.x; i < ${c}u; i += ${WORKGROUP}u) {
    let dxh = dy[base + i] * gain[i];
    s1 += dxh;
    s2 += dxh * (x[base + i] - mu) * r;
  }
  red[l.x] = s1;
  workgroupBarrier();
  reduce_sum(l.x);
  let m1 = red[0] / ${c}.0;
  workgroupBarrier();
  red[l.x] = s2;
  workgroupBarrier();
  reduce_sum(l.x);
  let m2 = red[0] / ${c}.0;
  for (var i = l.x; i < ${c}u; i += ${WORKGROUP}u) {
    let xh = (x[base + i] - mu) * r;
    let dxh = dy[base + i] * gain[i];
    dx_out[base + i] = r * (dxh - m1 - xh * m2)${residual};
  }
}`,
    bindings: regions,
    grid: g,
  };
}

/**
 * LayerNorm parameter gradients, accumulated: `dg[c] += Σ_r dy·x̂`, `db[c] += Σ_r dy`. Each
 * workgroup owns 16 channels; 16 lanes stride the rows.
 * @param o Forward input `x`, saved `mean`/`rstd`, output gradient `dy`; `dg`, `db` `(C)`.
 */
export function layerNormParamGrads(
  o: LayerNormShape & {
    x: Region;
    mean: Region;
    rstd: Region;
    dy: Region;
    dg: Region;
    db: Region;
  },
): KernelSpec {
  const c = o.channels;
  const g = grid(Math.ceil(c / 16));
  return {
    label: o.label,
    code: `${
      storage([["x", "f32"], ["mean", "f32"], ["rstd", "f32"], ["dy", "f32"], ["dg", "f32"], [
        "db",
        "f32",
      ]])
    }
var<workgroup> pg: array<f32, 256>;
var<workgroup> pb: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = ${flatIndex(g)} * 16u + lid.x;
  var sg = 0.0;
  var sb = 0.0;
  if (col < ${c}u) {
    for (var r = lid.y; r < ${o.rows}u; r += 16u) {
      let d = dy[r * ${c}u + col];
      sg += d * (x[r * ${c}u + col] - mean[r]) * rstd[r];
      sb += d;
    }
  }
  pg[lid.y * 16u + lid.x] = sg;
  pb[lid.y * 16u + lid.x] = sb;
  workgroupBarrier();
  if (lid.y == 0u && col < ${c}u) {
    var tg = 0.0;
    var tb = 0.0;
    for (var k = 0u; k < 16u; k++) { tg += pg[k * 16u + lid.x]; tb += pb[k * 16u + lid.x]; }
    dg[col] += tg;
    db[col] += tb;
  }
}`,
    bindings: [o.x, o.mean, o.rstd, o.dy, o.dg, o.db],
    grid: g,
  };
}
