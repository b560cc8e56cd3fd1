import * as tf from "@tensorflow/tfjs-core";
import { assertSameOnBlas, BLAS_OK, BLAS_SKIP } from "./_helpers.ts";
import { planBroadcast } from "../../../../lib/backend/blas/elementwise.ts";
import assert from "node:assert/strict";

const ignore = !BLAS_OK;

/** Shape pairs covering same-shape, row, column, scalar, both-sides and size-1 broadcasting. */
const BROADCAST_CASES: [number[], number[]][] = [
  [[5, 7], [5, 7]],
  [[6, 4, 7], [7]],
  [[6, 4, 7], [6, 4, 1]],
  [[6, 4, 7], []],
  [[], [3, 2]],
  [[1], [9]],
  [[4, 1, 3], [1, 5, 3]],
  [[2, 3, 1, 5], [3, 4, 1]],
  [[1, 1, 1], [1]],
  [[129, 65], [65]],
  // Past the native kernels' threading threshold (32768 floats): long rows and many rows.
  [[40000], [40000]],
  [[40000], []],
  [[300, 200], [300, 1]],
];

const BINARY: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ["add", tf.add],
  ["sub", tf.sub],
  ["mul", tf.mul],
  ["div", tf.div],
  ["maximum", tf.maximum],
  ["minimum", tf.minimum],
  ["squaredDifference", tf.squaredDifference],
];

Deno.test("planBroadcast() merges dims that broadcast alike and drops size-1 dims", () => {
  const plan = planBroadcast([8, 65, 64], [64]);
  assert.deepEqual(plan.outShape, [8, 65, 64]);
  assert.deepEqual(plan.dims, [520, 64]);
  assert.deepEqual(plan.aStrides, [64, 1]);
  assert.deepEqual(plan.bStrides, [0, 1]);
  assert.deepEqual(planBroadcast([8, 65, 1], [8, 65, 64]).aStrides, [1, 0]);
  assert.throws(() => planBroadcast([3, 2], [4, 2]));
});

Deno.test(`binary ops on blas match cpu under broadcasting, forward and gradient${BLAS_SKIP}`, {
  ignore,
}, async () => {
  let seed = 1;
  for (const [name, op] of BINARY) {
    for (const [a, b] of BROADCAST_CASES) {
      // Keep divisors away from 0 so the gradient of div is well-conditioned.
      const f = name === "div" ? (x: tf.Tensor, y: tf.Tensor) => op(x, tf.add(tf.abs(y), 0.5)) : op;
      // tfjs's own Maximum, Minimum and SquaredDifference gradients do not reduce over broadcast
      // dims (cpu throws too).
      const sameShape = JSON.stringify(a) === JSON.stringify(b);
      await assertSameOnBlas([{ shape: a, seed: seed++ }, { shape: b, seed: seed++ }], f, {
        grads: sameShape || !["maximum", "minimum", "squaredDifference"].includes(name),
        label: `${name} ${JSON.stringify(a)}·${JSON.stringify(b)}`,
      });
    }
  }
});

Deno.test(`unary ops on blas match cpu, forward and gradient${BLAS_SKIP}`, { ignore }, async () => {
  const positive = (f: (x: tf.Tensor) => tf.Tensor) => (x: tf.Tensor) => f(tf.add(tf.abs(x), 0.1));
  const ops: [string, (x: tf.Tensor) => tf.Tensor][] = [
    ["exp", tf.exp],
    ["neg", tf.neg],
    ["erf", (x) => tf.erf(tf.mul(x, 3))],
    ["sqrt", positive(tf.sqrt)],
    ["rsqrt", positive(tf.rsqrt)],
    ["square", tf.square],
    ["tanh", tf.tanh],
    ["relu", tf.relu],
    ["sigmoid", tf.sigmoid],
    ["log", positive(tf.log)],
    ["abs", tf.abs],
    ["reciprocal", positive(tf.reciprocal)],
  ];
  let seed = 500;
  for (const [name, op] of ops) {
    for (const shape of [[1], [7], [33, 65]]) {
      await assertSameOnBlas([{ shape, seed: seed++ }], op, {
        grads: true,
        label: `${name} ${shape}`,
      });
    }
  }
});
