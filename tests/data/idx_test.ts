import assert from "node:assert/strict";
import { gunzip, parseIdx } from "../../data/idx.ts";
import { FASHION_MNIST_SYSTEM_DIR } from "../../data/fashion_mnist.ts";

function idx(magic: number, dims: number[], body: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

Deno.test("parseIdx() reads big-endian dims and the body of 0x803 and 0x801 files", () => {
  const images = parseIdx(idx(0x803, [2, 2, 3], [...Array(12).keys()]), 3);
  assert.deepEqual(images.dims, [2, 2, 3]);
  assert.equal(images.data[11], 11);
  const labels = parseIdx(idx(0x801, [3], [7, 8, 9]), 1);
  assert.deepEqual([...labels.data], [7, 8, 9]);
});

Deno.test("parseIdx() rejects wrong magic, wrong rank and truncated or oversized bodies", () => {
  assert.throws(() => parseIdx(idx(0x0d03, [1, 1, 1], [0])), /magic 0x00000d03/);
  assert.throws(() => parseIdx(idx(0x801, [3], [1, 2, 3]), 3), /1 dimensions, expected 3/);
  assert.throws(
    () => parseIdx(idx(0x803, [2, 2, 2], [1, 2, 3])),
    /holds 3 bytes; its header says 8/,
  );
  assert.throws(() => parseIdx(idx(0x801, [1], [1, 2])), SyntaxError);
  assert.throws(() => parseIdx(new Uint8Array([0, 0, 8])), /shorter/);
});

const haveFashion = (() => {
  try {
    return Deno.statSync(`${FASHION_MNIST_SYSTEM_DIR}/t10k-labels-idx1-ubyte.gz`).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "parseIdx() reads Debian's Fashion-MNIST test files (10,000 × 28 × 28, labels 0–9)",
  ignore: !haveFashion,
  fn: async () => {
    const labels = parseIdx(
      await gunzip(await Deno.readFile(`${FASHION_MNIST_SYSTEM_DIR}/t10k-labels-idx1-ubyte.gz`)),
      1,
    );
    assert.deepEqual(labels.dims, [10_000]);
    assert.deepEqual([...labels.data.subarray(0, 5)], [9, 2, 1, 1, 6]); // published first test labels
    const counts = new Array(10).fill(0);
    for (const l of labels.data) counts[l]++;
    assert.deepEqual(counts, new Array(10).fill(1000));
  },
});

Deno.test("gunzip() turns bad gzip into a SyntaxError", async () => {
  await assert.rejects(gunzip(new Uint8Array([1, 2, 3, 4])), SyntaxError);
});
