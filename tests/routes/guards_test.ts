import assert from "node:assert/strict";
import { testApp } from "../lib/service/fixtures/test_app.ts";
import { constantTimeEqual } from "../../routes/guards.ts";
import { pickRequestId } from "../../routes/request_log.ts";

Deno.test("bodySizeLimit() refuses a declared oversized body with 413 naming max_body_bytes", async () => {
  const { app } = testApp({ FLOPS_FIT_MAX_BODY_BYTES: "100" });
  const res = await app.request("/v1/_fixture/echo", {
    method: "POST",
    body: "x".repeat(101),
    headers: { "content-length": "101" },
  });
  assert.equal(res.status, 413);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.deepEqual(body.limit, { name: "max_body_bytes", value: 100, actual: 101 });
  const ok = await app.request("/v1/_fixture/echo", { method: "POST", body: "x".repeat(100) });
  assert.deepEqual(await ok.json(), { bytes: 100 });
});

Deno.test("bodySizeLimit() stops reading a chunked body as soon as it passes the limit", async () => {
  const { app } = testApp({ FLOPS_FIT_MAX_BODY_BYTES: "1000" });
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(300));
      if (pulled > 1000) controller.close();
    },
  });
  const res = await app.request(
    "/v1/_fixture/echo",
    { method: "POST", body: stream, duplex: "half" } as RequestInit,
  );
  assert.equal(res.status, 413);
  assert.equal((await res.json()).limit.name, "max_body_bytes");
  assert.ok(pulled < 10, `pulled ${pulled} chunks`);
});

Deno.test("bearerToken() guards training and preparation, not the rest", async () => {
  const { app } = testApp({ FLOPS_FIT_TOKEN: "s3cret-token" });
  const none = await app.request("/v1/train", { method: "POST", body: "{}" });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="flops-fit"');
  assert.equal(none.headers.get("content-type"), "application/problem+json");
  const wrong = await app.request("/v1/datasets/cifar10/prepare", {
    method: "POST",
    headers: { authorization: "Bearer s3cret-tokeN" },
  });
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get("www-authenticate")!, /invalid_token/);
  assert.ok(!(await wrong.text()).includes("s3cret"));
  const right = await app.request("/v1/datasets/no-such-dataset/prepare", {
    method: "POST",
    headers: { authorization: "Bearer s3cret-token" },
  });
  assert.notEqual(right.status, 401);
  assert.equal((await app.request("/healthz")).status, 200);
  const open = testApp().app;
  assert.notEqual((await open.request("/v1/datasets/x/prepare", { method: "POST" })).status, 401);
});

Deno.test("constantTimeEqual() compares exactly", async () => {
  assert.equal(await constantTimeEqual("abc", "abc"), true);
  assert.equal(await constantTimeEqual("abc", "abd"), false);
  assert.equal(await constantTimeEqual("", "abc"), false);
  assert.equal(await constantTimeEqual("abc", "abcd"), false);
});

