import assert from "node:assert/strict";
import { planAdaptive } from "../../../lib/plan/adaptive.ts";
import { planAdaptiveJob } from "../../../lib/plan/adaptive_job.ts";
import { describeFamily, familyForSweep } from "../../../lib/plan/study.ts";

const results = [1e11, 1e12].flatMap((C) =>
  [0.25, 0.5, 1, 2, 4].map((f) => {
    const N = (C === 1e11 ? 2e4 : 5e4) * f;
    return { N, D: C / (6 * N), C, loss: 3 - Math.log10(C) * 0.1 + 0.05 * Math.log(f) ** 2 };
  })
);

Deno.test("planAdaptiveJob() plans from plain data exactly as planAdaptive() from the family", () => {
  const options = {
    dataset: "synthetic-text",
    results,
    targetBudget: 1e14,
    bootstrap: 20,
    hyper: { lr: 1e-3 },
    model: { context: 64 },
  };
  const expected = planAdaptive({
    ...options,
    family: familyForSweep("gpt", { model: options.model, params: "total" }),
  });
  assert.deepEqual(planAdaptiveJob({ ...options, family: "gpt", params: "total" }), expected);
  // A family table (structured-cloneable) plans the same as its name.
  const table = describeFamily("gpt", { model: options.model });
  assert.deepEqual(
    planAdaptiveJob({ ...options, family: table, params: "total" }),
    expected,
  );
});
