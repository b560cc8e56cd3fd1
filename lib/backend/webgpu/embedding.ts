/**
 * Embedding kernels of both families, forward and backward.
 *
 * GPT: `x[b·T + t, c] = wte[ids[b·T + t], c] + wpe[t, c]`; backward
 * `dwte[v, c] += Σ_{n : ids[n] = v} dx[n, c]` (a scatter-add, made deterministic by a host-built
 * bucket list: `bucketStart[v]…bucketStart[v+1]` index `bucketRows`, the rows holding token v) and
 * `dwpe[t, c] += Σ_b dx[b·T + t, c]`.
 *
 * ViT: images `(B, S, S, Ch)` → patches `(B·N, P·P·Ch)` (row r·side + col, inner order
 * (pr, pc, ch), as the tfjs model's reshape/transpose); after the patch linear layer, tokens
 * `x[b, 0] = cls + pos[0]`, `x[b, 1 + n] = emb[b·N + n] + pos[1 + n]`; backward
 * `dcls += Σ_b dx[b, 0]`, `dpos[t] += Σ_b dx[b, t]`, `demb[b·N + n] = dx[b, 1 + n]`. The head
 * reads the CLS rows `x[b, 0]`, whose gradient is scattered back with zeros elsewhere.
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { flatIndex, grid, storage } from "./wgsl.ts";

/** Threads per workgroup. */
const WG = 256;

/** An element-wise launch over `n` threads with `body` using `i` (the element) as its index. */
function perElement(
  label: string,
  n: number,
  decl: [string, "f32" | "u32"][],
  regions: Region[],
  body: string,
  consts = "",
): KernelSpec {
  const g = grid(Math.ceil(n / WG));
  return {
    label,
    code: `${consts}
${storage(decl)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let i = ${flatIndex(g)} * ${WG}u + l.x;
  if (i >= ${n}u) { return; }
  ${body}
}`,
    bindings: regions,
    grid: g,
  };
}

/**
 * GPT token + position embedding.
 * @param o `ids` `(B·T)` u32, `wte` `(V, C)`, `wpe` `(T, C)`; `x` `(B·T, C)` out.
 */
export function gptEmbed(
  o: {
    label: string;
    ids: Region;
    wte: Region;
    wpe: Region;
    x: Region;
    tokens: number;
    width: number;
  },
): KernelSpec {
  const c = o.width;
  return perElement(
    o.label,
    o.x.length,
    [["ids", "u32"], ["wte", "f32"], ["wpe", "f32"], ["x", "f32"]],
    [o.ids, o.wte, o.wpe, o.x],
    `let n = i / ${c}u; let c = i % ${c}u;
  x[i] = wte[ids[n] * ${c}u + c] + wpe[(n % ${o.tokens}u) * ${c}u + c];`,
  );
}

/**
 * GPT token-embedding gradient, accumulated: `dwte[v, c] += Σ_{rows n of token v} dx[n, c]`.
 * @param o Buckets (`bucketStart` `(V+1)`, `bucketRows` `(B·T)`, u32), `dx` `(B·T, C)`, `dwte`.
 */
export function gptTokenGrad(
  o: {
    label: string;
    bucketStart: Region;
    bucketRows: Region;
    dx: Region;
    dwte: Region;
    width: number;
  },
): KernelSpec {
  const c = o.width;
  return perElement(
    o.label,
    o.dwte.length,
    [["start", "u32"], ["rows", "u32"], ["dx", "f32"], ["dwte", "f32"]],
    [o.bucketStart, o.bucketRows, o.dx, o.dwte],
    `let v = i / ${c}u; let c = i % ${c}u;
  var s = 0.0;
  for (var k = start[v]; k < start[v + 1u]; k++) { s += dx[rows[k] * ${c}u + c]; }
  dwte[i] += s;`,
  );
}

/**
 * Gradient of a position table added to every sample, accumulated:
 * `dpos[t, c] += Σ_b dx[b·T + t, c]` (GPT's wpe, ViT's pos; ViT also `dcls += Σ_b dx[b·T, c]`).
 * @param o `dx` `(B·T, C)`, `dpos` `(T, C)`, optional `dcls` `(C)`.
 */
export function positionGrad(
  o: { label: string; dx: Region; dpos: Region; dcls?: Region; batch: number; tokens: number },
): KernelSpec {
  const tc = o.dpos.length;
  const decl: [string, "f32"][] = [["dx", "f32"], ["dpos", "f32"]];
  const regions = [o.dx, o.dpos];
  if (o.dcls !== undefined) {
    decl.push(["dcls", "f32"]);
    regions.push(o.dcls);
  }
  const c = tc / o.tokens;
  const cls = o.dcls === undefined ? "" : `if (i < ${c}u) { dcls[i] += s; }`;
  return perElement(
    o.label,
    tc,
    decl,
    regions,
    `var s = 0.0;
  for (var b = 0u; b < ${o.batch}u; b++) { s += dx[b * ${tc}u + i]; }
  dpos[i] += s;
  ${cls}`,
  );
}

/**
 * ViT patch extraction: `patches[b·N + r·side + q, (pr·P + pc)·Ch + ch] = img[b, r·P + pr, q·P + pc, ch]`.
 * @param o `images` `(B, S, S, Ch)`, `patches` `(B·N, P·P·Ch)`.
 */
