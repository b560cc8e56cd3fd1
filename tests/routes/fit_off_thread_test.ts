import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";
import { fitPayload } from "../bench/load.ts";

const app = createApp({
  config: loadConfig({ FLOPS_FIT_LOG_REQUESTS: "false", FLOPS_FIT_MAX_BOOTSTRAP: "500" }),
});

function fit(body: unknown) {
  return app.request("/v1/fit", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("POST /v1/fit runs on a fit worker while /healthz keeps answering fast", async () => {
  const running = fit({ ...fitPayload(), bootstrap: 200 });
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const health = await app.request("/healthz");
    await health.body?.cancel();
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 20));
  }
  const res = await running;
  assert.equal(res.status, 200);
  const result = await res.json();
  assert.equal(result.n_points, 35);
  latencies.sort((a, b) => a - b);
  assert.ok(latencies[2]! < 100, `median /healthz ${latencies[2]} ms during a fit`);
});

Deno.test("POST /v1/fit refusals from the worker keep their status, field and named limit", async () => {
  const res = await fit({ ...fitPayload(), bootstrap: 501 });
  assert.equal(res.status, 422);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const problem = await res.json();
  assert.equal(problem.field, "bootstrap");
  assert.deepEqual(problem.limit, { name: "max_bootstrap", value: 500, actual: 501 });
  const flat = await fit({ points: [{ N: 1, D: 1, loss: 1 }] });
  assert.ok(flat.status >= 400 && flat.status < 500, String(flat.status));
});
