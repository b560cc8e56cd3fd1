import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";

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
