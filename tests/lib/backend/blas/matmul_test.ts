import * as tf from "@tensorflow/tfjs-core";
import { assertSameOnBlas, BLAS_OK, BLAS_SKIP } from "./_helpers.ts";

const ignore = !BLAS_OK;

Deno.test(
  `BatchMatMul on blas matches cpu: 2-D, every transpose, edge sizes, forward and gradient${BLAS_SKIP}`,
  {
    ignore,
  },
  async () => {
    let seed = 1;
    for (
      const [m, k, n] of [[1, 1, 1], [1, 7, 1], [3, 5, 2], [17, 1, 9], [33, 65, 31], [128, 96, 200]]
    ) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = ta ? [k, m] : [m, k];
          const b = tb ? [n, k] : [k, n];
          await assertSameOnBlas(
            [{ shape: a, seed: seed++ }, { shape: b, seed: seed++ }],
            (x, y) => tf.matMul(x, y, ta, tb),
            { grads: true, label: `matMul ${a}·${b} ta=${ta} tb=${tb}` },
          );
        }
      }
    }
  },
);

Deno.test(`BatchMatMul on blas matches cpu: batched and broadcast batch dims${BLAS_SKIP}`, {
  ignore,
}, async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[4, 3, 5], [4, 5, 2], false, false],
    [[2, 3, 6, 5], [2, 3, 6, 4], true, false],
    [[2, 3, 5, 6], [2, 3, 4, 6], false, true],
    [[3, 7, 5], [1, 5, 2], false, false], // b broadcast over the batch
    [[1, 7, 5], [3, 5, 2], false, false], // a broadcast
    [[5, 9, 4], [4, 3], false, false], // rank-2 b against a batch
    [[6, 2, 3], [6, 3, 1], false, false],
  ];
  let seed = 100;
  for (const [a, b, ta, tb] of cases) {
    await assertSameOnBlas(
      [{ shape: a, seed: seed++ }, { shape: b, seed: seed++ }],
      (x, y) => tf.matMul(x, y, ta, tb),
      { label: `matMul ${a}·${b} ta=${ta} tb=${tb}` },
    );
  }
  // Gradients through equal batch dims (tfjs's own gradient does not reduce broadcast batches).
  await assertSameOnBlas(
    [{ shape: [2, 4, 8, 16], seed: 7 }, { shape: [2, 4, 8, 16], seed: 8 }],
    (q, k) => tf.matMul(q, k, false, true),
    { grads: true, label: "attention-shaped q·kᵀ" },
  );
});

Deno.test(`BatchMatMul on blas multiplies [2,1] by [1,3] batch dims as numpy does${BLAS_SKIP}`, {
  ignore,
}, async () => {
  // Reference: tile both to [2,3] first, so the cpu kernel sees no broadcasting.
  await assertSameOnBlas(
    [{ shape: [2, 1, 3, 4], seed: 21 }, { shape: [1, 3, 4, 5], seed: 22 }],
    (x, y) =>
      tf.getBackend() === "cpu"
        ? tf.matMul(tf.tile(x, [1, 3, 1, 1]), tf.tile(y, [2, 1, 1, 1]))
        : tf.matMul(x, y),
    { label: "outer-product broadcast" },
  );
});

Deno.test(
  `_FusedMatMul on blas matches cpu: bias shapes and activations, forward and gradient${BLAS_SKIP}`,
  {
    ignore,
  },
  async () => {
    let seed = 300;
    const activations = ["linear", "relu", "relu6", "sigmoid", "elu", "leakyrelu"] as const;
    for (const activation of activations) {
      for (const biasShape of [[7], [1], [5, 7]]) {
        await assertSameOnBlas(
          [{ shape: [5, 11], seed: seed++ }, { shape: [11, 7], seed: seed++ }, {
            shape: biasShape,
            seed: seed++,
          }],
          (a, b, bias) => tf.fused.matMul({ a, b, bias, activation, leakyreluAlpha: 0.1 }),
          { grads: activation !== "relu6", label: `fused ${activation} bias ${biasShape}` },
        );
      }
    }
    await assertSameOnBlas(
      [{ shape: [3, 6, 4], seed: 400 }, { shape: [3, 5, 4], seed: 401 }, { shape: [5], seed: 402 }],
      (a, b, bias) => tf.fused.matMul({ a, b, bias, transposeB: true, activation: "relu" }),
      { label: "fused batched transposeB" },
    );
    await assertSameOnBlas(
      [{ shape: [4, 6], seed: 410 }, { shape: [6, 3], seed: 411 }, { shape: [3], seed: 412 }],
      (a, b, alpha) =>
        tf.fused.matMul({ a, b, activation: "prelu", preluActivationWeights: alpha }),
      { label: "fused prelu" },
    );
  },
);