Deno.test("corsFor() answers preflights and tags responses for allowed origins only", async () => {
  const { app } = testApp({ FLOPS_FIT_CORS_ORIGINS: "https://a.example, https://b.example" });
  const pre = await app.request("/v1/train", {
    method: "OPTIONS",
    headers: {
      origin: "https://b.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "https://b.example");
  assert.match(pre.headers.get("access-control-allow-headers")!, /Authorization/);
  const other = await app.request("/healthz", { headers: { origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
  const off = await testApp().app.request("/healthz", { headers: { origin: "https://a.example" } });
  assert.equal(off.headers.get("access-control-allow-origin"), null);
});

Deno.test("methodNotAllowedProblem() answers 405 with Allow on known paths, 404 elsewhere", async () => {
  const { app } = testApp();
  const get = await app.request("/v1/train");
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  assert.equal(get.headers.get("content-type"), "application/problem+json");
  const post = await app.request("/healthz", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  const missing = await app.request("/v1/none", { method: "PUT" });
  assert.equal(missing.status, 404);
});

Deno.test("requestLog() echoes sane request ids, replaces others and logs one JSON line", async () => {
  const lines: string[] = [];
  const { app } = testApp(
    { FLOPS_FIT_LOG_REQUESTS: "true", FLOPS_FIT_TOKEN: "t0ken" },
    (l) => lines.push(l),
  );
  const res = await app.request("/healthz?secret=zzz", { headers: { "x-request-id": "req-42" } });
  assert.equal(res.headers.get("x-request-id"), "req-42");
  const odd = await app.request("/nope", {
    method: "POST",
    headers: { "x-request-id": "<script>", authorization: "Bearer t0ken" },
  });
  const oddId = odd.headers.get("x-request-id")!;
  assert.match(oddId, /^[0-9a-f-]{36}$/);
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!);
  assert.deepEqual(Object.keys(first).sort(), [
    "duration_ms",
    "method",
    "path",
    "request_id",
    "status",
    "time",
  ]);
  assert.equal(first.path, "/healthz");
  assert.equal(first.status, 200);
  assert.equal(JSON.parse(lines[1]!).request_id, oddId);
  assert.ok(!lines.join("\n").includes("t0ken") && !lines.join("\n").includes("zzz"));
  const quiet: string[] = [];
  await testApp({}, (l) => quiet.push(l)).app.request("/healthz");
  assert.equal(quiet.length, 0);
  assert.equal(pickRequestId("x".repeat(129)).length, 36);
});

Deno.test("training admission: one at a time, 429 + Retry-After for the next, healthz counts", async () => {
  const { app, pool } = testApp({ FLOPS_FIT_RETRY_AFTER_S: "9" });
  const controller = new AbortController();
  const running = app.request("/v1/_fixture/train", {
    method: "POST",
    body: JSON.stringify({ fixture: "busyLoop", ms: 30_000 }),
    signal: controller.signal,
  });
  while (pool.active === 0) await new Promise((r) => setTimeout(r, 5));
  const busy = await app.request("/v1/_fixture/train", { method: "POST", body: "{}" });
  assert.equal(busy.status, 429);
  assert.equal(busy.headers.get("retry-after"), "9");
  const problem = await busy.json();
  assert.equal(problem.limit.name, "max_concurrent_trainings");
  // /healthz answers while the 30 s training holds the only slot.
  const health = await (await app.request("/healthz")).json();
  assert.equal(health.training.active, 1);
  assert.equal(health.training.rejected, 1);
  controller.abort();
  const cancelled = await running;
  assert.equal(cancelled.status, 499);
  assert.equal(pool.active, 0);
});

Deno.test("training failures answer problem+json 4xx, never 500, and the app keeps serving", async () => {
  const { app } = testApp({ FLOPS_FIT_MAX_TRAIN_WALL_S: "60" });
  const cases: Array<[string, number, RegExp]> = [
    ["fillWasmHeap", 422, /training-out-of-memory/],
    ["rejectRequest", 422, /training-rejected/],
    ["crashLater", 422, /training-crashed/],
    ["overLimit", 422, /limit-exceeded/],
    ["inputError", 422, /training-rejected/],
  ];
  for (const [fixture, status, type] of cases) {
    const res = await app.request("/v1/_fixture/train", {
      method: "POST",
      body: JSON.stringify({ fixture, ms: 30_000 }),
    });
    assert.equal(res.status, status, fixture);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const body = await res.json();
    assert.match(body.type, type, fixture);
    assert.ok(!JSON.stringify(body).includes("    at "), fixture);
  }
  const ok = await app.request("/v1/_fixture/train", { method: "POST", body: '{"n":1}' });
  assert.deepEqual(await ok.json(), { echo: { n: 1 }, steps: 3 });
  const slow = testApp({ FLOPS_FIT_MAX_TRAIN_WALL_S: "0.5" }).app;
  const timedOut = await slow.request("/v1/_fixture/train", {
    method: "POST",
    body: JSON.stringify({ fixture: "busyLoop", ms: 30_000 }),
  });
  assert.equal(timedOut.status, 422);
  assert.equal((await timedOut.json()).limit.name, "max_train_wall_s");
});

Deno.test("GET /healthz reports every limit by name", async () => {
  const { app } = testApp({ FLOPS_FIT_MAX_MODEL_PARAMS: "123" });
  const body = await (await app.request("/healthz")).json();
  assert.deepEqual(Object.keys(body.limits).sort(), [
    "max_batch_size",
    "max_body_bytes",
    "max_bootstrap",
    "max_concurrent_trainings",
    "max_fit_points",
    "max_fit_wall_s",
    "max_model_params",
    "max_queued_fits",
    "max_train_flops",
    "max_train_wall_s",
  ]);
  assert.equal(body.limits.max_model_params, 123);
  assert.equal(body.auth.token_required, false);
});
