import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertSameOnBlas, BLAS_OK, BLAS_SKIP } from "./_helpers.ts";
import { planReduce } from "../../../../lib/backend/blas/reduce.ts";
import { transposeValues } from "../../../../lib/backend/blas/layout.ts";

const ignore = !BLAS_OK;

Deno.test("planReduce() folds contiguous axes into [outer, reduce, inner] and rejects gaps", () => {
  assert.deepEqual(planReduce([4, 5, 6], [1], false), {
    outer: 4,
    reduce: 5,
    inner: 6,
    outShape: [4, 6],
  });
  assert.deepEqual(planReduce([4, 5, 6], [-1], true)?.outShape, [4, 5, 1]);
  assert.equal(planReduce([4, 5, 6], [0, 2], false), null);
  assert.deepEqual(planReduce([4, 1, 6], [0, 2], false)?.reduce, 24); // the gap has size 1
  assert.deepEqual(planReduce([3, 2], null, false), {
    outer: 1,
    reduce: 6,
    inner: 1,
    outShape: [],
  });
});

Deno.test("transposeValues() matches an index-by-index transpose, size-1 dims included", () => {
  const shape = [2, 1, 3, 4];
  const x = Float32Array.from({ length: 24 }, (_, i) => i);
  for (const perm of [[0, 1, 2, 3], [3, 2, 1, 0], [1, 0, 3, 2], [2, 0, 3, 1], [0, 2, 1, 3]]) {
    const got = transposeValues(x, shape, perm);
    const outShape = perm.map((p) => shape[p]);
    const want = new Float32Array(24);
    let o = 0;
    const idx = [0, 0, 0, 0];
    for (idx[0] = 0; idx[0] < outShape[0]; idx[0]++) {
      for (idx[1] = 0; idx[1] < outShape[1]; idx[1]++) {
        for (idx[2] = 0; idx[2] < outShape[2]; idx[2]++) {
          for (idx[3] = 0; idx[3] < outShape[3]; idx[3]++) {
            const src = [0, 0, 0, 0];
            perm.forEach((p, d) => (src[p] = idx[d]));
            want[o++] = x[((src[0] * 1 + src[1]) * 3 + src[2]) * 4 + src[3]];
          }
        }
      }
    }
    assert.deepEqual(got, want, `perm ${perm}`);
  }
});

Deno.test(
  `Sum, Mean and Max on blas match cpu over every axis pattern, with gradients${BLAS_SKIP}`,
  {
    ignore,
  },
  async () => {
    let seed = 1;
    const axesCases: (number | number[] | undefined)[] = [undefined, 0, 1, -1, [0, 1], [1, 2], [
      0,
      2,
    ]];
    for (const shape of [[5, 6, 7], [1, 9, 1], [130, 3, 65], [400, 2, 50]]) {
      // The large shape (past the native threading threshold) only on the layouts training uses.
      const large = shape[0] === 400;
      for (const axis of large ? [0, -1] : axesCases) {
        for (const keepDims of large ? [false] : [false, true]) {
          await assertSameOnBlas(
            [{ shape, seed: seed++ }],
            (
              x,
            ) => [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), tf.max(x, axis, keepDims)],
            { grads: true, label: `reduce ${shape} axis ${axis} keep ${keepDims}` },
          );
        }
      }
    }
  },
);

Deno.test(
  `Concat on blas matches cpu on every axis, with gradients${BLAS_SKIP}`,
  { ignore },
  async () => {
    let seed = 900;
    for (const axis of [0, 1, 2, -1]) {
      const shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]].map((s) => {
        const t = [...s];
        t[(axis + 3) % 3] = 1 + (seed % 3);
        return t;
      });
      await assertSameOnBlas(
        shapes.map((shape) => ({ shape, seed: seed++ })),
        (...xs) => tf.concat(xs, axis),
        { grads: true, label: `concat axis ${axis} ${JSON.stringify(shapes)}` },
      );
    }
    await assertSameOnBlas(
      [{ shape: [128, 1, 8], seed: 950 }, { shape: [128, 16, 8], seed: 951 }],
      (a, b) => tf.concat([a, b], 1),
      {
        grads: true,
        label: "concat CLS token",
      },
    );
  },
);

Deno.test(
  `GatherV2 on blas matches cpu on axes 0 and 1, with gradients${BLAS_SKIP}`,
  { ignore },
  async () => {
    for (
      const [shape, axis, ids] of [
        [[7, 5], 0, [3, 0, 6, 6, 1]],
        [[4, 6, 3], 1, [5, 0, 2]],
        [[9], 0, [8, 8, 0]],
      ] as [number[], number, number[]][]
    ) {
      await assertSameOnBlas(
        [{ shape, seed: 960 + axis }],
        (x) => tf.gather(x, tf.tensor1d(ids, "int32"), axis),
        {
          grads: true,
          label: `gather ${shape} axis ${axis}`,
        },
      );
    }
    await tf.setBackend("blas");
    assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([3], "int32")), /not in \[0, 2\]/);
  },
);

