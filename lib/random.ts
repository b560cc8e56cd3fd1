/**
 * The project's one seeded uniform generator, shared by the bootstrap, the datasets, the model
 * initialisers and the sweep's mock law, so that every seeded result is reproducible across
 * platforms and backends.
 *
 * @module
 */

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, period 2^32, uniforms in [0, 1) with 32 bits each.
 *
 * Method: `s ← s + 0x6d2b79f5 (mod 2^32)`, then two xorshift-multiply rounds of `s` give `t`,
 * and the draw is `(t ^ (t >>> 14)) / 2^32`. Small and fast; adequate for shuffles, resampling
 * indices and weight initialisation, not for cryptography.
 *
 * @param seed Any number; its low 32 bits (as `>>> 0`) are the initial state.
 * @returns A function returning the next draw of the stream.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./random.ts";
 * const a = mulberry32(7), b = mulberry32(7);
 * if (a() !== b()) throw new Error("not deterministic");
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
