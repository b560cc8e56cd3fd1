import assert from "node:assert/strict";
import { fieldPath, FlopsFitError, LimitExceededError } from "../../lib/errors.ts";
import { markdownTable } from "../../lib/markdown.ts";
import { median } from "../../lib/stats.ts";

Deno.test("median() is the middle value, or the mean of the middle two", () => {
  assert.equal(median([5]), 5);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const values = [9, 1, 8, 2];
  median(values);
  assert.deepEqual(values, [9, 1, 8, 2]); // the input is not sorted in place
});

Deno.test("markdownTable() writes a header, a rule and one row per entry", () => {
  assert.equal(
    markdownTable(["C", "N"], [["1e18", "2e8"], ["1e19", "5e8"]]),
    "| C | N |\n| --- | --- |\n| 1e18 | 2e8 |\n| 1e19 | 5e8 |",
  );
  assert.equal(markdownTable(["only"], []), "| only |\n| --- |");
});

Deno.test("fieldPath() writes zod paths as the fields problems name", () => {
  assert.equal(fieldPath(["points", 3, "N"]), "points[3].N");
  assert.equal(fieldPath(["budget", "steps"]), "budget.steps");
  assert.equal(fieldPath([]), "(body)");
});

Deno.test("FlopsFitError carries status, field and a named limit; LimitExceededError fills them", () => {
  const plain = new FlopsFitError("no.", { field: "x" });
  assert.equal(plain.status, 422);
  assert.equal(plain.limit, undefined);
  const limit = new LimitExceededError({
    name: "max_train_flops",
    value: 1e12,
    actual: 3e12,
    field: "budget.steps",
  });
  assert.ok(limit instanceof FlopsFitError);
  assert.equal(limit.status, 422);
  assert.equal(limit.field, "budget.steps");
  assert.deepEqual(limit.limit, { name: "max_train_flops", value: 1e12, actual: 3e12 });
  assert.equal(
    limit.message,
    "budget.steps: over the limit max_train_flops = 1000000000000 (got 3000000000000).",
  );
  assert.equal(
    new LimitExceededError({ name: "max_body_bytes", value: 1, status: 413 }).status,
    413,
  );
});
