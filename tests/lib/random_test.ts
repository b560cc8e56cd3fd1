import assert from "node:assert/strict";
import { hashString, mulberry32, normalDraw } from "../../lib/random.ts";

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

Deno.test("hashString() is FNV-1a over UTF-16 code units", () => {
  // Published FNV-1a 32-bit test vectors: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
  assert.equal(hashString(""), 0x811c9dc5);
  assert.equal(hashString("a"), 0xe40c292c);
  assert.equal(hashString("foobar"), 0xbf9cf968);
  assert.notEqual(hashString("abc"), hashString("abd"));
});

Deno.test("normalDraw() has mean 0 and variance 1 and is finite at u = 0", () => {
  const random = mulberry32(3);
  let sum = 0;
  let sumSq = 0;
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const z = normalDraw(random);
    sum += z;
    sumSq += z * z;
  }
  // sd of the mean 1/√n ≈ 4.5e-3, of the variance √(2/n) ≈ 6.3e-3: 5 sd each.
  assert.ok(Math.abs(sum / n) < 0.023, `mean ${sum / n}`);
  assert.ok(Math.abs(sumSq / n - 1) < 0.032, `variance ${sumSq / n}`);
  // A generator that returns 0 (the lowest uniform) still gives a finite draw: u₁ = 1 − 0 = 1,
  // z = ±0 (=== ignores the sign of zero); ln 0 would give an infinite draw.
  assert.ok(normalDraw(() => 0) === 0);
});
