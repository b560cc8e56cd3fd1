import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";
import { DEFAULT_BATCH_SIZE } from "../../lib/train/request.ts";

const app = createApp({ config: loadConfig({}) });

function post(body: unknown) {
  return app.request("/v1/plan", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("POST /v1/plan returns snapped grids whose points carry a train request", async () => {
  const res = await post({ family: "gpt", budgets: [1e11, 1e12], sizes_per_budget: 5 });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.size_parameter, "d_model");
  assert.equal(body.grids.length, 2);
  for (const grid of body.grids) {
    assert.equal(grid.points.length, 5);
    for (const p of grid.points) {
      assert.equal(p.request.family, "gpt");
      assert.equal(p.request.size, p.size);
      assert.deepEqual(p.request.budget, { flops: grid.budget_flops });
      // Whole steps of the trainer's default batch (no hyper.batch_size given), as it trains them.
      assert.equal(p.samples % DEFAULT_BATCH_SIZE, 0);
      assert.ok(
        p.flops <= grid.budget_flops &&
          grid.budget_flops - p.flops < DEFAULT_BATCH_SIZE * p.flops_per_sample,
      );
    }
  }
});

Deno.test("POST /v1/plan with adaptive results proposes a next budget", async () => {
  // Losses from a convex law in ln N at three budgets, optimum rising with C.
  const results = [];
  for (const [C, centre] of [[1e11, 2e4], [1e12, 5e4], [1e13, 1.2e5]] as const) {
    for (const f of [0.25, 0.5, 1, 2, 4]) {
      const N = centre * f;
      results.push({
        N,
        D: C / (6 * N),
        C,
        loss: 3 - Math.log10(C) * 0.1 + 0.05 * Math.log(f) ** 2 + 0.001 * f,
      });
    }
  }
  const res = await post({
    family: "gpt",
    adaptive: { results, target_budget: 1e15, bootstrap: 50 },
  });
  assert.equal(res.status, 200);
  const { adaptive } = await res.json();
  // The candidates are the largest budget × 2, 3, 5, 10 (all below the target), each scored.
  assert.deepEqual(adaptive.candidates.map((c: { budget_flops: number }) => c.budget_flops), [
    2e13,
    3e13,
    5e13,
    1e14,
  ]);
  // The proposal is the candidate that leaves the narrowest interval, narrower than today's.
  const spreads = adaptive.candidates.map((c: { uncertainty: { spread_ln: number } }) =>
    c.uncertainty.spread_ln
  );
  const best = spreads.indexOf(Math.min(...spreads));
  assert.equal(adaptive.next.budget_flops, adaptive.candidates[best].budget_flops);
  assert.ok(adaptive.current.spread_ln > 0);
  assert.ok(Math.min(...spreads) < adaptive.current.spread_ln);
  const [lo, hi] = adaptive.current.ci;
  assert.ok(lo <= adaptive.current.n_opt && adaptive.current.n_opt <= hi);
  // Its grid brackets the optimum the law's centres extrapolate to: ln N_opt linear in ln C,
  // fitted through the three centres (2e4, 5e4, 1.2e5 at 1e11, 1e12, 1e13).
  const lnC = [1e11, 1e12, 1e13].map(Math.log);
  const lnN = [2e4, 5e4, 1.2e5].map(Math.log);
  const meanC = lnC.reduce((a, b) => a + b) / 3;
  const meanN = lnN.reduce((a, b) => a + b) / 3;
  const slope = lnC.reduce((s, x, i) => s + (x - meanC) * (lnN[i]! - meanN), 0) /
    lnC.reduce((s, x) => s + (x - meanC) ** 2, 0);
  const predicted = Math.exp(meanN + slope * (Math.log(adaptive.next.budget_flops) - meanC));
  const params = adaptive.next.points.map((p: { params: number }) => p.params);
  assert.ok(Math.min(...params) < predicted && predicted < Math.max(...params), String(predicted));
});

Deno.test("POST /v1/plan answers problem+json 422s naming the field", async () => {
  const unknown = await post({ family: "rnn", budgets: [1e11] });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.headers.get("content-type"), "application/problem+json");
  assert.equal((await unknown.json()).field, "family");
  const negative = await post({ family: "gpt", budgets: [-1] });
  assert.equal(negative.status, 422);
  assert.equal((await negative.json()).field, "budgets[0]");
  const nothing = await post({ family: "gpt" });
  assert.equal(nothing.status, 422);
  assert.equal((await nothing.json()).field, "budgets");
  const badModel = await post({ family: "gpt", budgets: [1e11], model: { context: -4 } });
  assert.equal(badModel.status, 422);
  assert.match((await badModel.json()).field, /^model\./);
});

Deno.test("GET /openapi.json lists POST /v1/plan", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  assert.ok(doc.paths["/v1/plan"].post);
});

