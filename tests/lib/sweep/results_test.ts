import assert from "node:assert/strict";
import { openResultsLog, parseResults, type ResultRecord } from "../../../lib/sweep/results.ts";

function record(key: string, loss = 3): ResultRecord {
  return {
    key,
    budget_flops: 1e11,
    size: 32,
    N: 1e4,
    D: 1e6,
    C: 1e11,
    loss,
    wall_s: 1,
    worker: "test",
    finished_at: "2026-01-01T00:00:00.000Z",
  };
}

Deno.test("openResultsLog() appends lines that a reopen reads back, in order", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/results.jsonl`;
  const log = await openResultsLog(path);
  assert.equal(await log.append(record("a")), true);
  assert.equal(await log.append(record("b")), true);
  log.close();
  const again = await openResultsLog(path);
  assert.deepEqual([...again.records.keys()], ["a", "b"]);
  assert.equal(again.tornLine, false);
  again.close();
});

Deno.test("openResultsLog() refuses a key that is already recorded", async () => {
  const dir = await Deno.makeTempDir();
  const log = await openResultsLog(`${dir}/r.jsonl`);
  await log.append(record("a", 3));
  assert.equal(await log.append(record("a", 2)), false);
  log.close();
  const text = await Deno.readTextFile(`${dir}/r.jsonl`);
  assert.equal(text.trim().split("\n").length, 1);
});

Deno.test("openResultsLog() ignores a torn last line and truncates it before appending", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/results.jsonl`;
  const good = JSON.stringify(record("a")) + "\n";
  const torn = JSON.stringify(record("b")).slice(0, 40); // a write cut short by a crash
  await Deno.writeTextFile(path, good + torn);
  const log = await openResultsLog(path);
  assert.equal(log.tornLine, true);
  assert.deepEqual([...log.records.keys()], ["a"]);
  await log.append(record("c"));
  log.close();
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((l) => JSON.parse(l).key), ["a", "c"]);
});

Deno.test("parseResults() reports a complete but invalid middle line by number and reads on", () => {
  const bytes = new TextEncoder().encode(
    JSON.stringify(record("a")) + "\n" + '{"key":"x","N":"NaN"}\n' + JSON.stringify(record("b")) +
      "\n",
  );
  const parsed = parseResults(bytes);
  assert.deepEqual(parsed.records.map((r) => r.key), ["a", "b"]);
  assert.equal(parsed.tornLine, false);
  assert.deepEqual(parsed.rejected.map((r) => [r.line, r.text]), [[2, '{"key":"x","N":"NaN"}']]);
  assert.equal(parsed.validBytes, bytes.length);
});

Deno.test("openResultsLog() moves a corrupt middle line aside and keeps the results after it", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/results.jsonl`;
  const lines = [
    JSON.stringify(record("a")),
    '{"key": "garbled", "N": 1, "D"', // a complete line, not a killed write
    JSON.stringify(record("b")),
    "not json at all",
    JSON.stringify(record("c")),
  ];
  const torn = JSON.stringify(record("d")).slice(0, 30);
  await Deno.writeTextFile(path, lines.join("\n") + "\n" + torn);
  const log = await openResultsLog(path);
  assert.deepEqual([...log.records.keys()], ["a", "b", "c"]);
  assert.deepEqual(log.rejected.map((r) => r.line), [2, 4]);
  assert.equal(log.tornLine, true);
  assert.equal(log.rejectedPath, `${dir}/results.rejected.jsonl`);
  await log.append(record("e"));
  log.close();
  // The log holds the valid lines only, then the new one; the rejected lines are kept aside.
  const kept = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l).key);
  assert.deepEqual(kept, ["a", "b", "c", "e"]);
  const aside = (await Deno.readTextFile(log.rejectedPath)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(aside, [{ line: 2, text: lines[1] }, { line: 4, text: lines[3] }]);
  // Reopening finds nothing more to set aside.
  const again = await openResultsLog(path);
  assert.equal(again.rejected.length, 0);
  assert.equal(again.records.size, 4);
  again.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("parseResults() reads an empty file as no records", () => {
  const parsed = parseResults(new Uint8Array());
  assert.equal(parsed.records.length, 0);
  assert.equal(parsed.tornLine, false);
});

Deno.test("openResultsLog() keeps concurrent appends on separate lines", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/r.jsonl`;
  const log = await openResultsLog(path);
  await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(record(`k${i}`))));
  log.close();
  const parsed = parseResults(await Deno.readFile(path));
  assert.equal(parsed.records.length, 50);
  assert.equal(parsed.tornLine, false);
});
