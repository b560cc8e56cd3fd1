/**
 * The project's one seeded uniform generator, shared by the bootstrap, the datasets, the model
 * initialisers and the sweep's mock law, so that every seeded result is reproducible across
 * platforms and backends; with the normal draw and the string hash the sweep seeds from.
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

/**
 * A standard normal draw from a uniform generator (Box–Muller, cosine branch):
 * z = √(−2·ln u₁)·cos(2π·u₂), u₁ = 1 − U ∈ (0, 1], u₂ = U, two draws per sample.
 *
 * @param random Uniform generator on [0, 1), e.g. {@linkcode mulberry32}.
 * @returns One N(0, 1) sample.
 *
 * @example
 * ```ts
 * import { mulberry32, normalDraw } from "./random.ts";
 * const z = normalDraw(mulberry32(7));
 * if (!Number.isFinite(z)) throw new Error("not finite");
 * ```
 */
export function normalDraw(random: () => number): number {
  const u = 1 - random(); // in (0, 1], so the log is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/**
 * A stable 32-bit hash of a string (FNV-1a: h ← (h ⊕ code unit)·16777619 mod 2^32 from the offset
 * basis 2166136261, over UTF-16 code units), for seeding per-point noise and keys.
 *
 * @param text Any string.
 * @returns An unsigned 32-bit integer.
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