export function vitPatches(
  o: {
    label: string;
    images: Region;
    patches: Region;
    imageSize: number;
    patch: number;
    channels: number;
  },
): KernelSpec {
  const p = o.patch;
  const side = o.imageSize / p;
  const pd = p * p * o.channels;
  return perElement(
    o.label,
    o.patches.length,
    [["img", "f32"], ["patches", "f32"]],
    [o.images, o.patches],
    `let row = i / ${pd}u; let e = i % ${pd}u;
  let b = row / ${side * side}u; let cell = row % ${side * side}u;
  let r = cell / ${side}u; let q = cell % ${side}u;
  let ch = e % ${o.channels}u; let pc = (e / ${o.channels}u) % ${p}u; let pr = e / ${
      p * o.channels
    }u;
  patches[i] = img[((b * ${o.imageSize}u + r * ${p}u + pr) * ${o.imageSize}u + q * ${p}u + pc) * ${o.channels}u + ch];`,
  );
}

/**
 * ViT tokens: CLS then the embedded patches, plus the position table.
 * @param o `emb` `(B·N, C)`, `cls` `(C)`, `pos` `(N+1, C)`; `x` `(B·(N+1), C)` out.
 */
export function vitTokens(
  o: {
    label: string;
    emb: Region;
    cls: Region;
    pos: Region;
    x: Region;
    tokens: number;
    width: number;
  },
): KernelSpec {
  const c = o.width;
  const t = o.tokens;
  return perElement(
    o.label,
    o.x.length,
    [["emb", "f32"], ["cls", "f32"], ["pos", "f32"], ["x", "f32"]],
    [o.emb, o.cls, o.pos, o.x],
    `let c = i % ${c}u; let bt = i / ${c}u; let t = bt % ${t}u; let b = bt / ${t}u;
  var v = 0.0;
  if (t == 0u) { v = cls[c]; } else { v = emb[(b * ${t - 1}u + t - 1u) * ${c}u + c]; }
  x[i] = v + pos[t * ${c}u + c];`,
  );
}

/**
 * ViT: the gradient of the embedded patches from the tokens' gradient, `demb[b·N + n] = dx[b, 1 + n]`.
 * @param o `dx` `(B·(N+1), C)`, `demb` `(B·N, C)`.
 */
export function vitPatchRowsGrad(
  o: { label: string; dx: Region; demb: Region; tokens: number; width: number },
): KernelSpec {
  const c = o.width;
  const n = o.tokens - 1;
  return perElement(
    o.label,
    o.demb.length,
    [["dx", "f32"], ["demb", "f32"]],
    [o.dx, o.demb],
    `let c = i % ${c}u; let row = i / ${c}u; let b = row / ${n}u; let k = row % ${n}u;
  demb[i] = dx[(b * ${o.tokens}u + 1u + k) * ${c}u + c];`,
  );
}

/**
 * The CLS rows: `out[b, c] = x[b·T, c]`.
 * @param o `x` `(B·T, C)`, `out` `(B, C)`.
 */
export function clsRows(
  o: { label: string; x: Region; out: Region; tokens: number; width: number },
): KernelSpec {
  const c = o.width;
  return perElement(
    o.label,
    o.out.length,
    [["x", "f32"], ["out", "f32"]],
    [o.x, o.out],
    `let b = i / ${c}u; out[i] = x[b * ${o.tokens * c}u + i % ${c}u];`,
  );
}

/**
 * Gradient of {@linkcode clsRows}: `dx[b·T + t, c] = t = 0 ? dcls[b, c] : 0` (every element written).
 * @param o `dcls` `(B, C)`, `dx` `(B·T, C)`.
 */
export function clsRowsGrad(
  o: { label: string; dcls: Region; dx: Region; tokens: number; width: number },
): KernelSpec {
  const c = o.width;
  return perElement(
    o.label,
    o.dx.length,
    [["dcls", "f32"], ["dx", "f32"]],
    [o.dcls, o.dx],
    `let c = i % ${c}u; let bt = i / ${c}u; let t = bt % ${o.tokens}u;
  dx[i] = select(0.0, dcls[(bt / ${o.tokens}u) * ${c}u + c], t == 0u);`,
  );
}

/**
 * The rows holding each token, bucketed for {@linkcode gptTokenGrad}: `start` `(V+1)` and `rows`
 * `(N)`, rows of token v at `rows[start[v]…start[v+1]]` (a counting sort, on the host, per batch).
 * @param ids Token ids `(N)`, each in [0, V).
 * @param vocab V.
 */
export function tokenBuckets(
  ids: ArrayLike<number>,
  vocab: number,
): { start: Uint32Array; rows: Uint32Array } {
  const start = new Uint32Array(vocab + 1);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < vocab)) throw new RangeError(`token id ${id} outside [0, ${vocab})`);
    start[id + 1]! += 1;
  }
  for (let v = 0; v < vocab; v++) start[v + 1]! += start[v]!;
  const next = start.slice(0, vocab);
  const rows = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) rows[next[ids[i]!]!++] = i;
  return { start, rows };
}
