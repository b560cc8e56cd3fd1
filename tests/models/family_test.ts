import assert from "node:assert/strict";
import { checkBlockWidths, ConfigError, resolveSize } from "../../models/family.ts";

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("no ConfigError");
}

Deno.test("resolveSize() takes size or the config field, and refuses a missing, contradicted or small one", () => {
  assert.equal(resolveSize({ size: 64 }, "d_model", "GPT"), 64);
  assert.equal(resolveSize({ config: { d_model: 32 } }, "d_model", "GPT"), 32);
  assert.equal(resolveSize({ size: 32, config: { d_model: 32 } }, "d_model", "GPT"), 32);
  const contradicted = refusal(() =>
    resolveSize({ size: 64, config: { d_model: 32 } }, "d_model", "GPT")
  );
  assert.equal(contradicted.field, "size");
  assert.match(contradicted.message, /size 64 contradicts config\.d_model 32/);
  assert.match(refusal(() => resolveSize({}, "embed_dim", "ViT")).message, /the ViT embed_dim/);
  assert.match(
    refusal(() => resolveSize({ size: 3 }, "d_model", "GPT")).message,
    /integer ≥ 4, got 3/,
  );
  assert.match(refusal(() => resolveSize({ size: 8.5 }, "d_model", "GPT")).message, /got 8\.5/);
});

Deno.test("checkBlockWidths() names heads that do not divide the width, then a fractional MLP width", () => {
  checkBlockWidths({ width: 64, heads: 4, mlpRatio: 4 }, "d_model");
  const heads = refusal(() => checkBlockWidths({ width: 64, heads: 3, mlpRatio: 4 }, "d_model"));
  assert.equal(heads.field, "heads");
  assert.match(heads.message, /d_model 64 is not divisible by heads 3/);
  const mlp = refusal(() => checkBlockWidths({ width: 10, heads: 2, mlpRatio: 0.25 }, "embed_dim"));
  assert.equal(mlp.field, "mlp_ratio");
  assert.match(mlp.message, /mlp_ratio × embed_dim must be an integer/);
});
