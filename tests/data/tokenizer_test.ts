import assert from "node:assert/strict";
import { BYTE_VOCAB_SIZE, detokenize, tokenize } from "../../data/tokenizer.ts";

Deno.test("tokenize() is UTF-8 bytes and detokenize() inverts it", () => {
  assert.deepEqual([...tokenize("Aé")], [65, 0xc3, 0xa9]);
  for (const s of ["", "Once upon a time", "naïve — 🐈", "<|endoftext|>\n"]) {
    assert.equal(detokenize(tokenize(s)), s);
  }
  assert.equal(BYTE_VOCAB_SIZE, 256);
});

Deno.test("detokenize() rejects ids outside the byte vocabulary", () => {
  assert.throws(() => detokenize([65, 256]), RangeError);
  assert.throws(() => detokenize([-1]), RangeError);
});
