import assert from "node:assert/strict";
import { concatBatches, takeExamples } from "../../data/examples.ts";
import { syntheticImages } from "../../data/synthetic_images.ts";
import { syntheticText } from "../../data/synthetic_text.ts";
import type { ImageBatch, TextBatch } from "../../data/types.ts";

Deno.test("takeExamples() gives the same examples for aligned and unaligned offsets", async () => {
  const all = await takeExamples(syntheticImages, {
    split: "test",
    seed: 3,
    offset: 0,
    count: 6,
  }) as ImageBatch;
  const mid = await takeExamples(syntheticImages, {
    split: "test",
    seed: 3,
    offset: 2,
    count: 3,
  }) as ImageBatch;
  assert.deepEqual(mid.shape, [3, 32, 32, 3]);
  assert.deepEqual(mid.labels, all.labels.slice(2, 5));
  assert.deepEqual(mid.images, all.images.slice(2 * 3072, 5 * 3072));
  const text = await takeExamples(syntheticText, {
    split: "validation",
    seed: 1,
    offset: 4,
    count: 4,
    context: 8,
  });
  assert.deepEqual(text.shape, [4, 8]);
});

Deno.test("concatBatches() stacks text batches along the batch axis", () => {
  const a: TextBatch = {
    kind: "text",
    inputs: Int32Array.of(1, 2),
    targets: Int32Array.of(2, 3),
    shape: [1, 2],
  };
  const b: TextBatch = {
    kind: "text",
    inputs: Int32Array.of(4, 5),
    targets: Int32Array.of(5, 6),
    shape: [1, 2],
  };
  const both = concatBatches([a, b]) as TextBatch;
  assert.deepEqual(both.shape, [2, 2]);
  assert.deepEqual([...both.inputs], [1, 2, 4, 5]);
  assert.deepEqual([...both.targets], [2, 3, 5, 6]);
});
