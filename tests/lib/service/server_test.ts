import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/service/config.ts";
import { fitPoolFromConfig } from "../../../lib/service/job_pool.ts";
import { startServer } from "../../../lib/service/server.ts";
import { trainingPoolFromConfig } from "../../../lib/service/training_pool.ts";
import { createApp } from "../../../routes/mod.ts";
import { fitPayload } from "../../bench/load.ts";
import { testApp } from "./fixtures/test_app.ts";

function serve(graceS: number) {
  const { app, pool } = testApp();
  const lines: string[] = [];
  const server = startServer({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
    pool,
    graceS,
    log: (l) => lines.push(l),
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return { server, pool, base, lines };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function train(base: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${base}/v1/_fixture/train`, {
    method: "POST",
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

Deno.test("startServer().shutdown() lets a short training finish within the grace period", async () => {
  const { server, pool, base } = serve(10);
  const res = train(base, { fixture: "busyLoop", ms: 300 });
  await waitFor(() => pool.active === 1);
  const report = await server.shutdown();
  const done = await res;
  assert.equal(done.status, 200);
  assert.ok((await done.json()).iterations > 0);
  assert.deepEqual({ cancelled: report.cancelled, drained: report.drained }, {
    cancelled: 0,
    drained: true,
  });
  await server.finished;
});

Deno.test("startServer().shutdown() cancels trainings past the grace period with a 503", async () => {
  const { server, pool, base, lines } = serve(0.3);
  const res = train(base, { fixture: "busyLoop", ms: 60_000 });
  await waitFor(() => pool.active === 1);
  const report = await server.shutdown();
  // A 503 (not the 200 the 60 s training would give) proves it was cancelled after the grace.
  const cancelled = await res;
  assert.equal(cancelled.status, 503);
  assert.equal(cancelled.headers.get("content-type"), "application/problem+json");
  assert.ok(cancelled.headers.get("retry-after"));
  await cancelled.body?.cancel();
  assert.equal(report.cancelled, 1);
  assert.equal(report.drained, true);
  assert.equal(pool.active, 0);
  await server.finished;
  await assert.rejects(fetch(`${base}/healthz`));
  assert.deepEqual(lines.map((l) => JSON.parse(l).event), ["listening", "shutdown", "stopped"]);
});

Deno.test("a client that goes away stops its training (worker terminated, slot freed)", async () => {
  const { server, pool, base } = serve(1);
  const controller = new AbortController();
  const res = train(base, { fixture: "busyLoop", ms: 60_000 }, controller.signal);
  await waitFor(() => pool.active === 1);
  controller.abort();
  await assert.rejects(res);
  await waitFor(() => pool.active === 0, 5_000);
  assert.equal(pool.stats().failed, 1);
  const next = await train(base, { n: 2 });
  assert.deepEqual(await next.json(), { echo: { n: 2 }, steps: 3 });
  await server.shutdown();
});

Deno.test("main.ts exits cleanly on SIGTERM, and a kill -9 leaves nothing that stops a restart", async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const start = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../../main.ts", import.meta.url).pathname],
      env: { PORT: String(port), HOST: "127.0.0.1", FLOPS_FIT_SHUTDOWN_GRACE_S: "1" },
      stdout: "piped",
      stderr: "null",
    }).spawn();
  const readLines = async (child: Deno.ChildProcess, until: (l: string) => boolean) => {
    const seen: string[] = [];
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (!seen.some(until)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      seen.push(...parts);
    }
    return { seen, reader };
  };
  const first = start();
  const { reader: firstReader } = await readLines(first, (l) => l.includes('"listening"'));
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  first.kill("SIGKILL");
  assert.equal((await first.status).signal, "SIGKILL");
  await firstReader.cancel();

  const second = start();
  const { reader } = await readLines(second, (l) => l.includes('"listening"'));
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  second.kill("SIGTERM");
  const status = await second.status;
  assert.equal(status.code, 0);
  await reader.cancel();
});

/** Start `fixtures/real_server.ts` (real app and trainer) and wait for its listening line. */
async function startRealServer(port: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./fixtures/real_server.ts", import.meta.url).pathname],
    env: { PORT: String(port), FLOPS_FIT_LOG_REQUESTS: "false" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("server exited before listening");
    buffer += value;
    const line = buffer.split("\n").slice(0, -1).find((l) => l.includes('"listening"'));
    if (line !== undefined) {
      return { child, reader, dataset: String(JSON.parse(line).dataset) };
    }
  }
}

Deno.test("kill -9 mid-training: the client fails fast, and a restarted server trains again", async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const first = await startRealServer(port);
  const body = {
    family: "gpt",
    size: 16,
    config: { context: 16, depth: 1, heads: 2 },
    dataset: first.dataset,
    batch_size: 4,
    seed: 0,
    progress_every: 1,
  };
  const res = await fetch(`http://127.0.0.1:${port}/v1/train`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ ...body, budget: { steps: 100_000 } }),
  });
  assert.equal(res.status, 200);
  const events = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const firstEvent = await events.read();
  assert.match(firstEvent.value ?? "", /"progress"/);
  first.child.kill("SIGKILL");
  assert.equal((await first.child.status).signal, "SIGKILL");
  // The stream ends or errors once the server is gone (it does not wait for the training).
  try {
    while (!(await events.read()).done) { /* drain what was in flight */ }
  } catch {
    // Connection reset: the expected way to learn the server died.
  }
  await first.reader.cancel();

  const second = await startRealServer(port);
  const again = await fetch(`http://127.0.0.1:${port}/v1/train`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, budget: { steps: 2 } }),
  });
  assert.equal(again.status, 200);
  assert.equal((await again.json()).steps, 2);
  second.child.kill("SIGTERM");
  assert.equal((await second.child.status).code, 0);
  await second.reader.cancel();
});

Deno.test("startServer().shutdown() cancels fits past the grace period with a 503", async () => {
  const config = loadConfig({ FLOPS_FIT_LOG_REQUESTS: "false" });
  const fitPool = fitPoolFromConfig(config);
  const trainingPool = trainingPoolFromConfig(config);
  const app = createApp({ config, fitPool, trainingPool });
  const server = startServer({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
    pool: trainingPool,
    fitPool,
    graceS: 0.2,
  });
  const answer = fetch(`http://127.0.0.1:${server.addr.port}/v1/fit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...fitPayload(), bootstrap: 9_999 }),
  });
  await waitFor(() => fitPool.stats().running === 1);
  const report = await server.shutdown();
  const res = await answer;
  assert.equal(res.status, 503);
  assert.equal((await res.json()).status, 503);
  assert.equal(report.drained, true);
  assert.equal(fitPool.stats().workers, 0);
});
