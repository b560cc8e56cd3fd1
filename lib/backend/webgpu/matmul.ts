/**
 * Tiled matrix multiply with a fused epilogue.
 *
 *     C[M, N] (=|+=) op(A)[M, K] · op(B)[K, N] (+ bias[N]) (+ R[M, N]),  optionally G = GELU(C)
 *
 * Layout: row-major f32. `transA` reads A stored as `(K, M)`, `transB` reads B stored as
 * `(N, K)` — so the three products of a linear layer's step are one kernel each:
 * forward `x·W` (NN), input gradient `dy·Wᵀ` (NT), weight gradient `xᵀ·dy` (TN, accumulated into
 * the gradient buffer). Accumulation is fp32 (`fma`).
 *
 * Tiling: a 64×64 block of C per workgroup of 16×16 threads, each thread 4×4 outputs in `vec4`
 * accumulators, K walked in slices of 16 through workgroup memory (2 × 16 × 64 floats = 8 KiB);
 * large products take 128×128 blocks, 8×8 outputs per thread, slices of 8 (also 8 KiB).
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { ERF_WGSL } from "./elementwise.ts";
import { flatIndex, grid, storage } from "./wgsl.ts";

/** Options of {@linkcode matmul}. */
export interface MatmulOptions {
  /** Label of the launch. */
  label: string;
  /** Left operand: `(M, K)`, or `(K, M)` with `transA`. */
  a: Region;
  /** Right operand: `(K, N)`, or `(N, K)` with `transB`. */
  b: Region;
  /** Output `(M, N)`. */
  c: Region;
  /** Rows M of C. */
  m: number;
  /** Columns N of C. */
  n: number;
  /** Inner dimension K. */
  k: number;
  /** A is stored transposed. @default false */
  transA?: boolean;
  /** B is stored transposed. @default false */
  transB?: boolean;
  /** Add `bias[N]` to every row. */
  bias?: Region;
  /** Add a residual `(M, N)` (not aliasing C). */
  residual?: Region;
  /**
   * Also write GELU of the result here, `(M, N)` (an MLP's up-projection keeps both its
   * pre-activation, for the backward, and the activation). Not with `accumulate`.
   */
  geluOut?: Region;
  /** C += result instead of C = result. @default false */
  accumulate?: boolean;
  /**
   * Split K into this many parts computed by separate workgroups (more parallelism when C has
   * few tiles and K is long, as a weight gradient over many rows): `c` then holds the parts'
   * partial products `(parts, M, N)`, summed by {@linkcode splitKSum}; no epilogue. @default 1
   */
  splitK?: number;
  /** Force the 64×64 or 128×128 tiling (tests); by default chosen from the shape. */
  tile?: 64 | 128;
}

/** A tiling: the C tile per workgroup of 16×16 threads, and the K slice in workgroup memory. */
interface Tiling {
  /** Edge of the square C tile (each thread owns (tile/16)² outputs). */
  tile: 64 | 128;
  /** K slice held in workgroup memory (2 · tile · tileK floats: 8 KiB either way). */
  tileK: 16 | 8;
}

/** 64×64 tiles, 4×4 outputs per thread: small matrices keep many workgroups. */
const SMALL: Tiling = { tile: 64, tileK: 16 };
/** 128×128 tiles, 8×8 outputs per thread: half the workgroup-memory reads per FMA. */
const LARGE: Tiling = { tile: 128, tileK: 8 };

/**
 * The tiling of a launch: 128×128 when C still has at least 256 such tiles (a large GPU stays
 * full), else 64×64.
 */
function tilingFor(o: MatmulOptions): Tiling {
  if (o.tile !== undefined) return o.tile === 128 ? LARGE : SMALL;
  const parts = o.splitK ?? 1;
  return Math.ceil(o.m / 128) * Math.ceil(o.n / 128) * parts >= 256 ? LARGE : SMALL;
}

/**
 * One matmul launch.
 * @param o Operands, shapes, transposes and epilogue.
 * @returns The launch.
 */
