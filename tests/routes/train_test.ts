import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { ensureBackend } from "../../lib/backend/select.ts";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";
import { frame } from "../../routes/train.ts";
import { planTraining } from "../../lib/train/run_plan.ts";
import { TrainRequestSchema } from "../../lib/train/request.ts";
import { resolveTiny } from "../lib/train/_tiny_data.ts";
import { STRICT_TRAINER, strictResolver, TINY_TRAINER } from "../lib/train/_tiny_trainer.ts";

await ensureBackend({ override: "wasm" });
const app = createApp({
  config: loadConfig({
    FLOPS_FIT_MAX_TRAIN_FLOPS: "1e12",
    FLOPS_FIT_LOG_REQUESTS: "false",
    FLOPS_FIT_BACKEND: "wasm",
  }),
  resolveDataset: resolveTiny,
  trainer: TINY_TRAINER,
});

/** The plan the route makes for `json` (the same function, on the same tiny datasets). */
function planOf(json: Record<string, unknown>) {
  return planTraining(TrainRequestSchema.parse(json), { resolveDataset: resolveTiny });
}

const body = {
  family: "gpt",
  size: 16,
  config: { context: 16, depth: 1, heads: 2 },
  dataset: "tiny-text",
  budget: { steps: 4 },
  batch_size: 4,
  seed: 0,
};

function post(json: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return app.request("/v1/train", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(json),
    signal,
  });
}

Deno.test("POST /v1/train trains and answers with counts, losses, curve and backend", async () => {
  const res = await post(body);
  assert.equal(res.status, 200);
  const r = await res.json();
  assert.equal(r.steps, 4);
  assert.equal(r.curve.length, 4);
  for (const key of ["params", "non_embedding_params", "flops_per_sample", "flops_per_sample_6n"]) {
    assert.ok(r[key] > 0, key);
  }
  assert.equal(r.flops, r.samples * r.flops_per_sample);
  assert.equal(typeof r.loss, "number");
  assert.equal(typeof r.eval_loss, "number");
  assert.equal(r.backend.name, "wasm");
  assert.equal(r.config.d_model, 16);
});

Deno.test("POST /v1/train answers 4xx problem+json naming the field before training", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ ...body, family: "resnet" }, "family"],
    [{ ...body, config: { ...body.config, heads: 3 } }, "config.heads"],
    [{
      family: "vit",
      size: 16,
      config: { patch_size: 3 },
      dataset: "tiny-images",
      budget: { steps: 1 },
    }, "config.patch_size"],
    [{ ...body, budget: { flops: 1e13 } }, "budget.flops"],
    [{ ...body, lr: -0.1 }, "lr"],
    [{ ...body, lr: 50 }, "lr"],
    [{ ...body, dataset: "nope" }, "dataset"],
    [{ ...body, budget: { steps: 1, tokens: 5 } }, "budget"],
  ];
  for (const [json, field] of cases) {
    const res = await post(json);
    assert.equal(res.status, 422, JSON.stringify(json));
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const problem = await res.json();
    assert.equal(problem.field, field, JSON.stringify(problem));
  }
});

Deno.test("POST /v1/train names max_train_flops over the FLOP cap, whatever the budget's kind", async () => {
  // Each budget buys more than the 1e12 cap; the answer names the cap, the field that set the
  // budget, and the run's exact FLOPs (whole steps, as planTraining counts them).
  const perStep = planOf(body).flopsPerSample * body.batch_size;
  const steps = Math.ceil(1e12 / perStep) + 1;
  const tokensPerSample = planOf(body).tokensPerSample;
  const budgets: Record<string, number>[] = [
    { flops: steps * perStep },
    { steps },
    { samples: steps * body.batch_size },
    { tokens: steps * body.batch_size * tokensPerSample },
  ];
  for (const budget of budgets) {
    const res = await post({ ...body, budget });
    assert.equal(res.status, 422, JSON.stringify(budget));
    const problem = await res.json();
    const kind = Object.keys(budget)[0]!;
    assert.equal(problem.type, "urn:flops-fit:problem:limit-exceeded");
    assert.equal(problem.field, `budget.${kind}`);
    assert.deepEqual(problem.limit, {
      name: "max_train_flops",
      value: 1e12,
      actual: planOf({ ...body, budget }).flops,
    });
    assert.ok(problem.limit.actual > 1e12);
  }
});

Deno.test("POST /v1/train streams ndjson progress with the result last", async () => {
  const res = await post({ ...body, progress_every: 1 }, { accept: "application/x-ndjson" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), [
    "progress",
    "progress",
    "progress",
    "progress",
    "result",
  ]);
  assert.equal(lines.at(-1).steps, 4);
});

