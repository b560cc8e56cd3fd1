/**
 * The GPT's default tokeniser: byte-level, vocabulary 256 — a token is one byte of the UTF-8
 * text, so every string round-trips exactly and no vocabulary file is needed.
 *
 * @module
 */

/** Vocabulary size of the byte-level tokeniser. */
export const BYTE_VOCAB_SIZE = 256;

/** Name of the byte-level tokeniser in dataset metadata. */
export const BYTE_TOKENIZER = "byte";

/**
 * Text → token ids (its UTF-8 bytes).
 *
 * @param text Any string.
 * @returns Token ids in `[0, 256)`.
 *
 * @example
 * ```ts
 * import { detokenize, tokenize } from "./tokenizer.ts";
 * if (detokenize(tokenize("héllo")) !== "héllo") throw new Error("no round trip");
 * ```
 */
export function tokenize(text: string): Int32Array {
  return Int32Array.from(new TextEncoder().encode(text));
}

/**
 * Token ids → text (invalid UTF-8 sequences become U+FFFD).
 *
 * @param tokens Ids in `[0, 256)`.
 * @returns The decoded text.
 * @throws {RangeError} An id outside the vocabulary.
 */
export function detokenize(tokens: ArrayLike<number>): string {
  const bytes = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t >= BYTE_VOCAB_SIZE) {
      throw new RangeError(`Token ${t} at ${i} is outside the byte vocabulary [0, 256).`);
    }
    bytes[i] = t;
  }
  return new TextDecoder().decode(bytes);
}
