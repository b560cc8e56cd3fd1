import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { BLAS_OK, BLAS_SKIP, randomValues } from "./_helpers.ts";
import { blasBackendInfo, loadOpenBlas } from "../../../../lib/backend/blas/mod.ts";
import { openBlasGemm } from "../../../../lib/backend/blas/gemm.ts";
import { BACKEND_CANDIDATES, selectBackend } from "../../../../lib/backend/select.ts";

const ignore = !BLAS_OK;

Deno.test(`blasBackendInfo() names the library, threads and kernel paths that loaded${BLAS_SKIP}`, {
  ignore,
}, () => {
  const info = blasBackendInfo();
  assert.equal(info.registered, true);
  assert.match(info.library ?? "", /openblas/i);
  assert.ok((info.threads ?? 0) >= 1);
  assert.match(info.config ?? "", /OpenBLAS/);
  assert.ok(["native", "js"].includes(info.elementwise ?? ""));
  for (const k of ["BatchMatMul", "_FusedMatMul", "FlopsFitAttention", "FlopsFitAdamW"]) {
    assert.ok(info.kernels?.includes(k), `${k} replaced`);
  }
  // Every cpu kernel is available on blas.
  const blas = new Set(tf.getKernelsForBackend("blas").map((k) => k.kernelName));
  for (const k of tf.getKernelsForBackend("cpu")) assert.ok(blas.has(k.kernelName), k.kernelName);
});

Deno.test(
  `openBlasGemm().sgemm() multiplies sub-matrices with offsets and leading dimensions${BLAS_SKIP}`,
  {
    ignore,
  },
  () => {
    const load = loadOpenBlas();
    if (!load.ok) return;
    const gemm = openBlasGemm(load.blas);
    // A: 3×2 block at offset 1 of a 4×5 matrix (lda 5); Bᵀ: 2×4 stored as 4×2 at offset 2 (ldb 3).
    const a = randomValues(20, 1);
    const b = randomValues(14, 2);
    const c = new Float32Array(3 * 6).fill(9);
    gemm.sgemm({
      transA: false,
      transB: true,
      m: 3,
      n: 4,
      k: 2,
      alpha: 0.5,
      a,
      aOffset: 1,
      lda: 5,
      b,
      bOffset: 2,
      ldb: 3,
      beta: 0,
      c,
      cOffset: 1,
      ldc: 6,
    });
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        let want = 0;
        for (let k = 0; k < 2; k++) want += a[1 + i * 5 + k] * b[2 + j * 3 + k];
        assert.ok(Math.abs(c[1 + i * 6 + j] - 0.5 * want) < 1e-6, `c[${i},${j}]`);
      }
    }
    assert.equal(c[0], 9); // untouched outside the block
  },
);

Deno.test(`selectBackend() can name blas, which sits before wasm in the registry${BLAS_SKIP}`, {
  ignore,
}, async () => {
  const names = BACKEND_CANDIDATES.map((c) => c.name);
  assert.ok(names.indexOf("blas") < names.indexOf("wasm"));
  const info = await selectBackend({ override: "blas" });
  assert.equal(info.name, "blas");
  assert.equal(tf.getBackend(), "blas");
  await tf.setBackend("cpu");
});

Deno.test("withEnvDefaults() sets unset variables only for the load, and keeps set ones", async () => {
  const { withEnvDefaults } = await import("../../../../lib/config/mod.ts");
  Deno.env.set("FF_TEST_KEEP", "mine");
  Deno.env.delete("FF_TEST_ADD");
  const seen = withEnvDefaults(
    { FF_TEST_KEEP: "default", FF_TEST_ADD: "x" },
    () => [Deno.env.get("FF_TEST_KEEP"), Deno.env.get("FF_TEST_ADD")],
  );
  assert.deepEqual(seen, ["mine", "x"]);
  assert.equal(Deno.env.get("FF_TEST_ADD"), undefined);
  assert.equal(Deno.env.get("FF_TEST_KEEP"), "mine");
  Deno.env.delete("FF_TEST_KEEP");
});
