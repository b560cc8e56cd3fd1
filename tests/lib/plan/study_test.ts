import assert from "node:assert/strict";
import { gptParams, gptSizeRule } from "../../../models/gpt.ts";
import { CANDIDATE_SIZES, familyForSweep } from "../../../lib/plan/study.ts";

Deno.test("familyForSweep() lists buildable GPT sizes with the registry's exact counts", () => {
  const family = familyForSweep("gpt", { model: { context: 16 }, params: "total" });
  assert.equal(family.sizeParam, "d_model");
  assert.equal(family.unitsPerSample, 16);
  const d32 = family.sizes.find((s) => s.size === 32)!;
  const config = {
    ...gptSizeRule(32),
    context: 16,
    mlp_ratio: 4,
    vocab_size: 256,
    tie_embeddings: true,
  };
  assert.equal(d32.params, gptParams(config).total);
  for (let i = 1; i < family.sizes.length; i++) {
    assert.ok(family.sizes[i]!.params > family.sizes[i - 1]!.params, "ascending in params");
  }
  assert.ok(family.sizes.every((s) => CANDIDATE_SIZES.includes(s.size)));
});

Deno.test("familyForSweep() uses images as ViT's D and rejects unknown families", () => {
  assert.equal(familyForSweep("vit").dataUnit, "images");
  assert.equal(familyForSweep("vit").unitsPerSample, 1);
  assert.throws(() => familyForSweep("rnn"), /Unknown model family "rnn"/);
});
