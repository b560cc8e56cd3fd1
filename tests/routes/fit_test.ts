import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "../lib/fit/_synthetic.ts";

const app = createApp({ config: loadConfig({}) });
const POINTS = isoflopPoints({
  budgets: SIX_BUDGETS.slice(0, 4),
  perBudget: 6,
  halfWidth: 1,
  noiseSd: 0.005,
});
const CSV = "N,D,loss\n" + POINTS.map((p) => `${p.N},${p.D},${p.loss}`).join("\n") + "\n";

function post(body: BodyInit, type = "application/json", path = "/v1/fit", headers = {}) {
  return app.request(path, { method: "POST", body, headers: { "content-type": type, ...headers } });
}

async function problem(res: Response, status: number, detail: RegExp, field?: string) {
  assert.equal(res.status, status, await res.clone().text());
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.status, status);
  assert.match(body.detail, detail);
  if (field !== undefined) assert.equal(body.field, field);
  return body;
}

Deno.test("POST /v1/fit answers the fit as JSON", async () => {
  const res = await post(JSON.stringify({ points: POINTS, bootstrap: 20, budgets: [1e20] }));
  assert.equal(res.status, 200);
  const fit = await res.json();
  assert.ok(Math.abs(fit.parametric.alpha - TRUTH.alpha) < 0.05);
  assert.equal(typeof fit.isoflop.a, "number");
  assert.equal(fit.table.length, 2);
  assert.equal(fit.bootstrap.n_resamples, 20);
  assert.ok(Array.isArray(fit.warnings));
});

