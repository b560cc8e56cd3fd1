import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";

Deno.test("POST /v1/train hands the configured backend choice to the training worker", async () => {
  const app = createApp({
    config: loadConfig({
      FLOPS_FIT_LOG_REQUESTS: "false",
      FLOPS_FIT_BACKEND: "cpu",
      FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE: "1",
    }),
    trainer: {
      module: new URL("../lib/service/fixtures/trainers.ts", import.meta.url).href,
      exportName: "echoBackend",
    },
  });
  const health = await (await app.request("/healthz")).json();
  assert.equal(health.backend.name, "cpu");
  assert.equal(health.backend.chosen_by, "env");
  const res = await app.request("/v1/train", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      family: "gpt",
      size: 16,
      config: { context: 16, depth: 1 },
      dataset: "synthetic-text",
      budget: { steps: 2 },
      batch_size: 4,
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual((await res.json()).backend, {
    choice: { mode: "named", name: "cpu", allowSoftwareAdapter: true },
  });
});
