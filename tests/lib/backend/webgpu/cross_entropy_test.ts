import { assertClose, gpuTest, output, random, read, run, tf, upload, values } from "./_gpu.ts";
import { crossEntropy, sumInto } from "../../../../lib/backend/webgpu/mod.ts";

const N = 19;
const K = 131; // more than two 64-thread strides per row

/** The tfjs path's composite cross-entropy (lib/ops/fused.ts), label smoothing ε. */
function reference(logits: tf.Tensor2D, labels: tf.Tensor1D, eps: number): tf.Scalar {
  const logProbs = tf.logSoftmax(logits, -1);
  const onehot = tf.cast(tf.oneHot(labels, K), "float32");
  const nll = tf.neg(tf.sum(tf.mul(onehot, logProbs), -1));
  const uniform = tf.neg(tf.mean(logProbs, -1));
  return tf.mean(tf.add(tf.mul(nll, 1 - eps), tf.mul(uniform, eps)));
}

for (const eps of [0, 0.1]) {
  gpuTest(`crossEntropy (ε = ${eps}): loss, d(logits) and accuracy equal tfjs-cpu`, async (ctx) => {
    const z = random(N * K, eps === 0 ? 51 : 52, 4);
    const labels = Uint32Array.from({ length: N }, (_, i) => (i * 37 + 5) % K);
    // Row 0's maximum is its label, so the accuracy is not trivially 0.
    z[labels[0]!] = 10;
    const rowLoss = output(ctx, "rowLoss", N);
    const dlogits = output(ctx, "dlogits", N * K);
    const correct = output(ctx, "correct", N);
    const totals = output(ctx, "totals", 4, 0);
    await run(ctx, [
      crossEntropy({
        label: "ce",
        logits: upload(ctx, "z", z),
        labels: upload(ctx, "labels", labels),
        rowLoss,
        dlogits,
        correct,
        rows: N,
        classes: K,
        labelSmoothing: eps,
      }),
      sumInto({ label: "loss", x: rowLoss, out: totals, slot: 0, scale: 1 / N }),
      sumInto({ label: "acc", x: correct, out: totals, slot: 3, scale: 1 }),
    ]);
    const [loss, grad, acc] = tf.tidy(() => {
      const lab = tf.tensor1d(Int32Array.from(labels), "int32");
      const f = (t: tf.Tensor) => reference(t as tf.Tensor2D, lab, eps);
      const x = tf.tensor2d(z, [N, K]);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(x, -1), lab), "float32"));
      return [values(f(x)), values(tf.grad(f)(x)), values(hits)];
    });
    const t = await read(ctx, totals);
    assertClose(t.subarray(0, 1), loss!, "mean loss");
    assertClose(t.subarray(3, 4), acc!, "correct rows");
    assertClose(await read(ctx, dlogits), grad!, "dlogits", { atol: 1e-6 });
  });
}
