import assert from "node:assert/strict";
import { mulberry32 } from "../../lib/random.ts";

Deno.test("mulberry32() reproduces the reference stream for seed 1", () => {
  // The first outputs of Tommy Ettinger's C mulberry32 (uint32_t state = 1; `t = a += 0x6D2B79F5;
  // t = (t ^ t >> 15) * (t | 1); t ^= t + (t ^ t >> 7) * (t | 61); return t ^ t >> 14;`), compiled
  // with gcc and printed as unsigned integers.
  const next = mulberry32(1);
  const draws = [next(), next(), next()].map((u) => Math.round(u * 4294967296));
  assert.deepEqual(draws, [2693262067, 11749833, 2265367787]);
});

Deno.test("mulberry32() is deterministic, in [0, 1), and roughly uniform", () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  let sum = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const u = a();
    assert.equal(u, b());
    assert.ok(u >= 0 && u < 1);
    sum += u;
  }
  // Mean of n uniforms: sd 1/sqrt(12 n) ≈ 9e-4; 5 sd.
  assert.ok(Math.abs(sum / n - 0.5) < 5e-3, `mean ${sum / n}`);
  assert.notEqual(mulberry32(1)(), mulberry32(2)());
});
