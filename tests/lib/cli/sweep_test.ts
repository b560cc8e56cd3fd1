import assert from "node:assert/strict";
import { main, wantsQueueMode } from "../../../lib/cli/sweep.ts";

Deno.test("wantsQueueMode() sees --queue, --queue=URL and --status", () => {
  assert.equal(wantsQueueMode(["--mock"]), false);
  assert.equal(wantsQueueMode(["--mock", "--queue", "postgres://h/d"]), true);
  assert.equal(wantsQueueMode(["--queue=postgres://h/d"]), true);
  assert.equal(wantsQueueMode(["--status"]), true);
});

Deno.test("main() answers --help with the plain sweep's usage, loading no queue", async () => {
  const log = console.log;
  const lines: string[] = [];
  console.log = (text: string) => lines.push(text);
  try {
    assert.equal(await main(["--help"]), 0);
  } finally {
    console.log = log;
  }
  assert.match(lines.join("\n"), /deno task sweep \[options\]/);
});
