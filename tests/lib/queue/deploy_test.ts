/**
 * The deploy files run the worker with flags it accepts, and read the connection string from the
 * environment (a Secret), never from the command line where `ps` would show it.
 */
import assert from "node:assert/strict";
import { parseWorkerArgs } from "../../../lib/queue/worker_cli.ts";

const root = new URL("../../../deploy/", import.meta.url);

Deno.test("compose and k8s start `deno task worker` with valid flags and FLOPS_FIT_QUEUE", async () => {
  const files = {
    compose: await Deno.readTextFile(new URL("compose.yaml", root)),
    k8s: await Deno.readTextFile(new URL("k8s.yaml", root)),
  };
  for (const [name, text] of Object.entries(files)) {
    const match = text.match(/(?:command|args): (\[[^\]]*"worker"[^\]]*\])/);
    assert.ok(match, `${name}: no worker command`);
    const [task, worker, ...flags] = JSON.parse(match[1]!) as string[];
    assert.deepEqual([task, worker], ["task", "worker"]);
    const parsed = parseWorkerArgs(
      flags,
      (v) => v === "FLOPS_FIT_QUEUE" ? "postgres://h/d" : undefined,
    );
    assert.equal(parsed.url, "postgres://h/d");
    assert.ok(!flags.includes("--queue"), `${name}: the connection string is on the command line`);
    assert.match(text, /FLOPS_FIT_QUEUE/);
  }
  const keda = await Deno.readTextFile(new URL("k8s-keda.yaml", root));
  assert.match(keda, /name = 'flops-fit-points'/);
});
