/**
 * Tiled matrix multiply with a fused epilogue.
 *
 *     C[M, N] (=|+=) op(A)[M, K] · op(B)[K, N] (+ bias[N]) (+ R[M, N])
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
import { storage } from "./wgsl.ts";

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
  /** C += result instead of C = result. @default false */
  accumulate?: boolean;
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
  check(o.c, m * n, o.label);
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
  store += o.accumulate ? " c[row * N + col] += v;" : " c[row * N + col] = v;";
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
${storage(bindings)}
var<workgroup> tileA: array<vec4<f32>, ${(TILE * TILE_K) / 4}>; // [kk][r], 4 rows a vector
var<workgroup> tileB: array<vec4<f32>, ${(TILE * TILE_K) / 4}>; // [kk][c], 4 columns a vector

fn loadA(row: u32, kk: u32) -> f32 {
  if (row >= M || kk >= K) { return 0.0; }
  return a[${aIndex}];
}
fn loadB(kk: u32, col: u32) -> f32 {
  if (col >= N || kk >= K) { return 0.0; }
  return b[${bIndex}];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row0 = wg.y * 64u;
  let col0 = wg.x * 64u;
  let tid = lid.y * 16u + lid.x;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 += 16u) {
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
      { ${aLoad} let at = kk * 64u + r; tileA[at / 4u][at % 4u] = loadA(row0 + r, k0 + kk); }
      { ${bLoad} let bt = kb * 64u + cb; tileB[bt / 4u][bt % 4u] = loadB(k0 + kb, col0 + cb); }
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
    grid: { x: Math.ceil(n / TILE), y: Math.ceil(m / TILE) },
  };
}

function check(r: Region, length: number, label: string): void {
  if (r.length !== length) {
    throw new RangeError(
      `${label}: ${r.label} has ${r.length} elements, the shape needs ${length}`,
    );
  }
}