export function matmul(o: MatmulOptions): KernelSpec {
  const { m, n, k } = o;
  check(o.a, m * k, o.label);
  check(o.b, k * n, o.label);
  const parts = o.splitK ?? 1;
  if (parts > 1 && (o.bias !== undefined || o.residual !== undefined || o.accumulate)) {
    throw new RangeError(`${o.label}: a split-K launch has no epilogue`);
  }
  check(o.c, parts * m * n, o.label);
  const { tile, tileK } = tilingFor(o);
  const per = tile / 16; // outputs per thread along each axis
  const vecs = per / 4; // vec4s per thread along each axis
  const tilesM = Math.ceil(m / tile);
  // K per part, a whole number of slices.
  const kPart = Math.ceil(Math.ceil(k / parts) / tileK) * tileK;
  if (o.bias !== undefined) check(o.bias, n, o.label);
  if (o.residual !== undefined) check(o.residual, m * n, o.label);
  const bindings: [string, "f32"][] = [["a", "f32"], ["b", "f32"], ["c", "f32"]];
  const regions = [o.a, o.b, o.c];
  if (o.bias !== undefined) {
    bindings.push(["bias", "f32"]);
    regions.push(o.bias);
  }
  if (o.residual !== undefined) {
    bindings.push(["res", "f32"]);
    regions.push(o.residual);
  }
  if (o.geluOut !== undefined) {
    if (o.accumulate || parts > 1) throw new RangeError(`${o.label}: GELU needs C = result`);
    check(o.geluOut, m * n, o.label);
    bindings.push(["gelu_out", "f32"]);
    regions.push(o.geluOut);
  }
  const aIndex = o.transA ? "kk * M + row" : "row * K + kk";
  const bIndex = o.transB ? "col * K + kk" : "kk * N + col";
  // Loads walk the stored matrix's contiguous axis, so neighbouring threads read neighbours.
  const aLoad = o.transA
    ? `let r = e % ${tile}u; let kk = e / ${tile}u;`
    : `let r = e / ${tileK}u; let kk = e % ${tileK}u;`;
  const bLoad = o.transB
    ? `let cb = e / ${tileK}u; let kb = e % ${tileK}u;`
    : `let kb = e / ${tile}u; let cb = e % ${tile}u;`;
  let store = "";
  if (o.bias !== undefined) store += " v += bias[col];";
  if (o.residual !== undefined) store += " v += res[row * N + col];";
  store += o.accumulate ? " c[out + row * N + col] += v;" : " c[out + row * N + col] = v;";
  if (o.geluOut !== undefined) {
    store += " gelu_out[row * N + col] = 0.5 * v * (1.0 + erf_as(v * 0.70710678118654752));";
  }
  // Thread (x, y) owns rows y·per … y·per + per − 1 and columns x·per … x·per + per − 1:
  // accumulator acc_i_q holds row i's columns 4q … 4q + 3 of its block.
  const rows = Array.from({ length: per }, (_, i) => i);
  const cols = Array.from({ length: vecs }, (_, q) => q);
  const declare = rows.flatMap((i) => cols.map((q) => `  var acc_${i}_${q} = vec4<f32>(0.0);`))
    .join("\n");
  const loadsA = Array.from(
    { length: vecs },
    (_, q) => `      let a${q} = tileA[(kk * ${tile}u + lid.y * ${per}u) / 4u + ${q}u];`,
  ).join("\n");
  const loadsB = cols.map((q) =>
    `      let b${q} = tileB[(kk * ${tile}u + lid.x * ${per}u) / 4u + ${q}u];`
  ).join("\n");
  const fmas = rows.flatMap((i) =>
    cols.map((q) =>
      `      acc_${i}_${q} = fma(vec4<f32>(a${Math.floor(i / 4)}[${i % 4}]), b${q}, acc_${i}_${q});`
    )
  ).join("\n");
  const epilogueRows = rows.map((i) =>
    `  {
    let row = row0 + lid.y * ${per}u + ${i}u;
    if (row < M) {
${
      cols.map((q) =>
        `      for (var j = 0u; j < 4u; j++) {
        let col = col0 + lid.x * ${per}u + ${4 * q}u + j;
        if (col < N) { var v = acc_${i}_${q}[j];${store} }
      }`
      ).join("\n")
    }
    }
  }`
  ).join("\n");
  const code = `
const M = ${m}u;
const N = ${n}u;
const K = ${k}u;
const TILES_M = ${tilesM}u;
const K_PART = ${kPart}u;
${storage(bindings)}
${o.geluOut === undefined ? "" : ERF_WGSL}
var<workgroup> tileA: array<vec4<f32>, ${(tile * tileK) / 4}>; // [kk][r], 4 rows a vector
var<workgroup> tileB: array<vec4<f32>, ${(tile * tileK) / 4}>; // [kk][c], 4 columns a vector

fn loadA(row: u32, kk: u32, k_end: u32) -> f32 {
  if (row >= M || kk >= k_end) { return 0.0; }
  return a[${aIndex}];
}
fn loadB(kk: u32, col: u32, k_end: u32) -> f32 {
  if (col >= N || kk >= k_end) { return 0.0; }
  return b[${bIndex}];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let part = wg.y / TILES_M;
  let row0 = (wg.y % TILES_M) * ${tile}u;
  let col0 = wg.x * ${tile}u;
  let k_begin = part * K_PART;
  let k_end = min(K, k_begin + K_PART);
  let out = part * M * N;
  let tid = lid.y * 16u + lid.x;
${declare}
  for (var k0 = k_begin; k0 < k_end; k0 += ${tileK}u) {
    for (var i = 0u; i < ${(tile * tileK) / 256}u; i++) {
      let e = tid + i * 256u;
      { ${aLoad} let at = kk * ${tile}u + r; tileA[at / 4u][at % 4u] = loadA(row0 + r, k0 + kk, k_end); }
      { ${bLoad} let bt = kb * ${tile}u + cb; tileB[bt / 4u][bt % 4u] = loadB(k0 + kb, col0 + cb, k_end); }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${tileK}u; kk++) {
${loadsA}
${loadsB}
${fmas}
    }
    workgroupBarrier();
  }
${epilogueRows}
}
`;
  return {
    label: o.label,
    code,
    bindings: regions,
    grid: { x: Math.ceil(n / tile), y: tilesM * parts },
  };
}

