import { assertClose, gpuTest, output, random, read, run, tf, upload, values } from "./_gpu.ts";
import {
  attentionOutput,
  attentionProbs,
  attentionQkvBackward,
  attentionScoresBackward,
} from "../../../../lib/backend/webgpu/mod.ts";

const B = 2;
const T = 70; // more than one 64-thread stride per row
const H = 3;
const HS = 8;
const C = H * HS;

/** The tfjs model's composite attention (models/layers.ts), with its additive causal mask. */
function reference(qkv: tf.Tensor2D, causal: boolean): tf.Tensor2D {
  const toHeads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, HS]), [0, 2, 1, 3]);
  const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads) as tf.Tensor4D[];
  let scores = tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(HS));
  if (causal) {
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    scores = tf.add(scores, tf.tensor2d(mask, [T, T]));
  }
  const out = tf.matMul(tf.softmax(scores, -1), v!);
  return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B * T, C]);
}

for (const causal of [true, false]) {
  gpuTest(
    `attention (${causal ? "causal" : "full"}): output and d(qkv) equal tfjs-cpu`,
    async (ctx) => {
      const qkvHost = random(B * T * 3 * C, causal ? 41 : 42, 1.5);
      const dout = random(B * T * C, 43);
      const shape = { batch: B, tokens: T, heads: H, width: C, causal };
      const qkv = upload(ctx, "qkv", qkvHost);
      const probs = output(ctx, "probs", B * H * T * T);
      const out = output(ctx, "out", B * T * C);
      const dscores = output(ctx, "dscores", B * H * T * T);
      const dqkv = output(ctx, "dqkv", B * T * 3 * C);
      const dO = upload(ctx, "dout", dout);
      await run(ctx, [
        attentionProbs({ label: "probs", ...shape, qkv, probs }),
        attentionOutput({ label: "out", ...shape, qkv, probs, out }),
        attentionScoresBackward({ label: "ds", ...shape, qkv, probs, dout: dO, dscores }),
        attentionQkvBackward({ label: "dqkv", ...shape, qkv, probs, dscores, dout: dO, dqkv }),
      ]);
      const [ro, rg] = tf.tidy(() => {
        const x = tf.tensor2d(qkvHost, [B * T, 3 * C]);
        const f = (t: tf.Tensor) => reference(t as tf.Tensor2D, causal);
        return [values(f(x)), values(tf.grad(f)(x, tf.tensor2d(dout, [B * T, C])))];
      });
      assertClose(await read(ctx, out), ro!, "out");
      assertClose(await read(ctx, dqkv), rg!, "dqkv", { atol: 1e-5, rtol: 1e-3 });
    },
  );
}
