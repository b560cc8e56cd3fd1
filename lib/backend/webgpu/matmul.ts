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
 * Tiling: a 64×64 block of C per workgroup of 16×16 threads, each thread 4×4 outputs (four
 * `vec4` accumulators), K walked in slices of 16 through workgroup memory (2 × 16 × 64 floats =
 * 8 KiB).
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
}

/** Tile edge of C per workgroup. */
const TILE = 64;
/** K slice held in workgroup memory. */
const TILE_K = 16;

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
  const tilesM = Math.ceil(m / TILE);
  // K per part, a whole number of TILE_K slices.
  const kPart = Math.ceil(Math.ceil(k / parts) / TILE_K) * TILE_K;
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
    ? "let r = e % 64u; let kk = e / 64u;"
    : "let r = e / 16u; let kk = e % 16u;";
  const bLoad = o.transB
    ? "let cb = e / 16u; let kb = e % 16u;"
    : "let kb = e / 64u; let cb = e % 64u;";
  // Thread (x, y) owns rows 4y…4y+3 (acc0…acc3) and columns 4x…4x+3 (their components).
  let store = "";
  if (o.bias !== undefined) store += " v += bias[col];";
  if (o.residual !== undefined) store += " v += res[row * N + col];";
  store += o.accumulate ? " c[out + row * N + col] += v;" : " c[out + row * N + col] = v;";
  if (o.geluOut !== undefined) {
    store += " gelu_out[row * N + col] = 0.5 * v * (1.0 + erf_as(v * 0.70710678118654752));";
  }
  const epilogueRows = [0, 1, 2, 3].map((i) =>
    `  {
    let row = row0 + lid.y * 4u + ${i}u;
    if (row < M) {
      for (var j = 0u; j < 4u; j++) {
        let col = col0 + lid.x * 4u + j;
        if (col < N) { var v = acc${i}[j];${store} }
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
var<workgroup> tileA: array<vec4<f32>, ${(TILE * TILE_K) / 4}>; // [kk][r], 4 rows a vector
var<workgroup> tileB: array<vec4<f32>, ${(TILE * TILE_K) / 4}>; // [kk][c], 4 columns a vector

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
  let row0 = (wg.y % TILES_M) * 64u;
  let col0 = wg.x * 64u;
  let k_begin = part * K_PART;
  let k_end = min(K, k_begin + K_PART);
  let out = part * M * N;
  let tid = lid.y * 16u + lid.x;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = k_begin; k0 < k_end; k0 += 16u) {
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
      { ${aLoad} let at = kk * 64u + r; tileA[at / 4u][at % 4u] = loadA(row0 + r, k0 + kk, k_end); }
      { ${bLoad} let bt = kb * 64u + cb; tileB[bt / 4u][bt % 4u] = loadB(k0 + kb, col0 + cb, k_end); }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      let av = tileA[kk * 16u + lid.y];
      let bv = tileB[kk * 16u + lid.x];
      acc0 = fma(vec4<f32>(av.x), bv, acc0);
      acc1 = fma(vec4<f32>(av.y), bv, acc1);
      acc2 = fma(vec4<f32>(av.z), bv, acc2);
      acc3 = fma(vec4<f32>(av.w), bv, acc3);
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
    grid: { x: Math.ceil(n / TILE), y: tilesM * parts },
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
  const tiles = Math.ceil(m / TILE) * Math.ceil(n / TILE);
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
