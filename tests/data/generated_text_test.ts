import assert from "node:assert/strict";
import { GENERATED_TEXT_SPLITS, generatedTextDataset } from "../../data/generated_text.ts";
import type { TextBatch } from "../../data/types.ts";

/** A source whose sequence is its seed's low byte, repeated: batches say which seeds were used. */
function seedEcho(onDescribe: () => void = () => {}) {
  return generatedTextDataset({
    name: "echo",
    seed: 7,
    description: () => {
      onDescribe();
      return "echo";
    },
    entropyNats: () => 0,
    sample: (seed, out) => out.fill(seed & 0xff),
  });
}

async function firstBatch(split: string, seed: number): Promise<TextBatch> {
  const data = seedEcho();
  const it = data.batches({ split, batchSize: 4, seed, context: 8 });
  const { value } = await it.next();
  await it.return?.();
  return value as TextBatch;
}

Deno.test("generatedTextDataset() serves byte-token batches of the asked context from per-sequence seeds", async () => {
  const batch = await firstBatch("train", 1);
  assert.deepEqual(batch.shape, [4, 8]);
  // Each row is one sequence: inputs and targets are the same repeated token.
  for (let b = 0; b < 4; b++) {
    const row = batch.inputs.subarray(b * 8, b * 8 + 8);
    assert.ok(row.every((t) => t === row[0]), `row ${b} comes from one seed`);
    assert.equal(batch.targets[b * 8], row[0]);
  }
  assert.deepEqual((await firstBatch("train", 1)).inputs, batch.inputs, "deterministic");
  const validation = await firstBatch("validation", 1);
  assert.notDeepEqual(validation.inputs, batch.inputs, "the splits draw other seeds");
});

Deno.test("generatedTextDataset() lists both splits, reads its description lazily and refuses unknown splits", async () => {
  let described = 0;
  const data = seedEcho(() => described++);
  assert.equal(described, 0, "nothing is computed before it is asked for");
  assert.equal(data.info.description, "echo");
  assert.equal(described, 1);
  assert.equal(data.info.entropy_nats, 0);
  assert.deepEqual(Object.keys(data.info.splits), Object.keys(GENERATED_TEXT_SPLITS));
  assert.equal(data.info.splits.train!.examples, GENERATED_TEXT_SPLITS.train);
  await assert.rejects(
    () => data.batches({ split: "test", batchSize: 1, seed: 0 }).next(),
    /test/,
  );
});
