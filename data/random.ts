/**
 * Seeded pseudo-random numbers for shuffles, augmentation and synthetic data.
 *
 * Everything that is "random" in `data/` derives from these so that the same seed gives the
 * same bytes on every machine. Not cryptographic.
 *
 * @module
 */
import { mulberry32 } from "../lib/random.ts";

/**
 * Mix integers into one 32-bit seed (murmur3's finaliser applied after each word), so that
 * `(seed, epoch)` or `(seed, position)` pairs give unrelated streams.
 *
 * @param words Integers to mix (each taken modulo 2^32).
 * @returns An unsigned 32-bit seed.
 */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const word of words) {
    // Split past 2^32 so large positions do not collide after truncation.
    const lo = word >>> 0;
    const hi = Math.floor(word / 4294967296) >>> 0;
    for (const part of [lo, hi]) {
      h = Math.imul(h ^ part, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
  }
  return h >>> 0;
}

/**
 * A seeded generator of uniform numbers in [0, 1) (mulberry32: 32-bit state, period 2^32).
 *
 * @param seed Any integer.
 * @returns A function returning the next number of the stream.
 *
 * @example
 * ```ts
 * import { rng } from "./random.ts";
 * const a = rng(7), b = rng(7);
 * if (a() !== b()) throw new Error("not deterministic");
 * ```
 */
export function rng(seed: number): () => number {
  return mulberry32(seed);
}

/**
 * A seeded uniformly random permutation of `0 … n-1` (Fisher–Yates).
 *
 * @param n Length.
 * @param seed Seed of the shuffle.
 * @returns The permutation.
 */
export function permutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  const next = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}
