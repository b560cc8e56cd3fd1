import assert from "node:assert/strict";
import { ENV_VARS } from "../../../lib/service/config.ts";
import { envVarsTable, replaceGenerated, sweepFlagsTable } from "../../../lib/docs/tables.ts";
import { updateDocs } from "../../../lib/docs/generate.ts";

Deno.test("envVarsTable() lists every variable with its schema default and meaning", () => {
  const table = envVarsTable();
  const rows = table.split("\n").slice(2);
  assert.equal(rows.length, Object.keys(ENV_VARS).length);
  assert.match(table, /\| `PORT` \| 8000 \| TCP port to serve on\. \|/);
  assert.match(table, /\| `FLOPS_FIT_MAX_TRAIN_FLOPS` \| 1e15 \|/);
  assert.match(table, /\| `FLOPS_FIT_TOKEN` \| unset \|/);
  for (const row of rows) assert.doesNotMatch(row, /\|\s*\|$/, `a meaning is missing: ${row}`);
});

Deno.test("sweepFlagsTable() reads every flag of the usage text", () => {
  const usage = "x\n\n  --out DIR     output directory\n  --mock        instantly\n" +
    "  -h, --help    this text\nnot a flag\n";
  assert.equal(
    sweepFlagsTable(usage),
    "| flag | meaning |\n| --- | --- |\n| `--out DIR` | output directory |\n" +
      "| `--mock` | instantly |\n| `-h, --help` | this text |",
  );
  assert.match(sweepFlagsTable(), /`--budgets C1,C2,\.\.\.`/);
});

Deno.test("sweepFlagsTable() joins a meaning's continuation lines to it", () => {
  const usage =
    "  --adaptive    train in rounds\n                (see docs)\n  --mock        instantly\n";
  assert.equal(
    sweepFlagsTable(usage),
    "| flag | meaning |\n| --- | --- |\n| `--adaptive` | train in rounds (see docs) |\n" +
      "| `--mock` | instantly |",
  );
});

Deno.test("replaceGenerated() rewrites only the named section, and says when one is missing", () => {
  const doc = "a\n<!-- generated:x -->\nold\n<!-- /generated:x -->\nb\n";
  assert.equal(
    replaceGenerated(doc, { x: "new" }),
    "a\n<!-- generated:x -->\nnew\n<!-- /generated:x -->\nb\n",
  );
  assert.throws(() => replaceGenerated(doc, { y: "new" }), /generated:y/);
});

Deno.test("the README's and docs/' generated tables match the code (run `deno task docs`)", async () => {
  assert.deepEqual(await updateDocs(false), []);
});