Deno.test("an ndjson error event says type error and carries the problem document whole", async () => {
  const long = { ...body, budget: { steps: 100_000 }, timeout_s: 0.5 };
  const res = await post(long, { accept: "application/x-ndjson" });
  assert.equal(res.status, 200);
  const last = JSON.parse((await res.text()).trim().split("\n").at(-1)!);
  assert.equal(last.type, "error");
  // The contract's top-level members, as a sweep reads them.
  assert.equal(last.status, 408);
  assert.match(last.detail, /timeout_s/);
  // The same problem document the JSON answer gives, its own type URI included.
  const json = await post(long);
  assert.equal(json.status, 408);
  assert.deepEqual(last.problem, await json.json());
  assert.notEqual(last.problem.type, "error");
  assert.equal(last.field, "timeout_s");
});

Deno.test("frame() keeps each event's own type first and a problem's type inside", () => {
  assert.equal(
    frame("ndjson", "error", { type: "about:blank", status: 503, detail: "x" }),
    '{"type":"error","status":503,"detail":"x","problem":{"type":"about:blank","status":503,"detail":"x"}}\n',
  );
  assert.equal(frame("ndjson", "result", { loss: 1 }), '{"type":"result","loss":1}\n');
  assert.equal(
    frame("sse", "error", { type: "about:blank", status: 503 }),
    'event: error\ndata: {"type":"about:blank","status":503}\n\n',
  );
});

Deno.test("POST /v1/train streams server-sent events when asked", async () => {
  const res = await post(body, { accept: "text/event-stream" });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const text = await res.text();
  assert.match(text, /^event: progress\ndata: \{/);
  assert.match(text, /event: result\ndata: \{.*"steps":4/);
});

Deno.test("POST /v1/train stops training when the client goes away", async () => {
  const before = tf.memory().numTensors;
  const controller = new AbortController();
  const res = await post(
    { ...body, budget: { steps: 100_000 }, progress_every: 1 },
    { accept: "application/x-ndjson" },
    controller.signal,
  );
  const reader = res.body!.getReader();
  await reader.read(); // the first progress event: training is under way
  controller.abort();
  await reader.cancel();
  // The run notices within a step, frees its tensors, and the next request runs at once.
  const next = await post(body);
  assert.equal(next.status, 200);
  await next.json();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("GET /healthz reports the training backend", async () => {
  const health = await (await app.request("/healthz")).json();
  assert.equal(health.backend.name, "wasm");
  assert.equal(health.backend.kind, "cpu");
  assert.equal(health.backend.chosen_by, "env");
});

Deno.test("GET /openapi.json documents POST /v1/train", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  assert.ok(doc.paths["/v1/train"].post.requestBody);
});

Deno.test("POST /v1/train: a refused dataset name is a 422, an unavailable dataset a 503", async () => {
  // The resolver lives in a module so the training worker can use it too.
  const strict = createApp({
    config: loadConfig({ FLOPS_FIT_LOG_REQUESTS: "false" }),
    resolveDataset: strictResolver,
    trainer: STRICT_TRAINER,
  });
  const send = (dataset: string) =>
    strict.request("/v1/train", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, dataset }),
    });
  const traversal = await send("text-file:../../etc/passwd");
  assert.equal(traversal.status, 422);
  assert.equal((await traversal.json()).field, "dataset");
  const unavailable = await send("offline");
  assert.equal(unavailable.status, 503);
  assert.match((await unavailable.json()).detail, /offline/);
});

Deno.test("POST /v1/train trains on the registry's synthetic datasets by name", async () => {
  const real = createApp({ config: loadConfig({}) });
  const send = (json: unknown) =>
    real.request("/v1/train", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(json),
    });
  const text = await send({
    family: "gpt",
    size: 16,
    config: { context: 16, depth: 1 },
    dataset: "synthetic-text",
    budget: { steps: 2 },
    batch_size: 4,
    eval: { batches: 1 },
  });
  assert.equal(text.status, 200);
  const t = await text.json();
  assert.equal(t.dataset.eval_split, "validation");
  assert.equal(t.config.vocab_size, 256);
  const images = await send({
    family: "vit",
    size: 16,
    config: { depth: 1, patch_size: 8 },
    dataset: "synthetic-images",
    budget: { samples: 8 },
    batch_size: 4,
    eval: { batches: 1 },
  });
  assert.equal(images.status, 200);
  const v = await images.json();
  assert.equal(v.steps, 2);
  assert.equal(typeof v.eval_accuracy, "number");
  const traversal = await send({ ...body, dataset: "text-file:/etc/passwd" });
  assert.equal(traversal.status, 422);
  assert.equal((await traversal.json()).field, "dataset");
});

Deno.test("POST /v1/train stops a run past its timeout_s with a 408 and frees its memory", async () => {
  const before = tf.memory().numTensors;
  const res = await post({ ...body, budget: { steps: 100_000 }, timeout_s: 0.5 });
  assert.equal(res.status, 408);
  const problem = await res.json();
  assert.equal(problem.field, "timeout_s");
  assert.equal(tf.memory().numTensors, before);
});