/**
 * The split-K parts of {@linkcode matmul} summed: `c[i] (+)= Σ_p partial[p·L + i]`, L = c's length.
 * @param o `partial` `(parts, M, N)`, `c` `(M, N)`, whether to accumulate into `c`.
 */
export function splitKSum(
  o: { label: string; partial: Region; c: Region; parts: number; accumulate?: boolean },
): KernelSpec {
  const n = o.c.length;
  check(o.partial, o.parts * n, o.label);
  const g = grid(Math.ceil(n / 256));
  return {
    label: o.label,
    code: `${storage([["partial", "f32"], ["c", "f32"]])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let i = ${flatIndex(g)} * 256u + l.x;
  if (i >= ${n}u) { return; }
  var s = 0.0;
  for (var p = 0u; p < ${o.parts}u; p++) { s += partial[p * ${n}u + i]; }
  c[i] ${o.accumulate ? "+=" : "="} s;
}`,
    bindings: [o.partial, o.c],
    grid: g,
  };
}

/**
 * Parts to split K into for a launch of C `(M, N)` over K: enough workgroups to fill a large GPU
 * (about 128) when C alone has few tiles, each part at least 256 deep; 1 when C has enough tiles.
 * @param m Rows of C.
 * @param n Columns of C.
 * @param k Inner dimension.
 */
export function splitKParts(m: number, n: number, k: number): number {
  const tiles = Math.ceil(m / SMALL.tile) * Math.ceil(n / SMALL.tile);
  if (tiles >= 64) return 1;
  return Math.max(1, Math.min(Math.ceil(128 / tiles), Math.floor(k / 256), 32));
}

function check(r: Region, length: number, label: string): void {
  if (r.length !== length) {
    throw new RangeError(
      `${label}: ${r.label} has ${r.length} elements, the shape needs ${length}`,
    );
  }
}
