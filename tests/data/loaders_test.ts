import assert from "node:assert/strict";
import { imageBatches, type ImageSpec, type ImageSplitSource } from "../../data/image_source.ts";
import { checkBatchOptions, ShuffledOrder } from "../../data/order.ts";
import { memoryTokens, packedSequences, textBatches } from "../../data/text_source.ts";
import { UnknownSplitError } from "../../data/errors.ts";
import type { ImageBatch, TextBatch } from "../../data/types.ts";

Deno.test("ShuffledOrder.indexAt() visits every example once per epoch and reshuffles each epoch", () => {
  const order = new ShuffledOrder(50, 9);
  const epoch0 = Array.from({ length: 50 }, (_, p) => order.indexAt(p));
  const epoch1 = Array.from({ length: 50 }, (_, p) => order.indexAt(50 + p));
  assert.deepEqual([...epoch0].sort((a, b) => a - b), [...Array(50).keys()]);
  assert.deepEqual([...epoch1].sort((a, b) => a - b), [...Array(50).keys()]);
  assert.notDeepEqual(epoch0, epoch1);
  assert.equal(new ShuffledOrder(50, 9).indexAt(73), epoch1[23]);
});

Deno.test("checkBatchOptions() rejects an unknown split and bad sizes", () => {
  const ok = { split: "train", batchSize: 2, seed: 0 };
  assert.throws(
    () => checkBatchOptions("d", ["train"], { ...ok, split: "dev" }),
    UnknownSplitError,
  );
  assert.throws(() => checkBatchOptions("d", ["train"], { ...ok, batchSize: 0 }), RangeError);
  assert.throws(() => checkBatchOptions("d", ["train"], { ...ok, seed: 0.5 }), RangeError);
  assert.throws(() => checkBatchOptions("d", ["train"], { ...ok, startBatch: -1 }), RangeError);
});

/** 4×4 one-channel images whose pixel (y, x) of image i is 16·i + 4y + x (i < 10). */
const SPEC: ImageSpec = { height: 4, width: 4, channels: 1, mean: [0], std: [1 / 255], pad: 1 };
const SOURCE: ImageSplitSource = {
  count: 10,
  image: (i) => Uint8Array.from({ length: 16 }, (_, p) => 16 * i + p + 1),
  label: (i) => i,
};

Deno.test("imageBatches() normalises, and startBatch gives the same batches as skipping", async () => {
  const all = imageBatches(SOURCE, SPEC, { split: "train", batchSize: 3, seed: 1 });
  const batches: ImageBatch[] = [];
  for (let i = 0; i < 5; i++) batches.push((await all.next()).value as ImageBatch);
  const from3 =
    (await imageBatches(SOURCE, SPEC, { split: "train", batchSize: 3, seed: 1, startBatch: 3 })
      .next())
      .value as ImageBatch;
  assert.deepEqual(from3, batches[3]);
  const b0 = batches[0]!;
  assert.deepEqual(b0.shape, [3, 4, 4, 1]);
  // (v/255 − 0)/(1/255) = v: pixels come back as their byte values.
  const label = b0.labels[0]!;
  assert.ok(Math.abs(b0.images[5]! - (16 * label + 6)) < 1e-4);
});

Deno.test("imageBatches() augmentation is a shifted, maybe mirrored copy with zero padding, fixed by seed", async () => {
  const opts = { split: "train", batchSize: 10, seed: 2, augment: true };
  const a = (await imageBatches(SOURCE, SPEC, opts).next()).value as ImageBatch;
  const again = (await imageBatches(SOURCE, SPEC, opts).next()).value as ImageBatch;
  assert.deepEqual(a, again);
  let changed = 0;
  for (let b = 0; b < 10; b++) {
    const i = a.labels[b]!;
    const out = Array.from(a.images.subarray(b * 16, b * 16 + 16), (v) => Math.round(v));
    // Find the crop offset and flip that explain the output.
    let explained = false;
    for (const flip of [false, true]) {
      for (let oy = -1; oy <= 1; oy++) {
        for (let ox = -1; ox <= 1; ox++) {
          const want = Array.from({ length: 16 }, (_, p) => {
            const y = Math.floor(p / 4), x = p % 4;
            const sy = y + oy, sx = (flip ? 3 - x : x) + ox;
            return sy < 0 || sy > 3 || sx < 0 || sx > 3 ? 0 : 16 * i + 4 * sy + sx + 1;
          });
          if (want.every((v, p) => v === out[p])) explained = true;
        }
      }
    }
    assert.ok(explained, `image ${b} is not a crop/flip of example ${i}: ${out}`);
    if (out.some((v, p) => v !== 16 * i + p + 1)) changed++;
  }
  assert.ok(changed >= 5, `only ${changed}/10 images were augmented`);
});

Deno.test("packedSequences() packs windows of ctx+1 that overlap by one token; textBatches() shifts targets", async () => {
  const tokens = Uint8Array.from({ length: 101 }, (_, i) => i);
  const source = packedSequences(memoryTokens(tokens), 10);
  assert.equal(source.count, 10); // ⌊(101 − 1)/10⌋
  const seq = new Int32Array(11);
  source.fill(3, seq);
  assert.deepEqual([...seq], [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
  const batch = (await textBatches(source, 10, { split: "train", batchSize: 10, seed: 0 }).next())
    .value as TextBatch;
  const starts = Array.from({ length: 10 }, (_, b) => batch.inputs[b * 10]!).sort((a, b) => a - b);
  assert.deepEqual(starts, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]); // one epoch = every window once
  for (let b = 0; b < 10; b++) assert.equal(batch.targets[b * 10 + 9], batch.inputs[b * 10]! + 10);
  assert.throws(
    () => packedSequences(memoryTokens(new Uint8Array(5)), 10),
    /fewer than context \+ 1/,
  );
});

Deno.test("textBatches() closes its source when the iterator is closed", async () => {
  let closed = 0;
  const source = {
    count: 4,
    fill: (i: number, out: Int32Array) => out.fill(i),
    close: () => closed++,
  };
  const it = textBatches(source, 3, { split: "train", batchSize: 2, seed: 0 });
  await it.next();
  assert.equal(closed, 0);
  await it.return!();
  assert.equal(closed, 1);
});
