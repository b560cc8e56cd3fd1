import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { ConnectionWatch } from "../../lib/service/connection_watch.ts";
import { startServer } from "../../lib/service/server.ts";
import { trainingPoolFromConfig } from "../../lib/service/training_pool.ts";
import { createApp } from "../../routes/mod.ts";

/** The real server (startServer, with its idle reaper) on a free loopback port. */
function serve(env: Record<string, string>) {
  const config = loadConfig({ FLOPS_FIT_LOG_REQUESTS: "false", ...env });
  const pool = trainingPoolFromConfig(config);
  const connectionWatch = new ConnectionWatch();
  const app = createApp({ config, trainingPool: pool, connectionWatch });
  const lines: string[] = [];
  const server = startServer({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
    pool,
    graceS: 0,
    log: (line) => lines.push(line),
    idle: { timeoutS: config.headerTimeoutS, watch: connectionWatch },
  });
  return { server, lines };
}

/** Read from `conn` until it is closed; the text received, or "open" after `limitMs`. */
async function readUntilClosed(conn: Deno.Conn, limitMs: number): Promise<string> {
  const chunks: string[] = [];
  const buffer = new Uint8Array(4096);
  const decoder = new TextDecoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<"open">((r) => timer = setTimeout(() => r("open"), limitMs));
  try {
    for (;;) {
      const n = await Promise.race([conn.read(buffer).catch(() => null), limit]);
      if (n === "open") return "open:" + chunks.join("");
      if (n === null) return chunks.join("");
      chunks.push(decoder.decode(buffer.subarray(0, n)));
    }
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("a body that trickles in past FLOPS_FIT_BODY_TIMEOUT_S is a 408 and the connection closes", async () => {
  const { server } = serve({ FLOPS_FIT_BODY_TIMEOUT_S: "0.5" });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  try {
    await conn.write(new TextEncoder().encode(
      "POST /v1/fit HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
        "content-length: 1000\r\n\r\n{",
    ));
    const started = performance.now();
    // One byte every 100 ms, as a slow client sends it, while we wait for the answer.
    let sending = true;
    const trickle = (async () => {
      while (sending) {
        await new Promise((r) => setTimeout(r, 100));
        if (sending) await conn.write(new TextEncoder().encode(" ")).catch(() => sending = false);
      }
    })();
    const answer = await readUntilClosed(conn, 5_000);
    sending = false;
    await trickle;
    assert.ok(!answer.startsWith("open"), `the connection was still open after 5 s: ${answer}`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"body_timeout_s"/);
    assert.ok(performance.now() - started < 3_000);
    assert.ok(
      (await fetch(`http://127.0.0.1:${server.addr.port}/healthz`)).ok,
      "the server answers others",
    );
  } finally {
    conn.close();
    await server.shutdown();
  }
});

Deno.test("connections sending headers one byte at a time, or idle, are closed after FLOPS_FIT_HEADER_TIMEOUT_S", async () => {
  const { server, lines } = serve({ FLOPS_FIT_HEADER_TIMEOUT_S: "1" });
  const port = server.addr.port;
  const slow = await Promise.all(
    Array.from({ length: 20 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  const idle = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  let sending = true;
  const trickles = slow.map(async (conn) => {
    const head = "GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: " + "a".repeat(100);
    for (const ch of head) {
      if (!sending) return;
      try {
        await conn.write(new TextEncoder().encode(ch));
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  try {
    const closed = await Promise.all([...slow, idle].map((conn) => readUntilClosed(conn, 6_000)));
    const elapsed = performance.now() - started;
    assert.ok(closed.every((c) => !c.startsWith("open")), JSON.stringify(closed));
    assert.ok(elapsed > 900, `closed after ${elapsed} ms, before the timeout`);
    assert.ok(lines.filter((l) => l.includes('"connection_closed"')).length >= 21);
    // A request in flight for longer than the timeout is left alone: a training stopped by its
    // own timeout_s answers its 408 after 2.5 s on the same connection.
    const busyStarted = performance.now();
    const busy = await fetch(`http://127.0.0.1:${port}/v1/train`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        family: "gpt",
        size: 16,
        config: { context: 16, depth: 1, heads: 2 },
        dataset: "synthetic-text",
        batch_size: 4,
        seed: 0,
        budget: { steps: 1_000_000 },
        timeout_s: 2.5,
      }),
    });
    assert.equal(busy.status, 408, await busy.clone().text());
    assert.equal((await busy.json()).field, "timeout_s");
    assert.ok(performance.now() - busyStarted >= 2_500);
  } finally {
    sending = false;
    await Promise.all(trickles);
    for (const conn of [...slow, idle]) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    await server.shutdown();
  }
});
