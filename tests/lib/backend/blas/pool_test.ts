import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { BLAS_OK, BLAS_SKIP, randomValues } from "./_helpers.ts";
import { Float32Pool, float32Pool, poolCapFromEnv } from "../../../../lib/backend/blas/pool.ts";

Deno.test("Float32Pool reuses a detached buffer for the next take of the same length", () => {
  const pool = new Float32Pool(1 << 20);
  const a = pool.take(100);
  pool.attach(a);
  pool.detach(a);
  assert.equal(pool.take(99).length, 99, "other lengths get fresh memory");
  const b = pool.take(100);
  assert.equal(b, a);
  assert.deepEqual(pool.stats(), { hits: 1, misses: 2, freeBytes: 0, capBytes: 1 << 20 });
});

Deno.test("Float32Pool waits until every tensor holding a buffer is disposed", () => {
  const pool = new Float32Pool(1 << 20);
  const a = pool.take(10);
  pool.attach(a);
  pool.attach(a); // a second tensor entry over the same array
  pool.detach(a);
  assert.notEqual(pool.take(10), a, "still held by one tensor");
  pool.detach(a);
  assert.equal(pool.take(10), a);
});

Deno.test("Float32Pool never reuses an escaped buffer, a viewed buffer, or a foreign array", () => {
  const pool = new Float32Pool(1 << 20);
  const read = pool.take(8);
  pool.attach(read);
  pool.escape(read); // dataSync() handed it to user code
  pool.detach(read);
  const viewed = pool.take(8);
  pool.attach(viewed);
  pool.attach(viewed.subarray(2, 4)); // a tensor over part of it
  pool.detach(viewed);
  const foreign = new Float32Array(8); // e.g. the array given to tf.tensor()
  pool.attach(foreign);
  pool.detach(foreign);
  pool.release(foreign);
  const next = [pool.take(8), pool.take(8), pool.take(8)];
  for (const a of [read, viewed, foreign]) assert.ok(!next.includes(a));
  assert.equal(pool.stats().hits, 0);
});

Deno.test("Float32Pool.release gives back scratch, but not a buffer a tensor holds", () => {
  const pool = new Float32Pool(1 << 20);
  const scratch = pool.take(16);
  pool.release(scratch);
  const held = pool.take(16);
  assert.equal(held, scratch);
  pool.attach(held);
  pool.release(held);
  assert.notEqual(pool.take(16), held);
});

Deno.test("Float32Pool keeps at most its cap, dropping the least recently used lengths", () => {
  const pool = new Float32Pool(3 * 400); // three arrays of 100 floats
  const arrays = [100, 100, 100, 100].map((n) => pool.take(n));
  const other = pool.take(50);
  for (const a of arrays) pool.release(a);
  assert.equal(pool.stats().freeBytes, 1200, "the oldest of the four dropped");
  pool.release(other);
  assert.ok(pool.stats().freeBytes <= 1200);
  assert.equal(pool.take(50), other, "the newest length is kept");
  const off = new Float32Pool(0);
  const a = off.take(4);
  off.release(a);
  assert.notEqual(off.take(4), a, "cap 0 turns reuse off");
});

Deno.test("Float32Pool.takeZeroed clears a reused buffer", () => {
  const pool = new Float32Pool(1 << 20);
  const a = pool.take(5).fill(7);
  pool.release(a);
  assert.deepEqual([...pool.takeZeroed(5)], [0, 0, 0, 0, 0]);
});

Deno.test("poolCapFromEnv reads FLOPS_FIT_POOL_MB and names it when invalid", () => {
  const before = Deno.env.get("FLOPS_FIT_POOL_MB");
  try {
    Deno.env.set("FLOPS_FIT_POOL_MB", "2");
    assert.equal(poolCapFromEnv(), 2 * 1024 * 1024);
    Deno.env.set("FLOPS_FIT_POOL_MB", "lots");
    assert.throws(() => poolCapFromEnv(), /FLOPS_FIT_POOL_MB/);
  } finally {
    if (before === undefined) Deno.env.delete("FLOPS_FIT_POOL_MB");
    else Deno.env.set("FLOPS_FIT_POOL_MB", before);
  }
});

Deno.test(`blas: values read out of a tensor stay intact after it is disposed${BLAS_SKIP}`, {
  ignore: !BLAS_OK,
}, async () => {
  await tf.setBackend("blas");
  const x = tf.tensor2d(randomValues(64 * 64, 1), [64, 64]);
  const y = tf.tensor2d(randomValues(64 * 64, 2), [64, 64]);
  const product = tf.matMul(x, y);
  const read = product.dataSync();
  const copy = Float32Array.from(read);
  product.dispose();
  // Same-length outputs: each would land in product's buffer if it were reused.
  const later = [tf.matMul(y, x), tf.add(x, y), tf.mul(x, 3)];
  assert.deepEqual(read, copy);
  // Disposed, unread outputs are reused: the pool hits.
  const hits = float32Pool.stats().hits;
  tf.dispose(later);
  tf.dispose([tf.add(x, y), tf.sub(x, y)]);
  assert.ok(float32Pool.stats().hits >= hits + 2);
  // An array given to tf.tensor() is the caller's: never handed to a kernel.
  const mine = randomValues(64 * 64, 3);
  const mineCopy = Float32Array.from(mine);
  tf.tensor2d(mine, [64, 64]).dispose();
  tf.dispose([tf.add(x, y), tf.add(y, x)]);
  assert.deepEqual(mine, mineCopy);
  tf.dispose([x, y]);
});
