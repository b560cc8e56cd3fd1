import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { CIFAR10_SPEC, createCifar10 } from "../../data/cifar10.ts";
import { DataUnavailableError } from "../../data/errors.ts";
import { normalisationTable } from "../../data/image_source.ts";
import { ShuffledOrder } from "../../data/order.ts";
import { packTarGz } from "../../data/tar_gz.ts";
import type { ImageBatch } from "../../data/types.ts";
import { HAVE_SHARED, serveFiles, SHARED_DATA } from "./_server.ts";

const RECORD = 3073;

/**
 * The official archive's layout built from the shared files: data_batch_1 is the real 10,000
 * records; data_batch_2…5 are 100-record slices of it (the full official train set is not in
 * ../shared); test_batch is the byte-exact first 1,000 official test records.
 */
async function packCifar(): Promise<{ archive: Uint8Array; sha256: string; md5: string }> {
  const train = await Deno.readFile(`${SHARED_DATA}cifar10/data_batch_1.bin`);
  const files: Record<string, Uint8Array> = {
    "cifar-10-batches-bin/batches.meta.txt": await Deno.readFile(
      `${SHARED_DATA}cifar10/batches.meta.txt`,
    ),
    "cifar-10-batches-bin/data_batch_1.bin": train,
  };
  for (let i = 2; i <= 5; i++) {
    files[`cifar-10-batches-bin/data_batch_${i}.bin`] = train.subarray(
      i * 100 * RECORD,
      (i + 1) * 100 * RECORD,
    );
  }
  files["cifar-10-batches-bin/test_batch.bin"] = await Deno.readFile(
    `${SHARED_DATA}cifar10/test_batch_first1000.bin`,
  );
  const archive = await packTarGz(files, { compress: false });
  return {
    archive,
    sha256: createHash("sha256").update(archive).digest("hex"),
    md5: createHash("md5").update(archive).digest("hex"),
  };
}

