import assert from "node:assert/strict";
import { gpt, gptForwardMacs, gptParams } from "../../models/gpt.ts";
import { vit, vitForwardMacs, vitParams } from "../../models/vit.ts";
import { sixNFlopsPerSample } from "../../models/family.ts";

// Closed forms for mlp_ratio 4 (M = 4C), written independently of models/layers.ts:
// block params 12C² + 13C; block MACs over T tokens 12·T·C² + 2·T²·C.

Deno.test("vitParams() matches the closed form at several sizes", () => {
  for (
    const [d, depth, heads, patch] of [[16, 2, 2, 4], [64, 4, 4, 4], [96, 3, 6, 8], [128, 6, 8, 2]]
  ) {
    const c = vit.resolveConfig({ size: d, config: { depth, heads, patch_size: patch } });
    const n = (32 / patch) ** 2;
    const pd = 3 * patch * patch;
    const expected = pd * d + d + d + (n + 1) * d + depth * (12 * d * d + 13 * d) + 2 * d +
      10 * d + 10;
    assert.equal(vitParams(c).total, expected, `embed ${d}`);
    assert.equal(vitParams(c).nonEmbedding, expected - d - (n + 1) * d);
  }
});

Deno.test("vit.trainingFlopsPerSample() is 6 × the closed-form forward MACs", () => {
  for (const [d, depth, heads, patch] of [[16, 2, 2, 4], [64, 4, 4, 4], [96, 3, 6, 8]]) {
    const c = vit.resolveConfig({ size: d, config: { depth, heads, patch_size: patch } });
    const n = (32 / patch) ** 2;
    const t = n + 1;
    const macs = n * 3 * patch * patch * d + depth * (12 * t * d * d + 2 * t * t * d) + d * 10;
    assert.equal(vitForwardMacs(c), macs);
    assert.equal(vit.trainingFlopsPerSample(c), 6 * macs);
  }
});

Deno.test("gptParams() matches the closed form, tied and untied", () => {
  for (
    const [d, depth, heads, ctx] of [[16, 2, 2, 16], [64, 2, 2, 64], [128, 4, 4, 128], [
      192,
      3,
      6,
      32,
    ]]
  ) {
    const tied = gpt.resolveConfig({ size: d, config: { depth, heads, context: ctx } });
    const base = 256 * d + ctx * d + depth * (12 * d * d + 13 * d) + 2 * d;
    assert.equal(gptParams(tied).total, base);
    assert.equal(gptParams(tied).nonEmbedding, base - 256 * d - ctx * d);
    const untied = gpt.resolveConfig({
      size: d,
      config: { depth, heads, context: ctx, tie_embeddings: false },
    });
    assert.equal(gptParams(untied).total, base + d * 256 + 256);
  }
});

Deno.test("gpt.trainingFlopsPerSample() is 6 × the closed-form forward MACs per sequence", () => {
  for (const [d, depth, ctx] of [[16, 2, 16], [128, 4, 128], [192, 3, 32]]) {
    const c = gpt.resolveConfig({ size: d, config: { depth, heads: 2, context: ctx } });
    const macs = depth * (12 * ctx * d * d + 2 * ctx * ctx * d) + ctx * d * 256;
    assert.equal(gptForwardMacs(c), macs);
    assert.equal(gpt.trainingFlopsPerSample(c), 6 * macs);
    assert.equal(gpt.tokensPerSample(c), ctx);
  }
});

Deno.test("counters reproduce the PyTorch reference models (../shared/reference)", () => {
  // Parameter counts printed by vit_torch.py a/b and gpt_torch.py; MACs from their formulas.
  const a = vit.resolveConfig({ size: 64 });
  const b = vit.resolveConfig({ size: 128 });
  const g = gpt.resolveConfig({ size: 128, config: { tie_embeddings: false } });
  assert.deepEqual([a.depth, a.heads, b.depth, b.heads, g.depth, g.heads], [4, 4, 6, 8, 4, 4]);
  assert.equal(vitParams(a).total, 208_074);
  assert.equal(vitParams(b).total, 1_205_898);
  assert.equal(gptParams(g).total, 875_520);
  const refVit = (d: number, l: number) =>
    64 * 48 * d + l * (65 * d * 3 * d + 2 * 65 * 65 * d + 65 * d * d + 65 * d * 4 * d * 2) + d * 10;
  assert.equal(vit.trainingFlopsPerSample(a), 6 * refVit(64, 4));
  assert.equal(vit.trainingFlopsPerSample(b), 6 * refVit(128, 6));
  const [t, d, l] = [128, 128, 4];
  const refGpt = l * (t * d * 3 * d + 2 * t * t * d + t * d * d + 8 * t * d * d) + t * d * 256;
  assert.equal(gpt.trainingFlopsPerSample(g), 6 * refGpt);
});

Deno.test("sixNFlopsPerSample() uses non-embedding params × tokens per sample", () => {
  const c = gpt.resolveConfig({ size: 64, config: { context: 32 } });
  assert.equal(sixNFlopsPerSample(gptParams(c), 32), 6 * gptParams(c).nonEmbedding * 32);
});

Deno.test("sincos position embeddings have no trainable parameters", () => {
  const learned = vit.resolveConfig({ size: 32 });
  const fixed = vit.resolveConfig({ size: 32, config: { pos_embedding: "sincos" } });
  assert.equal(vitParams(learned).total - vitParams(fixed).total, 65 * 32);
  assert.equal(vitParams(learned).nonEmbedding, vitParams(fixed).nonEmbedding);
});
