import assert from "node:assert/strict";
import { mixSeed, permutation, rng } from "../../data/random.ts";

Deno.test("rng() is deterministic, in [0, 1), and roughly uniform", () => {
  const a = rng(42), b = rng(42);
  const xs = Array.from({ length: 20_000 }, () => a());
  assert.deepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`); // sd of the mean ≈ 0.002
});

Deno.test("permutation() is a permutation, fixed by its seed", () => {
  const p = permutation(1000, 3);
  assert.deepEqual([...p].sort((x, y) => x - y), [...Array(1000).keys()]);
  assert.deepEqual(p, permutation(1000, 3));
  assert.notDeepEqual(p, permutation(1000, 4));
});

Deno.test("mixSeed() separates nearby and large inputs", () => {
  const seen = new Set<number>();
  for (let s = 0; s < 50; s++) for (let e = 0; e < 50; e++) seen.add(mixSeed(s, e));
  assert.equal(seen.size, 2500);
  assert.notEqual(mixSeed(1, 2 ** 32), mixSeed(1, 0)); // positions past 2^32 do not wrap
});
