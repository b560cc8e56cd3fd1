import assert from "node:assert/strict";
import { gpuTest, read, run } from "./_gpu.ts";
import {
  Arena,
  f32,
  grid,
  layoutParams,
  tokenBuckets,
  writeRegion,
} from "../../../../lib/backend/webgpu/mod.ts";

Deno.test("layoutParams() aligns every tensor for binding and keeps the model's order", () => {
  const layout = layoutParams(
    [
      { name: "a", shape: [3, 5], decay: true },
      { name: "b", shape: [7], decay: false },
      { name: "c", shape: [2, 2], decay: true },
    ],
    256,
  );
  assert.deepEqual(layout.entries.map((e) => [e.name, e.offset, e.length]), [
    ["a", 0, 15],
    ["b", 64, 7],
    ["c", 128, 4],
  ]);
  assert.equal(layout.length, 192);
});

Deno.test("tokenBuckets() lists each token's rows in order, and refuses an id outside V", () => {
  const { start, rows } = tokenBuckets([2, 0, 2, 3, 0], 4);
  assert.deepEqual([...start], [0, 2, 2, 4, 5]);
  assert.deepEqual([...rows], [1, 4, 0, 2, 3]);
  assert.throws(() => tokenBuckets([4], 4), RangeError);
});

Deno.test("grid() splits a large dispatch under 65,535 per dimension; f32() writes WGSL floats", () => {
  assert.deepEqual(grid(70_000), { x: 65_535, y: 2 });
  assert.deepEqual(grid(1), { x: 1, y: 1 });
  assert.equal(f32(1e-5), "0.000009999999747378752f");
  assert.equal(f32(-1), "-1f");
  assert.throws(() => f32(Number.NaN), RangeError);
});

gpuTest(
  "Arena: a binding-size limit splits the regions over several buffers, each usable",
  async (ctx) => {
    // A pretend device whose storage bindings hold 1 KiB: 3 regions of 600 B need 3 buffers.
    const limits = { ...ctx.limits, maxStorageBufferBindingSize: 1024 };
    const arena = new Arena(ctx.device, { limits, label: "test" });
    const regions = [0, 1, 2].map((i) => arena.alloc(`r${i}`, 150));
    const small = arena.alloc("small", 8); // fits beside the last one
    assert.throws(() => arena.alloc("huge", 300), RangeError); // 1,200 B > one binding
    arena.seal();
    assert.equal(arena.buffers.length, 3);
    assert.equal(small.buffer, regions[2]!.buffer);
    assert.equal(small.offset % ctx.limits.minStorageBufferOffsetAlignment, 0);
    regions.forEach((r, i) => writeRegion(ctx.device, r, new Float32Array(150).fill(i + 1)));
    writeRegion(ctx.device, small, new Float32Array(8).fill(9));
    await run(ctx, []);
    assert.deepEqual([...(await read(ctx, regions[2]!))].slice(0, 3), [3, 3, 3]);
    assert.deepEqual([...(await read(ctx, small))], new Array(8).fill(9));
    assert.throws(() => arena.alloc("late", 4), /after seal/);
    arena.destroy();
  },
);
