import assert from "node:assert/strict";
import { z } from "zod";
import { FitRequestSchema } from "../../lib/fit/mod.ts";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";
import {
  FIT_QUERY_PARAMETERS,
  fitOptionsFromQuery,
  unknownFitQueryParameter,
} from "../../routes/fit_query.ts";
import { isoflopPoints, SIX_BUDGETS } from "../lib/fit/_synthetic.ts";

const POINTS = isoflopPoints({
  budgets: SIX_BUDGETS.slice(0, 4),
  perBudget: 6,
  halfWidth: 1,
  noiseSd: 0.005,
});
const CSV = "N,D,loss\n" + POINTS.map((p) => `${p.N},${p.D},${p.loss}`).join("\n") + "\n";

// deno-lint-ignore no-explicit-any
type Def = any;
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
function unwrap(s: z.ZodType): z.ZodType {
  let x = s;
  while (defOf(x).innerType !== undefined) x = defOf(x).innerType;
  return x;
}

/** A valid, non-default value of a body field, and how the query writes it. */
function sample(field: string, schema: z.ZodType): [unknown, Record<string, string>][] {
  const def = defOf(unwrap(schema));
  switch (def.type) {
    case "number": {
      // The first of a few numbers the field accepts (an integer, a fraction, one in (0, 0.5]).
      const x = [0.25, 3].find((v) =>
        FitRequestSchema.safeParse({ points: POINTS, [field]: v }).success
      )!;
      return [[x, { [field]: String(x) }]];
    }
    case "boolean":
      return [[false, { [field]: "false" }]];
    case "enum": {
      const last = def.entries[Object.keys(def.entries).at(-1)!];
      return [[last, { [field]: String(last) }]];
    }
    case "array":
      return [[[1e20, 2e20], { [field]: "1e20,2e20" }]];
    case "object": {
      const sub = Object.keys(def.shape)[0]!;
      return [[{ [sub]: 2 }, { [`${field}_${sub}`]: "2" }]];
    }
    case "union":
      return def.options.map((option: z.ZodType) => {
        const o = defOf(unwrap(option));
        if (o.type === "boolean") return [true, { [field]: "true" }];
        const sub = Object.keys(o.shape)[0]!;
        return [{ [sub]: 3e19 }, { [sub]: "3e19" }];
      });
    default:
      throw new Error(`no sample for ${field} (${def.type})`);
  }
}

Deno.test("every body option of /v1/fit is accepted in the CSV query and means the same", () => {
  const shape = FitRequestSchema.shape as Record<string, z.ZodType>;
  const fields = Object.keys(shape).filter((f) => f !== "points");
  assert.ok(fields.length >= 13, fields.join(","));
  const covered = new Set([...FIT_QUERY_PARAMETERS.values()].map((p) => p.field));
  assert.deepEqual([...covered].sort(), [...fields].sort());
  for (const field of fields) {
    for (const [value, query] of sample(field, shape[field]!)) {
      const fromQuery = FitRequestSchema.safeParse({
        points: POINTS,
        ...fitOptionsFromQuery(query),
      });
      const fromBody = FitRequestSchema.safeParse({ points: POINTS, [field]: value });
      assert.ok(fromBody.success, `${field}: the sample is not valid in the body`);
      assert.ok(fromQuery.success, `${field}: ${JSON.stringify(query)} refused`);
      assert.deepEqual(
        (fromQuery.data as Record<string, unknown>)[field],
        (fromBody.data as Record<string, unknown>)[field],
        `${field} in the query means what it means in the body`,
      );
    }
  }
  assert.equal(unknownFitQueryParameter(["format", "bootstrap", "E_min"]), undefined);
  assert.equal(unknownFitQueryParameter(["bootstrap", "multi_start"]), "multi_start");
});

Deno.test("/v1/fit answers an invalid or unknown query parameter with a 422 naming it", async () => {
  const app = createApp({ config: loadConfig({ FLOPS_FIT_LOG_REQUESTS: "false" }) });
  const cases: [string, string][] = [
    ["multistart=bogus", "multistart"],
    ["huber_delta=-1", "huber_delta"],
    ["budget_rel_tol=2", "budget_rel_tol"],
    ["bootstrap=many", "bootstrap"],
    ["sensitivity=maybe", "sensitivity"],
    ["nonsense=1", "query.nonsense"],
  ];
  for (const [query, field] of cases) {
    const res = await app.request(`/v1/fit?bootstrap=0&${query}`, {
      method: "POST",
      body: CSV,
      headers: { "content-type": "text/csv" },
    });
    const body = await res.json();
    assert.equal(res.status, 422, `${query}: ${JSON.stringify(body)}`);
    assert.equal(body.field, field, query);
    assert.match(body.detail, new RegExp(field.replace("query.", "")), query);
  }
});
