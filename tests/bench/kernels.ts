/**
 * Kernel benchmark of the fast CPU path: the machine's sgemm peak measured in-run (OpenBLAS
 * through FFI, 1024³), then the matmuls of the benchmark models in GFLOP/s on `blas`, `wasm` and
 * `cpu`, and the fused attention against tfjs's composite attention.
 * Run alone: `deno run -A tests/bench/kernels.ts`.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "../../models/gradients.ts";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { blasBackendInfo, loadOpenBlas, registerBlasBackend } from "../../lib/backend/blas/mod.ts";
import { CBLAS_NO_TRANS, CBLAS_ROW_MAJOR } from "../../lib/backend/blas/openblas.ts";
import { attention } from "../../models/layers.ts";
import { median } from "../../lib/stats.ts";

/**
 * OpenBLAS sgemm peak on this machine now: median GFLOP/s of `reps` n³ products through FFI.
 *
 * @returns GFLOP/s, or null when OpenBLAS is missing.
 */
export function measureSgemmPeak(n = 1024, reps = 7): number | null {
  const load = loadOpenBlas();
  if (!load.ok) return null;
  const a = new Float32Array(n * n).fill(0.5);
  const b = new Float32Array(n * n).fill(0.25);
  const c = new Float32Array(n * n);
  const sgemm = load.blas.symbols.cblas_sgemm;
  const call = () =>
    sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1, a, n, b, n, 0, c, n);
  call();
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    call();
    rates.push((2 * n * n * n) / ((performance.now() - t0) / 1e3) / 1e9);
  }
  return median(rates);
}

/** Median seconds of `fn` over `reps` runs after one warm-up (tensors disposed each time). */
function timeOp(fn: () => tf.Tensor | tf.Tensor[], reps: number): number {
  const once = () => {
    const t0 = performance.now();
    const out = fn();
    (Array.isArray(out) ? out : [out]).forEach((t) => t.dataSync());
    const dt = performance.now() - t0;
    tf.dispose(out);
    return dt / 1e3;
  };
  once();
  return median(Array.from({ length: reps }, once));
}

/** The matmuls of ViT a and GPT's training step: forward and both gradient forms. */
const MATMULS: { label: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  {
    label: "ViT-a fc1 forward (8320×64)·(64×256)",
    a: [8320, 64],
    b: [64, 256],
    ta: false,
    tb: false,
  },
  { label: "ViT-a fc1 dx (8320×256)·(64×256)ᵀ", a: [8320, 256], b: [64, 256], ta: false, tb: true },
  {
    label: "ViT-a fc1 dW (8320×64)ᵀ·(8320×256)",
    a: [8320, 64],
    b: [8320, 256],
    ta: true,
    tb: false,
  },
  {
    label: "GPT qkv forward (4096×128)·(128×384)",
    a: [4096, 128],
    b: [128, 384],
    ta: false,
    tb: false,
  },
  {
    label: "attention QKᵀ, 512 × (65×16)·(65×16)ᵀ",
    a: [512, 65, 16],
    b: [512, 65, 16],
    ta: false,
    tb: true,
  },
];

async function useBackend(name: string): Promise<boolean> {
  try {
    if (name === "wasm") {
      await import("@tensorflow/tfjs-backend-wasm");
      setWasmPaths(
        new URL("../../node_modules/@tensorflow/tfjs-backend-wasm/dist/", import.meta.url).pathname,
      );
    }
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/** Runs the kernel benchmark and returns its markdown section. */
export async function run(): Promise<string> {
  const lines: string[] = ["## Kernels (fast CPU path)", ""];
  const blasOk = registerBlasBackend();
  const info = blasBackendInfo();
  const peak = measureSgemmPeak();
  if (!blasOk || peak === null) {
    lines.push(`blas backend unavailable: ${info.reason}. Only tfjs's own backends can run here.`);
    return lines.join("\n");
  }
  lines.push(
    `OpenBLAS: ${info.library} (${info.config}), ${info.threads} threads; element-wise kernels: ` +
      `${info.native}.`,
    `Measured sgemm peak (1024³ through FFI, median of 7): **${peak.toFixed(1)} GFLOP/s**.`,
    "",
    "| matmul | blas GFLOP/s | wasm GFLOP/s | cpu GFLOP/s |",
    "| --- | --- | --- | --- |",
  );
  for (const m of MATMULS) {
    const flops = 2 * (m.a.length === 3 ? m.a[0] : 1) *
      (m.ta ? m.a[m.a.length - 1] : m.a[m.a.length - 2]) *
      (m.ta ? m.a[m.a.length - 2] : m.a[m.a.length - 1]) *
      (m.tb ? m.b[m.b.length - 2] : m.b[m.b.length - 1]);
    const cells: string[] = [];
    for (const backend of ["blas", "wasm", "cpu"]) {
      if (!(await useBackend(backend))) {
        cells.push("n/a");
        continue;
      }
      const a = tf.randomNormal(m.a);
      const b = tf.randomNormal(m.b);
      const seconds = timeOp(() => tf.matMul(a, b, m.ta, m.tb), backend === "cpu" ? 1 : 5);
      tf.dispose([a, b]);
      cells.push((flops / seconds / 1e9).toFixed(1));
    }
    lines.push(`| ${m.label} | ${cells.join(" | ")} |`);
  }
  // Attention forward + backward: fused kernel (blas) vs tfjs's composite (wasm).
  const [batch, tokens, heads, width] = [128, 65, 4, 64];
  const attnFlops = 3 * 2 * 2 * batch * heads * tokens * tokens * (width / heads);
  const attnRow: string[] = [];
  for (const backend of ["blas", "wasm"]) {
    if (!(await useBackend(backend))) {
      attnRow.push("n/a");
      continue;
    }
    const qkv = tf.randomNormal([batch * tokens, 3 * width]) as tf.Tensor2D;
    const seconds = timeOp(
      () =>
        tf.grad((x: tf.Tensor) => tf.sum(attention(x as tf.Tensor2D, { batch, tokens, heads })))(
          qkv,
        ),
      3,
    );
    qkv.dispose();
    attnRow.push(`${(attnFlops / seconds / 1e9).toFixed(1)} (${(seconds * 1e3).toFixed(0)} ms)`);
  }
  lines.push(
    `| ViT-a attention forward+backward, fused (blas) vs composite (wasm) | ${attnRow[0]} | ${
      attnRow[1]
    } | — |`,
  );
  lines.push(
    "",
    "Shared 2-core machine: other processes may share the cores; figures are medians.",
  );
  await tf.setBackend("cpu");
  return lines.join("\n");
}

if (import.meta.main) console.log(await run());
