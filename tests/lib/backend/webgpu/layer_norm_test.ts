import { assertClose, gpuTest, output, random, read, run, tf, upload, values } from "./_gpu.ts";
import {
  columnSums,
  gelu,
  geluBackward,
  layerNormBackward,
  layerNormForward,
  layerNormParamGrads,
} from "../../../../lib/backend/webgpu/mod.ts";

const ROWS = 37;
const C = 72; // more than one 64-thread stride per row

function tfLayerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

gpuTest("layerNorm: forward, input gradient (+ residual) and dg/db equal tfjs-cpu", async (ctx) => {
  const x = random(ROWS * C, 11, 2).map((v, i) => v + (i % 7) * 0.3);
  const gain = random(C, 12).map((v) => 1 + v);
  const bias = random(C, 13);
  const dy = random(ROWS * C, 14);
  const resid = random(ROWS * C, 15);
  const dgPrior = random(C, 16);
  const dbPrior = random(C, 17);
  const X = upload(ctx, "x", x);
  const G = upload(ctx, "g", gain);
  const Y = output(ctx, "y", ROWS * C);
  const mean = output(ctx, "mean", ROWS);
  const rstd = output(ctx, "rstd", ROWS);
  const DY = upload(ctx, "dy", dy);
  const dx = output(ctx, "dx", ROWS * C);
  const dg = upload(ctx, "dg", dgPrior);
  const db = upload(ctx, "db", dbPrior);
  const shape = { rows: ROWS, channels: C, eps: 1e-5 };
  await run(ctx, [
    layerNormForward({
      label: "ln",
      ...shape,
      x: X,
      g: G,
      b: upload(ctx, "b", bias),
      y: Y,
      mean,
      rstd,
    }),
    layerNormBackward({
      label: "ln bwd",
      ...shape,
      x: X,
      g: G,
      mean,
      rstd,
      dy: DY,
      dxIn: upload(ctx, "resid", resid),
      dxOut: dx,
    }),
    layerNormParamGrads({ label: "ln dg", ...shape, x: X, mean, rstd, dy: DY, dg, db }),
  ]);
  const [y, gx, gg, gb] = tf.tidy(() => {
    const args = [tf.tensor2d(x, [ROWS, C]), tf.tensor1d(gain), tf.tensor1d(bias)];
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tfLayerNorm(a, b, c);
    const grads = tf.grads(f)(args, tf.tensor2d(dy, [ROWS, C]));
    return [values(f(args[0]!, args[1]!, args[2]!)), ...grads.map(values)];
  });
  assertClose(await read(ctx, Y), y!, "y");
  assertClose(await read(ctx, dx), gx!.map((v, i) => v + resid[i]!), "dx + residual", {
    atol: 1e-4,
  });
  assertClose(await read(ctx, dg), gg!.map((v, i) => v + dgPrior[i]!), "dg (accumulated)", {
    atol: 1e-4,
  });
  assertClose(await read(ctx, db), gb!.map((v, i) => v + dbPrior[i]!), "db (accumulated)", {
    atol: 1e-4,
  });
});

gpuTest("gelu: exact-erf forward and gradient equal tfjs-cpu's ½x(1 + erf(x/√2))", async (ctx) => {
  const n = 1000;
  const x = random(n, 21, 6);
  const dy = random(n, 22);
  const y = output(ctx, "y", n);
  const dx = output(ctx, "dx", n);
  const X = upload(ctx, "x", x);
  await run(ctx, [
    gelu({ label: "gelu", x: X, y }),
    geluBackward({ label: "gelu bwd", x: X, dy: upload(ctx, "dy", dy), dx }),
  ]);
  const f = (t: tf.Tensor) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));
  const [ry, rdx] = tf.tidy(() => [
    values(f(tf.tensor1d(x))),
    values(tf.grad(f)(tf.tensor1d(x), tf.tensor1d(dy))),
  ]);
  assertClose(await read(ctx, y), ry!, "gelu");
  assertClose(await read(ctx, dx), rdx!, "gelu'");
});

gpuTest("columnSums: a bias gradient Σ_rows dy, plain and accumulated", async (ctx) => {
  const rows = 53;
  const cols = 21;
  const x = random(rows * cols, 31);
  const prior = random(cols, 32);
  const out = output(ctx, "out", cols);
  const acc = upload(ctx, "acc", prior);
  const X = upload(ctx, "x", x);
  await run(ctx, [
    columnSums({ label: "sum", x: X, out, rows, cols }),
    columnSums({ label: "sum+", x: X, out: acc, rows, cols, accumulate: true }),
  ]);
  const ref = tf.tidy(() => values(tf.sum(tf.tensor2d(x, [rows, cols]), 0)));
  assertClose(await read(ctx, out), ref, "sum");
  assertClose(await read(ctx, acc), ref.map((v, i) => v + prior[i]!), "sum+");
});
