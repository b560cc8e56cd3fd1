import assert from "node:assert/strict";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";
import { computeOptimal, exponentsOf } from "../../lib/fit/parametric.ts";
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
  // Noise sd 0.5 % on 4 budgets of 6 runs: both approaches recover the law's exponents.
  assert.ok(Math.abs(fit.parametric.alpha - TRUTH.alpha) < 0.05);
  const a = exponentsOf(TRUTH).a;
  assert.ok(Math.abs(fit.isoflop.a - a) < 0.05, `Approach 2 a ${fit.isoflop.a} vs ${a}`);
  // Issue #19: one recommended row per budget follows the approaches' rows.
  assert.deepEqual(fit.table.map((r: { approach: string }) => r.approach), [
    "parametric",
    "isoflop",
    "recommended",
  ]);
  const truth = computeOptimal(TRUTH, 1e20, 6);
  for (const row of fit.table) {
    assert.equal(row.C, 1e20);
    assert.ok(Math.abs(Math.log(row.N / truth.params)) < 0.5, `${row.approach} N ${row.N}`);
    assert.ok(Math.abs(row.loss / truth.loss - 1) < 0.02, `${row.approach} loss ${row.loss}`);
    assert.ok(row.ci.N[0] < row.N && row.N < row.ci.N[1]);
    assert.ok(row.prediction_interval[0] <= row.ci.loss[0]);
  }
  assert.equal(fit.bootstrap.n_resamples, 20);
  assert.equal(fit.bootstrap.resampling, "residual");
  // Four budgets are fewer than the five a power law across budgets needs.
  assert.deepEqual(fit.warnings.map((w: { code: string }) => w.code), [
    "few_budgets",
    "extrapolation",
  ]);
  assert.match(fit.warnings[0].message, /only 4 budget\(s\)/);
  assert.equal(fit.noise.source, "parabola_residuals");
  assert.equal(fit.sensitivity.rows.length, 2);
});

Deno.test("POST /v1/fit forecasts held-out budgets with a known floor (JSON and CSV)", async () => {
  const points = isoflopPoints({
    budgets: [...SIX_BUDGETS.slice(0, 5), 1e20],
    perBudget: 5,
    halfWidth: 1.5,
    noiseSd: 0.003,
    seed: 9,
  });
  const body = {
    points,
    bootstrap: 30,
    backtest: { hold_out_above: 1e19 },
    E: { fixed: TRUTH.E },
    sensitivity: false,
  };
  const res = await post(JSON.stringify(body));
  assert.equal(res.status, 200, await res.clone().text());
  const fit = await res.json();
  assert.equal(fit.parametric.E, TRUTH.E);
  assert.equal(fit.sensitivity, null);
  assert.equal(fit.backtest.hold_out_above, 1e19);
  const [held] = fit.backtest.held_out;
  assert.equal(held.C, 1e20);
  const truth = computeOptimal(TRUTH, 1e20, 6);
  for (const f of held.forecasts) {
    assert.ok(Math.abs(f.loss / truth.loss - 1) < 0.01, `${f.approach} ${f.loss}`);
    assert.ok(f.ci.loss[0] < f.loss && f.loss < f.ci.loss[1]);
    assert.equal(typeof f.inside.loss, "boolean");
  }
  const csv = "N,D,loss\n" + points.map((p) => `${p.N},${p.D},${p.loss}`).join("\n") + "\n";
  const viaCsv = await post(
    csv,
    "text/csv",
    `/v1/fit?bootstrap=30&hold_out_above=1e19&E_fixed=${TRUTH.E}&sensitivity=false`,
  );
  assert.equal(viaCsv.status, 200, await viaCsv.clone().text());
  const csvFit = await viaCsv.json();
  assert.deepEqual(csvFit.backtest, fit.backtest, "CSV query options mean what the JSON ones do");
});

