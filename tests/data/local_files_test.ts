import assert from "node:assert/strict";
import { InvalidDataPathError, UnknownDatasetError } from "../../data/errors.ts";
import { getDataset, listDatasets } from "../../data/mod.ts";
import type { ImageBatch, TextBatch } from "../../data/types.ts";

Deno.test("getDataset() refuses traversal, and absolute paths when not allowed", () => {
  for (
    const bad of [
      "text-file:../x",
      "text-file:a/../../x",
      "cifar-file:./x",
      "text-file:a//b",
      "text-file:",
      "text-file:a\\..\\b",
    ]
  ) {
    assert.throws(
      () => getDataset(bad, { dataDir: "/tmp/d", allowAbsolutePaths: false }),
      InvalidDataPathError,
      bad,
    );
  }
  assert.throws(
    () => getDataset("text-file:/etc/passwd", { allowAbsolutePaths: false }),
    /Absolute paths/,
  );
  assert.throws(() => getDataset("text-file:/etc/../passwd"), InvalidDataPathError);
  assert.throws(() => getDataset("imagenet"), UnknownDatasetError);
  assert.deepEqual(listDatasets().map((d) => d.info.name), [
    "cifar10",
    "fashion-mnist",
    "tinystories",
    "synthetic-text",
    "synthetic-text-order1",
    "synthetic-text-order3",
    "synthetic-quanta",
    "synthetic-images",
  ]);
});

Deno.test("text-file: datasets split the last 10% off as validation and pack byte tokens", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dataDir}/files/notes`, { recursive: true });
    const text = "abcdefghij".repeat(100); // 1,000 bytes
    await Deno.writeTextFile(`${dataDir}/files/notes/book.txt`, text);
    const data = getDataset("text-file:notes/book.txt", { dataDir, allowAbsolutePaths: false });
    assert.equal(await data.isReady(), true);
    assert.deepEqual(data.info.splits.validation, { examples: 0, tokens: 100 });
    const batch =
      (await data.batches({ split: "validation", batchSize: 2, seed: 0, context: 9 }).next())
        .value as TextBatch;
    assert.deepEqual(batch.shape, [2, 9]);
    const row = String.fromCharCode(...batch.inputs.subarray(0, 9));
    const windows = Array.from({ length: 11 }, (_, k) => text.slice(900 + 9 * k, 909 + 9 * k));
    assert.ok(windows.includes(row), `row ${row} is a window of the last 100 bytes`);
    const absolute = getDataset(`text-file:${dataDir}/files/notes/book.txt`);
    assert.equal(await absolute.isReady(), true);
    const missing = getDataset("text-file:nope.txt", { dataDir });
    assert.equal(await missing.isReady(), false);
    await assert.rejects(missing.prepare(), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("cifar-file: datasets read CIFAR records and reject a truncated file", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dataDir}/files`);
    const records = new Uint8Array(20 * 3073);
    for (let r = 0; r < 20; r++) {
      records[r * 3073] = r % 10;
      records[r * 3073 + 1] = 255; // red of pixel (0, 0)
    }
    await Deno.writeFile(`${dataDir}/files/mine.bin`, records);
    const data = getDataset("cifar-file:mine.bin", { dataDir });
    await data.prepare();
    assert.deepEqual(data.info.splits, { train: { examples: 18 }, validation: { examples: 2 } });
    const batch =
      (await data.batches({ split: "validation", batchSize: 2, seed: 0, dataDir }).next())
        .value as ImageBatch;
    assert.deepEqual([...batch.labels].sort(), [8, 9]);
    assert.ok(Math.abs(batch.images[0]! - (1 - 0.4914) / 0.2470) < 1e-5);
    await Deno.writeFile(`${dataDir}/files/bad.bin`, records.subarray(0, 3073 * 2 - 5));
    await assert.rejects(getDataset("cifar-file:bad.bin", { dataDir }).prepare(), SyntaxError);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a relative local file is read only when its real path stays under files/", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "flops-fit-links-" });
  const outside = await Deno.makeTempDir({ prefix: "flops-fit-outside-" });
  try {
    await Deno.mkdir(`${dataDir}/files`);
    await Deno.writeTextFile(`${outside}/secret.bin`, "s".repeat(3072 * 20));
    await Deno.symlink(outside, `${dataDir}/files/out`);
    for (const name of ["text-file:out/secret.bin", "cifar-file:out/secret.bin"]) {
      const dataset = getDataset(name, { dataDir, allowAbsolutePaths: false });
      assert.doesNotMatch(dataset.info.description, new RegExp(dataDir));
      await assert.rejects(() => dataset.isReady(), InvalidDataPathError, name);
      await assert.rejects(() => dataset.prepare(), InvalidDataPathError, name);
      await assert.rejects(
        () => dataset.batches({ split: "train", batchSize: 1, seed: 0 }).next(),
        InvalidDataPathError,
        name,
      );
    }
    // The library and CLI may still name an absolute path, links and all.
    const absolute = getDataset(`text-file:${dataDir}/files/out/secret.bin`, {
      allowAbsolutePaths: true,
    });
    assert.equal(await absolute.isReady(), true);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
