import assert from "node:assert/strict";
import { createTinyStories } from "../../data/tinystories.ts";
import { detokenize } from "../../data/tokenizer.ts";
import type { TextBatch } from "../../data/types.ts";
import { HAVE_SHARED, serveFiles, SHARED_DATA } from "./_server.ts";

Deno.test({
  name:
    "tinystories downloads the two text files, records their sha256 and serves packed byte sequences",
  ignore: !HAVE_SHARED,
  fn: async () => {
    const head = await Deno.readFile(`${SHARED_DATA}text/tinystories_train_head_2MiB.txt`);
    // Official layout: TinyStories-train.txt and TinyStories-valid.txt; here the shared 2 MiB head
    // stands in for train and its last 128 KiB for validation.
    const server = serveFiles({
      "/TinyStories-train.txt": head,
      "/TinyStories-valid.txt": head.subarray(head.length - 131_072),
    });
    const dataDir = await Deno.makeTempDir();
    try {
      const ts = createTinyStories({ baseUrl: `${server.base}/` });
      assert.equal(await ts.isReady({ dataDir }), false);
      await ts.prepare({ dataDir });
      assert.equal(await ts.isReady({ dataDir }), true);
      assert.deepEqual(ts.info.splits.train, {
        examples: Math.floor((2_097_152 - 1) / 128),
        tokens: 2_097_152,
      });
      assert.equal(
        ts.info.checksum!["TinyStories-train.txt"],
        "sha256:5352b299dcb1a32898b2d779b145b5a05f3e1265953fd21c264c9f9f9c9ae33d",
      );
      const batch =
        (await ts.batches({ split: "train", batchSize: 32, seed: 0, context: 128, dataDir }).next())
          .value as TextBatch;
      assert.deepEqual(batch.shape, [32, 128]);
      assert.deepEqual(batch.inputs.subarray(1, 128), batch.targets.subarray(0, 127));
      // Every row is a window of the file at a multiple of 128.
      const text = new TextDecoder().decode(head);
      const row = detokenize(batch.inputs.subarray(0, 128));
      assert.ok(
        head.length > 0 && (text.includes(row) || /\uFFFD/.test(row)),
        "rows are file windows",
      );
      assert.equal(server.seen.length, 2);
    } finally {
      await server.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
