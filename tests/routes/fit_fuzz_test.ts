import assert from "node:assert/strict";
import fc from "fast-check";
import { loadConfig } from "../../lib/service/config.ts";
import { createApp } from "../../routes/mod.ts";

const app = createApp({ config: loadConfig({}) });

async function status(body: unknown): Promise<number> {
  const res = await app.request("/v1/fit", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("POST /v1/fit never answers 500 to arbitrary JSON values", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.anything(),
        fc.record({ points: fc.array(fc.anything(), { maxLength: 8 }) }, { requiredKeys: [] }),
      ),
      async (body) => {
        const s = await status(body);
        assert.ok(s >= 400 && s < 500, `status ${s} for ${JSON.stringify(body)}`);
      },
    ),
    { numRuns: 200, seed: 1 },
  );
});

Deno.test("POST /v1/fit answers 200 or a 4xx (never 500) for any positive finite points", async () => {
  const value = (lo: number, hi: number) =>
    fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ N: value(1e-6, 1e15), D: value(1e-6, 1e15), loss: value(1e-4, 1e4) }), {
        minLength: 6,
        maxLength: 30,
      }),
      fc.boolean(),
      async (points, backtest) => {
        const s = await status({ points, bootstrap: 5, backtest, budget_rel_tol: 0.5 });
        assert.ok(s === 200 || (s >= 400 && s < 500), `status ${s} for ${JSON.stringify(points)}`);
      },
    ),
    { numRuns: 60, seed: 2 },
  );
});