Deno.test({
  name:
    "cifar10 downloads, verifies, caches and decodes the archive end to end (first test image is a cat)",
  ignore: !HAVE_SHARED,
  fn: async () => {
    const { archive, sha256, md5 } = await packCifar();
    const server = serveFiles({ "/cifar-10-binary.tar.gz": archive });
    const dataDir = await Deno.makeTempDir();
    try {
      const cifar = createCifar10({
        url: `${server.base}/cifar-10-binary.tar.gz`,
        checksums: { sha256, md5 },
        size: archive.length,
      });
      assert.equal(await cifar.isReady({ dataDir }), false);
      const progress: string[] = [];
      await cifar.prepare({ dataDir, onProgress: (m) => progress.push(m) });
      assert.equal(await cifar.isReady({ dataDir }), true);
      assert.ok(progress.some((m) => /reading 7 members/.test(m)));
      await cifar.prepare({ dataDir });
      assert.equal(server.seen.length, 1, "prepared data is cached");

      // The extracted test member is byte-exact, and its first record is a cat (label 3).
      const test = await Deno.readFile(`${dataDir}/cifar10/cifar-10-batches-bin/test_batch.bin`);
      assert.deepEqual(test, await Deno.readFile(`${SHARED_DATA}cifar10/test_batch_first1000.bin`));

      // Through the loader: find where test image 0 lands in seed 5's order and check it.
      const order = new ShuffledOrder(1000, 5);
      let position = 0;
      while (order.indexAt(position) !== 0) position++;
      const batch = (await cifar.batches({
        split: "test",
        batchSize: 1,
        seed: 5,
        startBatch: position,
        dataDir,
      }).next())
        .value as ImageBatch;
      assert.deepEqual(batch.shape, [1, 32, 32, 3]);
      assert.equal(batch.labels[0], 3);
      const lut = normalisationTable(CIFAR10_SPEC);
      // Known bytes of the official first test image: pixel (0,0) is R 158, G 112, B 49; pixel (0,1) R 159.
      const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
      near(batch.images[0]!, lut[158]!);
      near(batch.images[1]!, lut[256 + 112]!);
      near(batch.images[2]!, lut[512 + 49]!);
      near(batch.images[3]!, lut[159]!);
      near(batch.images[0]!, (158 / 255 - 0.4914) / 0.2470);
      assert.deepEqual(cifar.info.splits, {
        train: { examples: 10_400 },
        test: { examples: 1000 },
      });

      // A wrong expected checksum is refused with the URL, the sum and the by-hand path.
      const bad = createCifar10({
        url: `${server.base}/cifar-10-binary.tar.gz`,
        checksums: { sha256: "f".repeat(64) },
      });
      const other = await Deno.makeTempDir();
      const error = await bad.prepare({ dataDir: other }).catch((e) => e);
      await Deno.remove(other, { recursive: true });
      assert.ok(error instanceof DataUnavailableError);
      assert.match(
        error.message,
        /cifar-10-binary\.tar\.gz.*sha256 f{64}.*put it at .*cifar10\/cifar-10-binary\.tar\.gz/,
      );
    } finally {
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("cifar10 refuses an archive whose member is truncated, and does not become ready", async () => {
  const record = new Uint8Array(RECORD);
  const files: Record<string, Uint8Array> = {
    "cifar-10-batches-bin/batches.meta.txt": new Uint8Array(1),
  };
  for (let i = 1; i <= 5; i++) files[`cifar-10-batches-bin/data_batch_${i}.bin`] = record;
  files["cifar-10-batches-bin/test_batch.bin"] = record.subarray(0, 3000); // truncated record
  const archive = await packTarGz(files);
  const server = serveFiles({ "/c.tar.gz": archive });
  const dataDir = await Deno.makeTempDir();
  try {
    const cifar = createCifar10({
      url: `${server.base}/c.tar.gz`,
      checksums: { sha256: createHash("sha256").update(archive).digest("hex") },
    });
    await assert.rejects(cifar.prepare({ dataDir }), /3000 bytes, not a positive multiple of 3073/);
    assert.equal(await cifar.isReady({ dataDir }), false);
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("cifar10 prepared twice at once (two instances, as two processes would) downloads and extracts once", async () => {
  const records = new Uint8Array(2 * RECORD);
  records[RECORD] = 9;
  const files: Record<string, Uint8Array> = {
    "cifar-10-batches-bin/batches.meta.txt": new Uint8Array(1),
  };
  for (let i = 1; i <= 5; i++) files[`cifar-10-batches-bin/data_batch_${i}.bin`] = records;
  files["cifar-10-batches-bin/test_batch.bin"] = records;
  const archive = await packTarGz(files);
  const server = serveFiles({ "/c.tar.gz": archive });
  const dataDir = await Deno.makeTempDir();
  try {
    const options = {
      url: `${server.base}/c.tar.gz`,
      checksums: { md5: createHash("md5").update(archive).digest("hex") },
    };
    const [a, b] = [createCifar10(options), createCifar10(options)];
    await Promise.all([a.prepare({ dataDir }), b.prepare({ dataDir })]);
    assert.equal(server.seen.length, 1);
    assert.equal(await a.isReady({ dataDir }), true);
    const batch = (await b.batches({ split: "train", batchSize: 10, seed: 0, dataDir }).next())
      .value as ImageBatch;
    assert.deepEqual([...batch.labels].sort(), [0, 0, 0, 0, 0, 9, 9, 9, 9, 9]);
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("cifar10 prepared by two processes at once: one download, one extraction, both succeed", async () => {
  const records = new Uint8Array(3 * RECORD).map((
    _,
    i,
  ) => (i % RECORD === 0 ? (i / RECORD) % 10 : i % 256));
  const files: Record<string, Uint8Array> = {
    "cifar-10-batches-bin/batches.meta.txt": new Uint8Array(1),
  };
  for (let i = 1; i <= 5; i++) files[`cifar-10-batches-bin/data_batch_${i}.bin`] = records;
  files["cifar-10-batches-bin/test_batch.bin"] = records;
  // Padding makes the download take a few chunks, so the two processes overlap.
  files["cifar-10-batches-bin/readme.html"] = new Uint8Array(8_000_000);
  const archive = await packTarGz(files, { compress: false });
  const md5 = createHash("md5").update(archive).digest("hex");
  const server = serveFiles({ "/c.tar.gz": archive });
  const dataDir = await Deno.makeTempDir();
  try {
    const child = new URL("./_prepare_child.ts", import.meta.url).pathname;
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", child, `${server.base}/c.tar.gz`, md5, dataDir],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const outputs = await Promise.all([run(), run()]);
    for (const out of outputs) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout).trim(), "ready");
    }
    assert.equal(server.seen.length, 1, "the lock makes the second process reuse the first's work");
    const test = await Deno.readFile(`${dataDir}/cifar10/cifar-10-batches-bin/test_batch.bin`);
    assert.deepEqual(test, records);
    const leftovers = [...Deno.readDirSync(`${dataDir}/cifar10`)].map((e) => e.name).sort();
    assert.deepEqual(leftovers, [
      "READY",
      "cifar-10-batches-bin",
      "cifar-10-binary.tar.gz",
      "cifar-10-binary.tar.gz.lock",
      "cifar-10-binary.tar.gz.verified",
      "prepare.lock",
    ]);
  } finally {
    await server.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
