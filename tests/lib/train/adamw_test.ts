import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../../../lib/backend/select.ts";
import { AdamW } from "../../../lib/train/adamw.ts";

await selectBackend({ override: "cpu" });

/** PyTorch's AdamW on plain numbers (torch/optim/adamw.py, amsgrad off), for reference. */
function referenceAdamW(
  p: number[],
  grads: number[][],
  o: { lr: number; beta1: number; beta2: number; eps: number; wd: number },
): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out = [...p];
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < out.length; i++) {
      out[i]! *= 1 - o.lr * o.wd;
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!;
      v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g[i]! ** 2;
      const mh = m[i]! / (1 - o.beta1 ** t);
      const vh = v[i]! / (1 - o.beta2 ** t);
      out[i]! -= o.lr * mh / (Math.sqrt(vh) + o.eps);
    }
  });
  return out;
}

Deno.test("AdamW.step() matches PyTorch's AdamW and skips decay where asked", async () => {
  const o = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, wd: 0.5 };
  const w = tf.variable(tf.tensor1d([1, -2, 3]));
  const b = tf.variable(tf.tensor1d([0.5, 0.5, 0.5]));
  const opt = new AdamW([{ name: "w", variable: w, decay: true }, {
    name: "b",
    variable: b,
    decay: false,
  }], {
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    weightDecay: o.wd,
  });
  const gs = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1], [-0.3, 0.1, 0.2]];
  for (const g of gs) {
    tf.dispose(opt.step([tf.tensor1d(g), tf.tensor1d(g)], { lr: o.lr }));
  }
  const wRef = referenceAdamW([1, -2, 3], gs, o);
  const bRef = referenceAdamW([0.5, 0.5, 0.5], gs, { ...o, wd: 0 });
  (await w.data()).forEach((x, i) => assert.ok(Math.abs(x - wRef[i]!) < 1e-5, `w[${i}]`));
  (await b.data()).forEach((x, i) => assert.ok(Math.abs(x - bRef[i]!) < 1e-5, `b[${i}]`));
  opt.dispose();
  tf.dispose([w, b]);
});

Deno.test("AdamW.step() clips the global norm and reports it before clipping", async () => {
  const w = tf.variable(tf.tensor1d([0, 0]));
  const opt = new AdamW([{ name: "w", variable: w, decay: true }], {
    beta1: 0,
    beta2: 0,
    eps: 1,
    weightDecay: 0,
  });
  // β1 = β2 = 0, ε = 1: the update is lr · g / (|g| + 1) elementwise, with g = 0.5 · [3, 4]
  // (norm 2.5) clipped to norm 1 → [0.6, 0.8] → update [0.6 / 1.6, 0.8 / 1.8].
  const norm = opt.step([tf.tensor1d([3, 4])], { lr: 1, gradScale: 0.5, clipNorm: 1 });
  assert.ok(Math.abs((await norm.data())[0]! - 2.5) < 1e-6);
  const [w0, w1] = await w.data();
  assert.ok(Math.abs(w0! + 0.6 / 1.6) < 1e-6 && Math.abs(w1! + 0.8 / 1.8) < 1e-6);
  norm.dispose();
  opt.dispose();
  w.dispose();
});