Deno.test("POST /v1/fit takes CSV with options in the query, and answers markdown on request", async () => {
  const res = await post(CSV, "text/csv", "/v1/fit?bootstrap=10&budgets=1e20,1e21&seed=3");
  assert.equal(res.status, 200);
  const fit = await res.json();
  assert.equal(fit.n_points, 24);
  assert.deepEqual(fit.table.map((r: { C: number }) => r.C), [1e20, 1e21, 1e20, 1e21]);
  const md = await post(CSV, "text/csv", "/v1/fit?bootstrap=0&format=markdown");
  assert.equal(md.status, 200);
  assert.match(md.headers.get("content-type")!, /^text\/markdown/);
  assert.match(await md.text(), /\| C \| N_opt \| D_opt \| D\/N \| predicted loss \|/);
  const accept = await post(
    JSON.stringify({ points: POINTS, bootstrap: 0 }),
    "application/json",
    "/v1/fit",
    {
      accept: "text/markdown",
    },
  );
  assert.match(await accept.text(), /^### Approach 3/);
});

Deno.test("POST /v1/fit refuses every kind of bad input with a 4xx problem naming it", async () => {
  const p0 = POINTS[0]!;
  const cases: [BodyInit, string, number, RegExp, string?][] = [
    [JSON.stringify({ points: [] }), "application/json", 422, /must not be empty/, "points"],
    [JSON.stringify({}), "application/json", 422, /points/, "points"],
    [
      JSON.stringify({ points: [{ ...p0, N: "NaN" }] }),
      "application/json",
      422,
      /finite number/,
      "points[0].N",
    ],
    [
      JSON.stringify({ points: [{ ...p0, D: "Infinity" }] }),
      "application/json",
      422,
      /finite number/,
      "points[0].D",
    ],
    [
      JSON.stringify({ points: [{ ...p0, loss: null }] }),
      "application/json",
      422,
      /finite number/,
      "points[0].loss",
    ],
    [
      '{"points":[{"N":1e999,"D":1,"loss":1}]}',
      "application/json",
      422,
      /finite number/,
      "points[0].N",
    ],
    ['{"points":[{"N":NaN,"D":1,"loss":1}]}', "application/json", 400, /not valid JSON/],
    [JSON.stringify({ points: [{ ...p0, N: 0 }] }), "application/json", 422, /> 0/, "points[0].N"],
    [
      JSON.stringify({ points: [{ ...p0, loss: -1 }] }),
      "application/json",
      422,
      /> 0/,
      "points[0].loss",
    ],
    [
      JSON.stringify({ points: [{ N: [1], D: {}, loss: true }] }),
      "application/json",
      422,
      /finite number/,
      "points[0].N",
    ],
    [JSON.stringify({ points: "lots" }), "application/json", 422, /array/, "points"],
    [
      JSON.stringify({ points: POINTS, bootstrap: "many" }),
      "application/json",
      422,
      /integer/,
      "bootstrap",
    ],
    [
      JSON.stringify({ points: [...POINTS, POINTS[3]] }),
      "application/json",
      422,
      /duplicates points\[3\]/,
      "points[24]",
    ],
    [
      JSON.stringify({ points: POINTS.slice(0, 6) }),
      "application/json",
      422,
      /single budget/,
      "points",
    ],
    [
      JSON.stringify({ points: Array(8).fill(p0) }),
      "application/json",
      422,
      /duplicates/,
      "points[1]",
    ],
    [
      JSON.stringify({ points: POINTS.map((p) => ({ ...p, loss: 2 })) }),
      "application/json",
      422,
      /same loss/,
      "points",
    ],
    [
      JSON.stringify({ points: POINTS.slice(0, 12), backtest: true, bootstrap: 0 }),
      "application/json",
      422,
      /3 budgets/,
      "backtest",
    ],
    [
      JSON.stringify({ points: POINTS, bootstrap: 10001 }),
      "application/json",
      422,
      /limit of 10000/,
      "bootstrap",
    ],
    ["{not json", "application/json", 400, /not valid JSON/],
    ["N,D\n1,2\n", "text/csv", 422, /lacks column "loss"/, "csv line 1"],
    ["N,D,loss\n1,2,3\n4,x,6\n", "text/csv", 422, /line 3, column D/, "csv line 3 column D"],
    ["N,D,loss\n1,2,3\n4,5\n", "text/csv", 422, /line 3: 2 cell/, "csv line 3"],
    ["N,D,loss\n1,-2,3\n", "text/csv", 422, /csv line 2 column D: .*> 0/, "csv line 2 column D"],
    ["", "text/csv", 422, /empty/, "csv"],
    ["N,D,loss\n1,2,3\n", "text/plain", 415, /Unsupported/],
  ];
  for (const [body, type, status, detail, field] of cases) {
    await problem(await post(body, type), status, detail, field);
  }
  await problem(
    await post(CSV, "text/csv", "/v1/fit?budgets=1e20,abc"),
    422,
    /finite number/,
    "budgets[1]",
  );
  await problem(
    await post(JSON.stringify({ points: POINTS }), "application/json", "/v1/fit?bootstrap=5"),
    422,
    /put options in the body/,
    "query.bootstrap",
  );
});

Deno.test("POST /v1/fit answers 10⁶ points with a fast 413 naming the limit", async () => {
  const point = '{"N":1,"D":1,"loss":1}';
  const body = '{"points":[' + Array(1_000_000).fill(point).join(",") + "]}";
  let t = performance.now();
  const byBytes = await problem(await post(body), 413, /exceeds 16777216 bytes/, "body");
  assert.equal(byBytes.limit, 16 * 1024 * 1024);
  assert.ok(performance.now() - t < 2000, `${performance.now() - t} ms`);
  // With a larger body limit, the point limit answers — before any per-point validation.
  const roomy = createApp({
    config: loadConfig({ FLOPS_FIT_MAX_BODY_BYTES: String(64 * 1024 * 1024) }),
  });
  t = performance.now();
  const res = await roomy.request("/v1/fit", {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  const byPoints = await problem(res, 413, /1000000 points exceed the limit of 20000/, "points");
  assert.equal(byPoints.limit, 20000);
  assert.ok(performance.now() - t < 3000, `${performance.now() - t} ms`);
  const csv = "N,D,loss\n" + "1,1,1\n".repeat(20_001);
  await problem(await post(csv, "text/csv"), 413, /more than 20000 points/, "points");
  const declared = await app.request("/v1/fit", {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json", "content-length": String(1e9) },
  });
  await problem(declared, 413, /exceeds/, "body");
});

Deno.test("POST /v1/fit is in /openapi.json with its request and response schemas", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  const op = doc.paths["/v1/fit"].post;
  assert.ok(op.requestBody.content["application/json"]);
  assert.ok(op.requestBody.content["text/csv"]);
  assert.ok(op.responses["200"].content["text/markdown"]);
  for (const name of ["FitRequest", "FitResult", "FitPoint", "ParametricResult", "IsoflopResult"]) {
    assert.ok(doc.components.schemas[name], name);
  }
  assert.equal(doc.components.schemas.FitRequest.properties.bootstrap.default, 200);
  assert.equal(doc.components.schemas.FitRequest.properties.huber_delta.default, 1e-3);
});
