import assert from "node:assert/strict";
import { BACKEND_CANDIDATES } from "../../../lib/backend/select.ts";
import { planTraining } from "../../../lib/train/run_plan.ts";
import { TrainInputError } from "../../../lib/train/errors.ts";
import { TrainRequestSchema } from "../../../lib/train/request.ts";
import type { Dataset } from "../../../data/types.ts";
import { resolveTiny, TINY_DATASETS } from "./_tiny_data.ts";

const base = {
  family: "gpt",
  size: 16,
  config: { context: 16 },
  dataset: "tiny-text",
  budget: { steps: 3 },
  batch_size: 8,
};

function plan(
  body: Record<string, unknown>,
  options: { budgetBytes?: number } = {},
) {
  return planTraining(TrainRequestSchema.parse({ ...base, ...body }), {
    resolveDataset: resolveTiny,
    activationBudgetBytes: options.budgetBytes,
  });
}

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TrainInputError, String(e));
    return e.field;
  }
  return "no error";
}

Deno.test("planTraining() converts each budget kind into whole steps with the exact FLOPs", () => {
  const p = plan({});
  const perStep = p.flopsPerSample * 8;
  assert.equal(p.steps, 3);
  // The plan's FLOPs are what the service checks against its cap: whole steps, exactly.
  assert.equal(p.flops, 3 * perStep);
  assert.equal(p.budgetField, "budget.steps");
  assert.equal(plan({ budget: { tokens: 16 * 8 * 7 } }).budgetField, "budget.tokens");
  assert.equal(plan({ budget: { flops: perStep * 5 } }).steps, 5);
  assert.equal(plan({ budget: { flops: perStep * 5.9 } }).steps, 5);
  assert.equal(plan({ budget: { samples: 41 } }).steps, 5);
  assert.equal(plan({ budget: { tokens: 16 * 8 * 7 } }).steps, 7);
  assert.equal(p.tokensPerSample, 16);
  assert.equal(p.evalSplit, "validation");
  assert.equal(plan({ family: "vit", dataset: "tiny-images", config: {} }).evalSplit, "test");
});

Deno.test("planTraining() refuses, naming the field, what cannot run", () => {
  assert.equal(fieldOf(() => plan({ family: "resnet" })), "family");
  assert.equal(fieldOf(() => plan({ dataset: "nope" })), "dataset");
  assert.equal(fieldOf(() => plan({ dataset: "tiny-images" })), "dataset");
  assert.equal(
    fieldOf(() => plan({ dataset: { name: "tiny-text", split: "dev" } })),
    "dataset.split",
  );
  assert.equal(fieldOf(() => plan({ config: { heads: 3 } })), "config.heads");
  assert.equal(fieldOf(() => plan({ budget: { flops: 10 } })), "budget.flops");
  assert.equal(fieldOf(() => plan({ micro_batch_size: 3 })), "micro_batch_size");
  assert.equal(fieldOf(() => plan({ eval: { split: "dev" } })), "eval.split");
});

Deno.test("planTraining() micro-batches to fit the backend's memory, or says it cannot", () => {
  const perSample = plan({}).family.activationBytesPerSample(plan({}).config);
  assert.equal(plan({}).microBatchSize, 8);
  assert.equal(plan({}, { budgetBytes: perSample * 5 }).microBatchSize, 4);
  assert.equal(plan({}, { budgetBytes: perSample * 1.5 }).microBatchSize, 1);
  assert.equal(fieldOf(() => plan({}, { budgetBytes: perSample / 2 })), "size");
  assert.equal(
    fieldOf(() => plan({ micro_batch_size: 8 }, { budgetBytes: perSample * 4 })),
    "micro_batch_size",
  );
});

const wasm = BACKEND_CANDIDATES.find((c) => c.name === "wasm")!;

Deno.test("planTraining() micro-batches ViT(128, depth 6) at batch 128 under wasm's 2 GiB heap", () => {
  const images: Dataset = {
    ...TINY_DATASETS["tiny-images"]!,
    info: {
      ...TINY_DATASETS["tiny-images"]!.info,
      image: { height: 32, width: 32, channels: 3, classes: "0123456789".split("") },
    },
  };
  const p = planTraining(
    TrainRequestSchema.parse({
      family: "vit",
      size: 128,
      dataset: "cifar-like",
      budget: { steps: 1 },
      batch_size: 128,
    }),
    { resolveDataset: () => images, activationBudgetBytes: wasm.activationBudgetBytes },
  );
  assert.equal(p.microBatchSize, 32); // ≈ 40 MB per image: 32 × 40 MB fits, 64 × 40 MB does not
  assert.equal(p.params.total, 1_205_898);
});

Deno.test("TrainRequestSchema refuses absurd learning rates and double budgets", () => {
  for (const lr of [-1, 0, 5]) {
    assert.equal(TrainRequestSchema.safeParse({ ...base, lr }).success, false);
  }
  assert.equal(
    TrainRequestSchema.safeParse({ ...base, budget: { steps: 1, flops: 1 } }).success,
    false,
  );
  assert.equal(TrainRequestSchema.safeParse({ ...base, budget: {} }).success, false);
  assert.equal(TrainRequestSchema.safeParse({ ...base, batch_szie: 3 }).success, false);
});
