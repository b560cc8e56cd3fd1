import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  createFashionMnist,
  FASHION_MNIST_FILES,
  FASHION_MNIST_SYSTEM_DIR,
} from "../../data/fashion_mnist.ts";
import { gunzip } from "../../data/idx.ts";
import type { ImageBatch } from "../../data/types.ts";
import { serveFiles } from "./_server.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const installed = (() => {
  try {
    return Object.keys(FASHION_MNIST_FILES).every((f) =>
      Deno.statSync(`${FASHION_MNIST_SYSTEM_DIR}/${f}`).isFile
    );
  } catch {
    return false;
  }
})();
if (!installed) {
  console.warn("fashion-mnist tests skipped: apt package dataset-fashion-mnist is not installed.");
}

Deno.test({
  name:
    "fashion-mnist reads Debian's files without downloading and yields normalised 28×28×1 batches",
  ignore: !installed,
  fn: async () => {
    const fm = createFashionMnist({ baseUrl: "http://127.0.0.1:9/never/" });
    assert.equal(await fm.isReady({ dataDir: "/nonexistent" }), true);
    const batch = (await fm.batches({ split: "test", batchSize: 8, seed: 0, augment: true }).next())
      .value as ImageBatch;
    assert.deepEqual(batch.shape, [8, 28, 28, 1]);
    const min = Math.min(...batch.images), max = Math.max(...batch.images);
    assert.ok(Math.abs(min - (0 - 0.2860) / 0.3530) < 1e-5, `min ${min}`); // background / padding
    assert.ok(max <= (1 - 0.2860) / 0.3530 + 1e-5);
    assert.deepEqual(fm.info.splits, { train: { examples: 60_000 }, test: { examples: 10_000 } });
  },
});

Deno.test({
  name: "fashion-mnist downloads and md5-verifies the four files when the system copy is absent",
  ignore: !installed,
  fn: async () => {
    // Small stand-ins keep the test fast: the first 100 real test images and labels, as IDX + gzip.
    const images = await gunzip(
      await Deno.readFile(`${FASHION_MNIST_SYSTEM_DIR}/t10k-images-idx3-ubyte.gz`),
    );
    const labels = await gunzip(
      await Deno.readFile(`${FASHION_MNIST_SYSTEM_DIR}/t10k-labels-idx1-ubyte.gz`),
    );
    const cut = (idx: Uint8Array, header: number, per: number) => {
      const out = idx.slice(0, header + 100 * per);
      new DataView(out.buffer).setUint32(4, 100, false); // first dimension: 100 records
      return out;
    };
    const smallImages = await gzip(cut(images, 16, 784));
    const smallLabels = await gzip(cut(labels, 8, 1));
    const files: Record<string, Uint8Array> = {};
    const checksums: Record<string, { md5: string }> = {};
    for (const f of Object.keys(FASHION_MNIST_FILES)) {
      const bytes = f.includes("images") ? smallImages : smallLabels;
      files[`/${f}`] = bytes;
      checksums[f] = { md5: createHash("md5").update(bytes).digest("hex") };
    }
    const server = serveFiles(files);
    const dataDir = await Deno.makeTempDir();
    try {
      const fm = createFashionMnist({
        systemDir: `${dataDir}/none`,
        baseUrl: `${server.base}/`,
        checksums,
      });
      assert.equal(await fm.isReady({ dataDir }), false);
      await fm.prepare({ dataDir });
      assert.equal(await fm.isReady({ dataDir }), true);
      const batch = (await fm.batches({ split: "train", batchSize: 2, seed: 0, dataDir }).next())
        .value as ImageBatch;
      assert.deepEqual(batch.shape, [2, 28, 28, 1]);
      assert.equal(server.seen.length, 4);
      assert.deepEqual(fm.info.splits, { train: { examples: 100 }, test: { examples: 100 } });
      const wrong = createFashionMnist({
        systemDir: `${dataDir}/none`,
        baseUrl: `${server.base}/`,
      });
      const other = `${dataDir}/other`;
      // The stand-ins are not the official files, so the official md5s refuse them.
      await assert.rejects(
        wrong.prepare({ dataDir: other }),
        /md5 8d4fb7e6c68d591d4c3dfef9ec88bf0d/,
      );
    } finally {
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
