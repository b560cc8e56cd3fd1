import assert from "node:assert/strict";
import { parsePointsCsv } from "../../../lib/fit/csv.ts";
import { FitInputError } from "../../../lib/fit/errors.ts";

function refuses(text: string, field: string, message: RegExp, max = 100): void {
  assert.throws(() => parsePointsCsv(text, max), (e: unknown) => {
    assert.ok(e instanceof FitInputError, String(e));
    assert.equal(e.field, field);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("parsePointsCsv() reads N,D,loss[,C][,budget] in any order with comments, CRLF and BOM", () => {
  const text =
    "\uFEFF# runs\r\nloss,N,D,C,budget\r\n3.5,1e6,2e7,1.2e14,small\r\n\r\n3.1,2e6,2e7,,\r\n";
  const { points, lines } = parsePointsCsv(text, 10);
  assert.deepEqual(points, [
    { loss: 3.5, N: 1e6, D: 2e7, C: 1.2e14, budget: "small" },
    { loss: 3.1, N: 2e6, D: 2e7 },
  ]);
  assert.deepEqual(lines, [3, 5]);
});

Deno.test("parsePointsCsv() names the line and column of every malformed cell", () => {
  refuses("", "csv", /empty/);
  refuses("N,D\n1,2\n", "csv line 1", /lacks column "loss"/);
  refuses("N,D,loss,x\n", "csv line 1", /unknown column "x"/);
  refuses("N,D,loss,N\n", "csv line 1", /repeated/);
  refuses("N,D,loss\n1,2,3\n4,5\n", "csv line 3", /2 cell\(s\), the header has 3/);
  refuses("N,D,loss\n1,2,abc\n", "csv line 2 column loss", /"abc" is not a finite number/);
  refuses("N,D,loss\n1,NaN,3\n", "csv line 2 column D", /not a finite number/);
  refuses("N,D,loss\nInfinity,2,3\n", "csv line 2 column N", /not a finite number/);
  refuses("N,D,loss\n,2,3\n", "csv line 2 column N", /not a finite number/);
});

Deno.test("parsePointsCsv() stops at the point limit with a 413", () => {
  const text = "N,D,loss\n" + "1,2,3\n".repeat(1000);
  assert.throws(() => parsePointsCsv(text, 10), (e: unknown) => {
    assert.ok(e instanceof FitInputError);
    assert.equal(e.status, 413);
    assert.deepEqual(e.limit, { name: "max_fit_points", value: 10 });
    return true;
  });
});
