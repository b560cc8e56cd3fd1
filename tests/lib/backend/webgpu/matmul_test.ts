import { assertClose, gpuTest, output, random, read, run, tf, upload, values } from "./_gpu.ts";
import { matmul, splitKSum } from "../../../../lib/backend/webgpu/mod.ts";

// Shapes off the 64×64 tile and the 16-deep K slice, so the edges are exercised.
const M = 70;
const K = 37;
const N = 45;

for (const tile of [64, 128] as const) {
  gpuTest(
    `matmul: NN with bias and residual equals tfjs-cpu x·W + b + r (${tile}×${tile} tiles)`,
    async (ctx) => {
      const x = random(M * K, 1);
      const w = random(K * N, 2);
      const b = random(N, 3);
      const r = random(M * N, 4);
      const c = output(ctx, "c", M * N);
      await run(ctx, [matmul({
        tile,
        label: "nn",
        a: upload(ctx, "x", x),
        b: upload(ctx, "w", w),
        c,
        m: M,
        n: N,
        k: K,
        bias: upload(ctx, "b", b),
        residual: upload(ctx, "r", r),
      })]);
      const ref = tf.tidy(() =>
        values(
          tf.add(
            tf.add(tf.matMul(tf.tensor2d(x, [M, K]), tf.tensor2d(w, [K, N])), b),
            tf.tensor2d(r, [M, N]),
          ),
        )
      );
      assertClose(await read(ctx, c), ref, "C");
    },
  );
}

for (const tile of [64, 128] as const) {
  gpuTest(
    `matmul: NT and TN (a linear layer's gradients) equal tf.grad of x·W, TN accumulating (${tile}×${tile} tiles)`,
    async (ctx) => {
      const x = random(M * K, 5);
      const w = random(K * N, 6);
      const dy = random(M * N, 7);
      const prior = random(K * N, 8);
      const dx = output(ctx, "dx", M * K);
      const dw = upload(ctx, "dw", prior);
      await run(ctx, [
        matmul({
          tile,
          label: "nt",
          a: upload(ctx, "dy", dy),
          b: upload(ctx, "w", w),
          c: dx,
          m: M,
          n: K,
          k: N,
          transB: true,
        }),
        matmul({
          tile,
          label: "tn",
          a: upload(ctx, "x", x),
          b: upload(ctx, "dy2", dy),
          c: dw,
          m: K,
          n: N,
          k: M,
          transA: true,
          accumulate: true,
        }),
      ]);
      const [gx, gw] = tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)
        );
        return g([tf.tensor2d(x, [M, K]), tf.tensor2d(w, [K, N])], tf.tensor2d(dy, [M, N])).map(
          values,
        );
      });
      assertClose(await read(ctx, dx), gx!, "dx");
      assertClose(await read(ctx, dw), gw!.map((v, i) => v + prior[i]!), "dW (accumulated)");
    },
  );
}

for (const tile of [64, 128] as const) {
  gpuTest(
    `matmul: split-K TN (3 parts, uneven) summed into an accumulated gradient (${tile}×${tile} tiles)`,
    async (ctx) => {
      const rows = 301; // K: parts of 112, 112 and 77 rows
      const x = random(rows * K, 9);
      const dy = random(rows * N, 10);
      const prior = random(K * N, 11);
      const partial = output(ctx, "partial", 3 * K * N);
      const dw = upload(ctx, "dw", prior);
      await run(ctx, [
        matmul({
          tile,
          label: "tn split",
          a: upload(ctx, "x", x),
          b: upload(ctx, "dy", dy),
          c: partial,
          m: K,
          n: N,
          k: rows,
          transA: true,
          splitK: 3,
        }),
        splitKSum({ label: "sum", partial, c: dw, parts: 3, accumulate: true }),
      ]);
      const ref = tf.tidy(() =>
        values(tf.matMul(tf.tensor2d(x, [rows, K]), tf.tensor2d(dy, [rows, N]), true, false))
      );
      assertClose(
        await read(ctx, dw),
        ref.map((v, i) => v + prior[i]!),
        "dW (split-K, accumulated)",
      );
    },
  );
}

for (const tile of [64, 128] as const) {
  gpuTest(
    `matmul: NN with bias and a GELU epilogue keeps x·W + b and writes GELU of it (${tile}×${tile} tiles)`,
    async (ctx) => {
      const x = random(M * K, 12);
      const w = random(K * N, 13);
      const b = random(N, 14);
      const c = output(ctx, "c", M * N);
      const g = output(ctx, "gelu", M * N);
      await run(ctx, [matmul({
        tile,
        label: "nn+gelu",
        a: upload(ctx, "x", x),
        b: upload(ctx, "w", w),
        c,
        geluOut: g,
        m: M,
        n: N,
        k: K,
        bias: upload(ctx, "b", b),
      })]);
      const [pre, act] = tf.tidy(() => {
        const u = tf.add(tf.matMul(tf.tensor2d(x, [M, K]), tf.tensor2d(w, [K, N])), b);
        const gelu = tf.mul(tf.mul(u, 0.5), tf.add(1, tf.erf(tf.mul(u, Math.SQRT1_2))));
        return [values(u), values(gelu)];
      });
      assertClose(await read(ctx, c), pre!, "x·W + b");
      assertClose(await read(ctx, g), act!, "GELU(x·W + b)");
    },
  );
}

gpuTest(
  "matmul: 128×128 tiles over several workgroups (300 × 200 × 50, NN and TN) equal tfjs-cpu",
  async (ctx) => {
    const [m, n, k] = [300, 200, 50];
    const x = random(m * k, 15);
    const w = random(k * n, 16);
    const b = random(n, 17);
    const c = output(ctx, "c", m * n);
    const xt = random(k * m, 18); // stored (K, M) for TN
    const ct = output(ctx, "ct", m * n);
    await run(ctx, [
      matmul({
        tile: 128,
        label: "nn",
        a: upload(ctx, "x", x),
        b: upload(ctx, "w", w),
        bias: upload(ctx, "b", b),
        c,
        m,
        n,
        k,
      }),
      matmul({
        tile: 128,
        label: "tn",
        a: upload(ctx, "xt", xt),
        b: upload(ctx, "w2", w),
        c: ct,
        m,
        n,
        k,
        transA: true,
      }),
    ]);
    const [nn, tn] = tf.tidy(() => [
      values(tf.add(tf.matMul(tf.tensor2d(x, [m, k]), tf.tensor2d(w, [k, n])), b)),
      values(tf.matMul(tf.tensor2d(xt, [k, m]), tf.tensor2d(w, [k, n]), true, false)),
    ]);
    assertClose(await read(ctx, c), nn!, "NN");
    assertClose(await read(ctx, ct), tn!, "TN");
  },
);