Deno.test("POST /v1/fit takes CSV with options in the query, and answers markdown on request", async () => {
  const res = await post(CSV, "text/csv", "/v1/fit?bootstrap=10&budgets=1e20,1e21&seed=3");
  assert.equal(res.status, 200);
  const fit = await res.json();
  assert.equal(fit.n_points, 24);
  assert.deepEqual(fit.table.map((r: { C: number }) => r.C), [
    1e20,
    1e21,
    1e20,
    1e21,
    1e20,
    1e21,
  ]);
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
  // Issue #19: the markdown leads with the recommended rows.
  assert.match(await accept.text(), /^### Recommended/);
  // With a backtest, the markdown leads with the check; the sensitivity table follows the fit.
  const checked = await post(CSV, "text/csv", "/v1/fit?bootstrap=10&backtest=true&format=markdown");
  const text = await checked.text();
  assert.match(
    text,
    /^### Held-out forecast check — fitted on the 3 budgets ≤ 1\.00e\+18 FLOPs \(18 runs\)/,
  );
  assert.match(text, /\| 3\.00e\+18 \| 3\.0 \| 3 \| /);
  assert.ok(text.indexOf("### Approach 3") > text.indexOf("### Held-out"));
  assert.match(text, /### Leave-one-budget-out[^]*\| 2 \| 3\.00e\+18 \| /);
  const joint = await post(CSV, "text/csv", "/v1/fit?bootstrap=0&sensitivity=false&form=joint");
  assert.equal(joint.status, 200);
  const jfit = await joint.json();
  assert.equal(jfit.parametric.form, "joint");
  assert.match(jfit.markdown, /### Approach 3 \(parametric fit, joint form L = E \+ \(A\/N\^α/);
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
    [
      JSON.stringify({ points: POINTS, form: "kaplan" }),
      "application/json",
      422,
      /"additive" or "joint"/,
      "form",
    ],
    ["{not json", "application/json", 400, /not valid JSON/],
    ["N,D\n1,2\n", "text/csv", 422, /lacks column "loss"/, "csv line 1"],
    ["N,D,loss\n1,2,3\n4,x,6\n", "text/csv", 422, /line 3, column D/, "csv line 3 column D"],
    ["N,D,loss\n1,2,3\n4,5\n", "text/csv", 422, /line 3: 2 cell/, "csv line 3"],
    ["N,D,loss\n1,-2,3\n", "text/csv", 422, /csv line 2 column D: .*> 0/, "csv line 2 column D"],
    ["", "text/csv", 422, /empty/, "csv"],
    ["N,D,loss\n1,2,3\n", "text/plain", 415, /Unsupported/],
    [
      JSON.stringify({ points: POINTS, E: { fixed: 1.7, max: 2 } }),
      "application/json",
      422,
      /either fixed or min\/max/,
      "E.max",
    ],
    [
      JSON.stringify({ points: POINTS, E: { fixed: 99 } }),
      "application/json",
      422,
      /not below the lowest observed loss/,
      "E.fixed",
    ],
    [
      JSON.stringify({ points: POINTS, backtest: { hold_out_above: "1e19" } }),
      "application/json",
      422,
      /backtest\.hold_out_above \(FLOPs\) must be a finite number/,
      "backtest",
    ],
    [
      JSON.stringify({ points: POINTS, backtest: { hold_out_above: 1e25 }, bootstrap: 0 }),
      "application/json",
      422,
      /no budget lies above/,
      "backtest.hold_out_above",
    ],
    [
      JSON.stringify({ points: POINTS, bootstrap_method: "pairs" }),
      "application/json",
      422,
      /residual/,
      "bootstrap_method",
    ],
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
    await post(CSV, "text/csv", "/v1/fit?E_fixed=-1"),
    422,
    /E\.fixed .*> 0/,
    "E.fixed",
  );
  await problem(
    await post(JSON.stringify({ points: POINTS }), "application/json", "/v1/fit?bootstrap=5"),
    422,
    /put options in the body/,
    "query.bootstrap",
  );
});

Deno.test("POST /v1/fit answers 10⁶ points with a 413 naming the limit", async () => {
  const point = '{"N":1,"D":1,"loss":1}';
  const body = '{"points":[' + Array(1_000_000).fill(point).join(",") + "]}";
  // The app-wide body limit answers first, counting the stream as it arrives. (Speed: the
  // bench; here only what is answered.)
  const byBytes = await problem(
    await post(body),
    413,
    /over the limit max_body_bytes = 16777216/,
    "(body)",
  );
  assert.deepEqual(byBytes.limit, { name: "max_body_bytes", value: 16 * 1024 * 1024 });
  // With a larger body limit, the point limit answers — before any per-point validation.
  const roomy = createApp({
    config: loadConfig({ FLOPS_FIT_MAX_BODY_BYTES: String(64 * 1024 * 1024) }),
  });
  const res = await roomy.request("/v1/fit", {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  const byPoints = await problem(res, 413, /1000000 points exceed the limit of 20000/, "points");
  assert.deepEqual(byPoints.limit, { name: "max_fit_points", value: 20000, actual: 1_000_000 });
  const csv = "N,D,loss\n" + "1,1,1\n".repeat(20_001);
  await problem(await post(csv, "text/csv"), 413, /more than 20000 points/, "points");
  const declared = await app.request("/v1/fit", {
    method: "POST",
    body: "{}",
    headers: { "content-type": "application/json", "content-length": String(1e9) },
  });
  const byDeclared = await problem(declared, 413, /over the limit max_body_bytes/, "(body)");
  assert.equal(byDeclared.limit.actual, 1e9);
});

Deno.test("POST /v1/fit is in /openapi.json with its request and response schemas", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  const op = doc.paths["/v1/fit"].post;
  assert.ok(op.requestBody.content["application/json"]);
  assert.ok(op.requestBody.content["text/csv"]);
  assert.ok(op.responses["200"].content["text/markdown"]);
  const schemas = doc.components.schemas;
  for (
    const name of [
      "FitRequest",
      "FitResult",
      "FitPoint",
      "ParametricResult",
      "IsoflopResult",
      "EConstraint",
      "LossFrontier",
      "BacktestResult",
      "HeldOutBudget",
      "Forecast",
      "SensitivityResult",
      "NoiseResult",
    ]
  ) {
    assert.ok(schemas[name], name);
  }
  const request = schemas.FitRequest.properties;
  assert.equal(request.bootstrap.default, 200);
  assert.equal(request.huber_delta.default, 1e-3);
  assert.equal(request.sensitivity.default, true);
  assert.deepEqual(request.bootstrap_method.enum, ["residual", "points"]);
  assert.deepEqual(request.form.enum, ["additive", "joint"]);
  assert.equal(request.form.default, "additive");
  assert.ok(schemas.ParametricResult.properties.gamma);
  assert.equal(request.backtest.anyOf.length, 2);
  assert.deepEqual(Object.keys(schemas.EConstraint.properties), ["fixed", "min", "max"]);
  const query = op.parameters.map((p: { name: string }) => p.name);
  for (const name of ["hold_out_above", "E_fixed", "E_min", "E_max", "sensitivity"]) {
    assert.ok(query.includes(name), name);
  }
});