Deno.test(
  `UnsortedSegmentSum on blas matches cpu, repeated and out-of-range ids included${BLAS_SKIP}`,
  { ignore },
  async () => {
    for (
      const [shape, ids, segments] of [
        [[6, 4], [2, 0, 2, 5, -1, 7], 6], // -1 and 7 fall outside: dropped (no gradient: gather refuses them)
        [[5, 2, 3], [1, 1, 1, 0, 3], 4],
        [[3], [0, 0, 0], 1],
        [[4096, 8], Array.from({ length: 4096 }, (_, i) => (i * 37) % 256), 256],
      ] as [number[], number[], number][]
    ) {
      await assertSameOnBlas(
        [{ shape, seed: 980 + ids.length }],
        (x) => tf.unsortedSegmentSum(x, tf.tensor1d(ids, "int32"), segments),
        { grads: ids.every((id) => id >= 0 && id < segments), label: `segment sum ${shape}` },
      );
    }
  },
);

Deno.test(
  `PadV2 on blas matches cpu: every axis, constants, zero and no padding, with gradients${BLAS_SKIP}`,
  {
    ignore,
  },
  async () => {
    let seed = 1200;
    for (
      const [shape, paddings, constant] of [
        [[128, 1, 64], [[0, 0], [0, 64], [0, 0]], 0], // the ViT CLS slice's gradient
        [[3, 4], [[1, 2], [0, 3]], 0],
        [[2, 3, 5], [[0, 0], [0, 0], [2, 1]], -1.5],
        [[1], [[3, 0]], 7],
        [[4, 5], [[0, 0], [0, 0]], 0],
        [[2, 1, 3, 2], [[1, 0], [0, 2], [1, 1], [0, 0]], 0.25],
        [[0, 3], [[1, 1], [0, 0]], 2],
      ] as [number[], [number, number][], number][]
    ) {
      await assertSameOnBlas(
        [{ shape, seed: seed++ }],
        (x) => tf.pad(x, paddings, constant),
        { grads: !shape.includes(0), label: `pad ${shape} by ${JSON.stringify(paddings)}` },
      );
    }
  },
);

Deno.test(`Transpose, Slice, SplitV and Softmax on blas match cpu, with gradients${BLAS_SKIP}`, {
  ignore,
}, async () => {
  const perms: [number[], number[]][] = [
    [[4, 6], [1, 0]],
    [[65, 3], [1, 0]],
    [[2, 5, 3, 4], [0, 2, 1, 3]],
    [[3, 5, 3, 2, 4], [2, 0, 3, 1, 4]],
    [[2, 1, 3], [2, 1, 0]],
    [[3, 4, 5], [0, 1, 2]],
  ];
  let seed = 700;
  for (const [shape, perm] of perms) {
    await assertSameOnBlas([{ shape, seed: seed++ }], (x) => tf.transpose(x, perm), {
      grads: true,
      label: `transpose ${shape} ${perm}`,
    });
  }
  const slices: [number[], number[], number[]][] = [
    [[6, 9], [1, 2], [3, 4]],
    [[6, 9], [0, 0], [6, 9]],
    [[4, 5, 6], [1, 0, 2], [2, 5, 3]],
    [[4, 5, 6], [0, 2, 0], [4, 1, 6]],
    [[7], [3], [1]],
  ];
  for (const [shape, begin, size] of slices) {
    await assertSameOnBlas([{ shape, seed: seed++ }], (x) => tf.slice(x, begin, size), {
      grads: true,
      label: `slice ${shape} ${begin} ${size}`,
    });
  }
  await assertSameOnBlas([{ shape: [10, 12], seed: seed++ }], (x) => tf.split(x, 3, 1), {
    grads: true,
    label: "split 3 ways on axis 1",
  });
  await assertSameOnBlas([{ shape: [10, 12], seed: seed++ }], (x) => tf.split(x, [2, 5, 3], 0), {
    grads: true,
    label: "split sizes on axis 0",
  });
  for (const shape of [[1], [5, 1], [3, 4, 65]]) {
    await assertSameOnBlas([{ shape, seed: seed++ }], (x) => tf.softmax(tf.mul(x, 5)), {
      grads: true,
      label: `softmax ${shape}`,
    });
  }
});
