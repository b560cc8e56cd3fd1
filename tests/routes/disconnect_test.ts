import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { fitPoolFromConfig } from "../../lib/service/job_pool.ts";
import { trainingPoolFromConfig } from "../../lib/service/training_pool.ts";
import { createApp } from "../../routes/mod.ts";
import { fitPayload } from "../bench/load.ts";
import { resolveTiny } from "../lib/train/_tiny_data.ts";
import { TINY_TRAINER } from "../lib/train/_tiny_trainer.ts";

Deno.test("a client that disconnects while sending its body is logged as 499, not a server error", async () => {
  const lines: string[] = [];
  const app = createApp({
    config: loadConfig({ FLOPS_FIT_LOG_REQUESTS: "true" }),
    log: (line) => lines.push(line),
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const cases = [
      ["/v1/plan", 'content-length: 10000\r\n\r\n{"family": "gpt", "bud'],
      ["/v1/train", 'content-length: 10000\r\n\r\n{"family": "gpt", "bud'],
      ["/v1/train", 'transfer-encoding: chunked\r\n\r\n9\r\n{"family"\r\n'],
      ["/v1/fit", 'content-length: 10000\r\n\r\n{"points": [{"N": 1'],
    ];
    for (const [path, rest] of cases) {
      const before = lines.length;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      const head = `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
        rest;
      await conn.write(new TextEncoder().encode(head));
      await new Promise((r) => setTimeout(r, 100));
      conn.close();
      // The access line is written once the handler gives up on the body.
      for (let i = 0; i < 100 && lines.length === before; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const records = lines.slice(before).map((l) => JSON.parse(l));
      const access = records.find((r) => r.path === path && r.status !== undefined);
      assert.ok(access !== undefined, `no access line for ${path}: ${lines.slice(before)}`);
      assert.equal(access.status, 499, JSON.stringify(records));
      assert.ok(!records.some((r) => r.level === "error"), JSON.stringify(records));
    }
  } finally {
    await server.shutdown();
  }
});

/** A JSON body padded with spaces to `bytes` (Deno's own signal misses a close past ~500). */
function padded(body: unknown, bytes: number): string {
  const text = JSON.stringify(body);
  return text + " ".repeat(Math.max(0, bytes - text.length));
}

/** Send `POST path` with `body` on a raw connection; the caller closes it. */
async function send(port: number, path: string, body: string, accept = "application/json") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const bytes = new TextEncoder().encode(body);
  await conn.write(new TextEncoder().encode(
    `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\naccept: ${accept}\r\n` +
      `content-length: ${bytes.length}\r\n\r\n`,
  ));
  await conn.write(bytes);
  return conn;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string) {
  const end = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("fits whose clients leave (1.2 KB bodies): the running one is stopped and the queued one dropped within a second, both logged 499", async () => {
  const lines: string[] = [];
  const config = loadConfig({ FLOPS_FIT_LOG_REQUESTS: "true", FLOPS_FIT_FIT_WORKERS: "1" });
  const fitPool = fitPoolFromConfig(config);
  const app = createApp({ config, fitPool, log: (line) => lines.push(line) });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const body = padded({ ...fitPayload(), bootstrap: 9_999 }, 1_200);
    const running = await send(server.addr.port, "/v1/fit", body);
    await waitUntil(() => fitPool.stats().running === 1, 5_000, "the fit runs");
    const queued = await send(server.addr.port, "/v1/fit", body);
    await waitUntil(() => fitPool.stats().queued === 1, 5_000, "the second fit waits");
    running.close();
    queued.close();
    const closedMs = performance.now();
    await waitUntil(
      () => fitPool.stats().running === 0 && fitPool.stats().queued === 0,
      1_000,
      "both fits let go",
    );
    await waitUntil(
      () => lines.filter((l) => l.includes('"status":499')).length === 2,
      1_000,
      "two 499 lines",
    );
    assert.ok(performance.now() - closedMs < 1_000);
    assert.equal(fitPool.stats().completed, 0);
  } finally {
    // Stop what the old code left running, so a failure is quick.
    fitPool.close();
    await server.shutdown();
  }
});

for (const accept of ["application/json", "application/x-ndjson"]) {
  Deno.test(`a training whose client leaves (${accept}, 800-byte body) is cancelled within a second and frees its slot, logged 499`, async () => {
    const lines: string[] = [];
    const config = loadConfig({
      FLOPS_FIT_LOG_REQUESTS: "true",
      FLOPS_FIT_MAX_TRAIN_FLOPS: "1e15",
      FLOPS_FIT_BACKEND: "wasm",
    });
    const trainingPool = trainingPoolFromConfig(config, TINY_TRAINER);
    const app = createApp({
      config,
      trainingPool,
      resolveDataset: resolveTiny,
      log: (line) => lines.push(line),
    });
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
    try {
      const body = padded({
        family: "gpt",
        size: 16,
        config: { context: 16, depth: 1, heads: 2 },
        dataset: "tiny-text",
        batch_size: 4,
        seed: 0,
        budget: { steps: 1_000_000 },
        progress_every: 100_000,
      }, 800);
      const conn = await send(server.addr.port, "/v1/train", body, accept);
      await waitUntil(() => trainingPool.active === 1, 5_000, `the training runs: ${lines}`);
      await new Promise((r) => setTimeout(r, 300));
      conn.close();
      await waitUntil(() => trainingPool.active === 0, 1_000, "the slot is free");
      await waitUntil(
        () => lines.some((l) => l.includes('"path":"/v1/train"')),
        1_000,
        "an access line",
      );
      const access = JSON.parse(lines.find((l) => l.includes('"path":"/v1/train"'))!);
      assert.equal(access.status, 499);
      assert.equal(trainingPool.stats().completed, 0);
    } finally {
      trainingPool.cancelAll();
      await server.shutdown();
    }
  });
}

Deno.test("a streamed training that runs to its end is logged once, 200, when the stream ends", async () => {
  const lines: string[] = [];
  const config = loadConfig({
    FLOPS_FIT_LOG_REQUESTS: "true",
    FLOPS_FIT_MAX_TRAIN_FLOPS: "1e15",
    FLOPS_FIT_BACKEND: "wasm",
  });
  const trainingPool = trainingPoolFromConfig(config, TINY_TRAINER);
  const app = createApp({
    config,
    trainingPool,
    resolveDataset: resolveTiny,
    log: (line) => lines.push(line),
  });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  try {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/train`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson" },
      body: JSON.stringify({
        family: "gpt",
        size: 16,
        config: { context: 16, depth: 1, heads: 2 },
        dataset: "tiny-text",
        batch_size: 4,
        seed: 0,
        budget: { steps: 3 },
      }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /"type":"result"/);
    await waitUntil(() => lines.some((l) => l.includes('"path":"/v1/train"')), 2_000, "a line");
    await new Promise((r) => setTimeout(r, 300));
    const access = lines.filter((l) => l.includes('"path":"/v1/train"'));
    assert.equal(access.length, 1, access.join("\n"));
    assert.equal(JSON.parse(access[0]!).status, 200);
  } finally {
    await server.shutdown();
  }
});
