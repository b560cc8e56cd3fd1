import assert from "node:assert/strict";
import {
  FamilyDescriptionError,
  familyFromDescription,
  parseFamilyDescription,
  tableDifference,
} from "../../../lib/plan/family_description.ts";
import { describeFamily, familyForSweep } from "../../../lib/plan/study.ts";

const table = {
  name: "m",
  size_param: "hidden",
  data_unit: "samples",
  units_per_sample: 1,
  sizes: [
    { size: 8, params: 100, flops_per_sample: 600, non_embedding_params: 60 },
    { size: 16, params: 400, flops_per_sample: 2400, non_embedding_params: 300 },
  ],
};

Deno.test("parseFamilyDescription() accepts a valid table and names the first bad field", () => {
  assert.equal(parseFamilyDescription(table, "t").sizes.length, 2);
  const bad: [unknown, RegExp][] = [
    [{ ...table, sizes: [] }, /at sizes:/],
    [{ ...table, units_per_sample: 0 }, /at units_per_sample:/],
    [{ ...table, data_unit: "pixels" }, /at data_unit:/],
    [{ ...table, sizes: [{ ...table.sizes[0], params: -1 }] }, /at sizes\[0\]\.params:/],
    [{ ...table, sizes: [{ ...table.sizes[0], flops_per_sample: Infinity }] }, /sizes\[0\]\.flops/],
    [
      { ...table, sizes: [table.sizes[0], table.sizes[0]] },
      /sizes\[1\]\.size: sizes must be ascending/,
    ],
    [{ ...table, extra: 1 }, /at \(root\)|extra/],
    ["gpt", /at \(root\)/],
  ];
  for (const [value, message] of bad) {
    assert.throws(
      () => parseFamilyDescription(value, "a test"),
      (e: Error) => e instanceof FamilyDescriptionError && message.test(e.message),
      JSON.stringify(value),
    );
  }
});

Deno.test("familyFromDescription() takes N from non_embedding_params only when every row has it", () => {
  const parsed = parseFamilyDescription(table, "t");
  assert.deepEqual(
    familyFromDescription(parsed, { params: "non_embedding" }).sizes.map((s) => s.params),
    [60, 300],
  );
  assert.deepEqual(familyFromDescription(parsed).sizes.map((s) => s.params), [100, 400]);
  const partial = parseFamilyDescription({
    ...table,
    sizes: [table.sizes[0], { size: 16, params: 400, flops_per_sample: 2400 }],
  }, "t");
  assert.deepEqual(
    familyFromDescription(partial, { params: "non_embedding" }).sizes.map((s) => s.params),
    [100, 400],
  );
  assert.equal(familyFromDescription(parsed).dataUnit, "samples");
});

Deno.test("tableDifference() names the first difference the planner would see", () => {
  const a = parseFamilyDescription(table, "t");
  assert.equal(tableDifference(a, structuredClone(a)), undefined);
  const b = structuredClone(a);
  b.sizes[1]!.flops_per_sample = 2401;
  assert.equal(tableDifference(a, b), "sizes[1].flops_per_sample 2400 ≠ 2401");
  assert.equal(tableDifference(a, { ...a, units_per_sample: 2 }), "units_per_sample 1 ≠ 2");
  // A per-size config is informative only.
  const c = structuredClone(a);
  c.sizes[0]!.config = { depth: 2 };
  assert.equal(tableDifference(a, c), undefined);
});

Deno.test("the registry's table is a valid FamilyDescription and familyForSweep() reads it", () => {
  for (const name of ["gpt", "vit"]) {
    const described = parseFamilyDescription(describeFamily(name), "models/");
    assert.deepEqual(
      familyForSweep(name),
      familyFromDescription(described, { params: "non_embedding" }),
    );
  }
});