Deno.test("POST /v1/plan plans a family flops-fit lacks from its inline table, and refuses a bad one by field", async () => {
  // A toy table: params 100·s², exact FLOPs 6·params per sample (one token per sample).
  const sizes = [8, 12, 16, 24, 32, 48, 64, 96, 128].map((s) => ({
    size: s,
    params: 100 * s * s,
    flops_per_sample: 600 * s * s,
  }));
  const table = {
    name: "toy",
    size_param: "width",
    data_unit: "samples",
    units_per_sample: 1,
    sizes,
  };
  const res = await post({
    family: table,
    dataset: "my-data",
    budgets: [1e10],
    sizes_per_budget: 3,
    hyper: { batch_size: 1 },
  });
  assert.equal(res.status, 200);
  const plan = await res.json();
  assert.equal(plan.family, "toy");
  assert.equal(plan.size_parameter, "width");
  const points = plan.grids[0].points as {
    size: number;
    params: number;
    samples: number;
    flops: number;
  }[];
  assert.equal(points.length, 3);
  for (const p of points) {
    const row = sizes.find((s) => s.size === p.size)!;
    assert.ok(row !== undefined, `size ${p.size} is one of the table's`);
    assert.equal(p.params, row.params);
    assert.equal(p.flops, p.samples * row.flops_per_sample, "FLOPs are the table's per sample");
    assert.ok(p.flops <= 1e10 && p.flops > 1e10 - row.flops_per_sample, "spends its budget");
  }
  const descending = { ...table, sizes: [...sizes].reverse() };
  const bad = await post({ family: descending, budgets: [1e10] });
  assert.equal(bad.status, 422);
  assert.match((await bad.json()).field, /^family/);
});

/** `n` results over three budgets: convex in ln N, optimum rising with C. */
function manyResults(n: number) {
  const results = [];
  for (let i = 0; i < n; i++) {
    const C = [1e11, 1e12, 1e13][i % 3]!;
    const centre = C === 1e11 ? 2e4 : C === 1e12 ? 5e4 : 1.2e5;
    const f = Math.exp(((i * 7919) % 1000) / 1000 * 2.8 - 1.4);
    const N = centre * f;
    results.push({
      N,
      D: C / (6 * N),
      C,
      loss: 3 - Math.log10(C) * 0.1 + 0.05 * Math.log(f) ** 2 + 0.001 * f,
    });
  }
  return results;
}

Deno.test("POST /v1/plan's adaptive work runs on a fit worker under max_fit_wall_s while /healthz answers", async () => {
  const limited = createApp({
    config: loadConfig({ FLOPS_FIT_LOG_REQUESTS: "false", FLOPS_FIT_MAX_FIT_WALL_S: "0.5" }),
  });
  // About 5 s of bootstrap fits on the request thread before: /healthz waited for all of it.
  const running = Promise.resolve(limited.request("/v1/plan", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      family: "gpt",
      adaptive: { results: manyResults(3000), target_budget: 1e15, bootstrap: 1000 },
    }),
  }));
  let slowest = 0;
  let settled = false;
  running.finally(() => settled = true);
  for (let i = 0; i < 5 && !settled; i++) {
    const started = performance.now();
    assert.equal((await limited.request("/healthz")).status, 200);
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await running;
  assert.ok(slowest < 500, `/healthz took ${slowest} ms`);
  assert.equal(res.status, 422);
  const problem = await res.json();
  assert.equal(problem.limit.name, "max_fit_wall_s");
  // A small adaptive plan answers from a worker (a fresh one imports for longer than 0.5 s).
  const small = await app.request("/v1/plan", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      family: "gpt",
      budgets: [1e11],
      adaptive: { results: manyResults(15), target_budget: 1e15, bootstrap: 10 },
    }),
  });
  assert.equal(small.status, 200, await small.clone().text());
  const body = await small.json();
  assert.equal(body.grids.length, 1);
  assert.ok(Array.isArray(body.adaptive.candidates));
});

Deno.test("POST /v1/plan bounds what hyper and model copy into every point (413 naming the field)", async () => {
  const big = "x".repeat(20_000);
  const res = await post({
    family: "gpt",
    budgets: Array.from({ length: 64 }, (_, i) => 1e11 * 1.1 ** i),
    sizes_per_budget: 5,
    hyper: { note: big },
  });
  assert.equal(res.status, 413);
  const problem = await res.json();
  assert.equal(problem.field, "hyper");
  assert.equal(problem.limit.name, "max_plan_copy_bytes");
  // The same hyper over one budget is a small answer.
  const one = await post({ family: "gpt", budgets: [1e11], hyper: { note: big } });
  assert.equal(one.status, 200);
  assert.ok((await one.text()).length < 200_000);
  const model = await post({
    family: "gpt",
    budgets: Array.from({ length: 64 }, (_, i) => 1e11 * 1.1 ** i),
    model: Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [`unused_${i}`, big.slice(0, 10)]),
    ),
  });
  assert.ok(model.status === 413 || model.status === 422, String(model.status));
  assert.match((await model.json()).field, /^model/);
});

Deno.test("a JSON body nested past 64 levels is a 422 naming the field, on every route", async () => {
  const deep = (levels: number) => JSON.parse("[".repeat(levels) + "]".repeat(levels));
  const hyper = await post({ family: "gpt", budgets: [1e11], hyper: { a: deep(3_700) } });
  assert.equal(hyper.status, 422);
  const problem = await hyper.json();
  assert.equal(problem.field, "hyper");
  assert.equal(problem.limit.name, "max_json_depth");
  for (
    const [path, body] of [
      ["/v1/fit", { points: deep(100) }],
      ["/v1/train", { family: "gpt", size: 16, dataset: "synthetic-text", lr: deep(100) }],
      ["/v1/plan", deep(100)],
    ] as const
  ) {
    const res = await app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 422, path);
    assert.equal((await res.json()).field, Array.isArray(body) ? "body" : Object.keys(body).at(-1));
  }
  // 64 levels are fine (the route's own validation answers).
  const ok = await post({ family: "gpt", budgets: [1e11], hyper: { a: deep(62) } });
  assert.equal(ok.status, 200);
});
