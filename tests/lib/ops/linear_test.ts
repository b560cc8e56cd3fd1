import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import "../../../models/gradients.ts"; // tf.sum and friends have gradients
import { selectBackend } from "../../../lib/backend/select.ts";
import {
  causalMask,
  embeddingLookup,
  linear,
  MASK_NEGATIVE,
  matmul,
  selfAttention,
} from "../../../lib/ops/mod.ts";

await selectBackend({ override: "cpu" });

function close(a: tf.Tensor, b: tf.Tensor, tolerance = 1e-5) {
  const x = a.dataSync();
  const y = b.dataSync();
  assert.deepEqual(a.shape, b.shape);
  for (let i = 0; i < x.length; i++) {
    assert.ok(Math.abs(x[i]! - y[i]!) <= tolerance, `index ${i}: ${x[i]} vs ${y[i]}`);
  }
}

Deno.test("matmul() and linear() compute x·w (+ b) with tf.matMul's gradients, on any backend", () => {
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const w = tf.tensor2d([[1, 0], [0, 1], [1, 1]]);
  const b = tf.tensor1d([0.5, -0.5]);
  close(matmul(x, w), tf.matMul(x, w));
  close(linear(x, w, b), tf.add(tf.matMul(x, w), b));
  close(linear(x, w), tf.matMul(x, w));
  const ours = tf.grads((a, c) => tf.sum(tf.mul(matmul(a as tf.Tensor2D, c as tf.Tensor2D), 2)));
  const theirs = tf.grads((a, c) =>
    tf.sum(tf.mul(tf.matMul(a as tf.Tensor2D, c as tf.Tensor2D), 2))
  );
  const [dx, dw] = ours([x, w]);
  const [ex, ew] = theirs([x, w]);
  close(dx!, ex!);
  close(dw!, ew!);
});

Deno.test("embeddingLookup() gathers rows and scatter-adds their gradient", () => {
  const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const ids = tf.tensor1d([2, 0, 2], "int32");
  close(embeddingLookup(table, ids), tf.tensor2d([[5, 6], [1, 2], [5, 6]]));
  const grad = tf.grad((t) => tf.sum(embeddingLookup(t as tf.Tensor2D, ids)))(table);
  close(grad, tf.tensor2d([[1, 1], [0, 0], [2, 2]]));
});

Deno.test("selfAttention() with a causal flag equals the same attention with the causal mask", () => {
  const qkv = tf.randomNormal([2 * 4, 3 * 4], 0, 1, "float32", 7) as tf.Tensor2D;
  const shape = { batch: 2, tokens: 4, heads: 2 };
  close(
    selfAttention(qkv, { ...shape, causal: true }),
    selfAttention(qkv, { ...shape, mask: causalMask(4) }),
  );
  assert.equal(causalMask(2).dataSync()[1], MASK_NEGATIVE);
});
