import assert from "node:assert/strict";
import { getDataset } from "../../data/mod.ts";
import { parseFamilyDescription } from "../../lib/plan/family_description.ts";
import { loadConfig } from "../../lib/service/config.ts";
import { planTraining } from "../../lib/train/run_plan.ts";
import { TrainRequestSchema } from "../../lib/train/request.ts";
import { createApp } from "../../routes/mod.ts";

const app = createApp({ config: loadConfig({}) });

async function get(path: string) {
  const res = await app.request(path);
  return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
}

Deno.test("GET /v1/families lists every registry family as a valid, ascending table", async () => {
  const { status, body } = await get("/v1/families");
  assert.equal(status, 200);
  assert.deepEqual(body.families.map((f: { name: string }) => f.name).sort(), ["gpt", "vit"]);
  for (const f of body.families) {
    const table = parseFamilyDescription(f, "flops-fit");
    assert.ok(table.sizes.length > 20, `${f.name} lists its candidate sizes`);
  }
  const text = await get("/v1/families?dataset=synthetic-text");
  assert.deepEqual(text.body.families.map((f: { name: string }) => f.name), ["gpt"]);
});

Deno.test("GET /v1/families/{name} serves the numbers POST /v1/train reports for the same request", async () => {
  const cases = [
    { family: "gpt", dataset: "synthetic-text-order1", config: { context: 16 }, unit: "tokens" },
    { family: "vit", dataset: "synthetic-images", config: { patch_size: 8 }, unit: "images" },
  ];
  for (const c of cases) {
    const query = `dataset=${c.dataset}&config=${encodeURIComponent(JSON.stringify(c.config))}`;
    const { status, body } = await get(`/v1/families/${c.family}?${query}`);
    assert.equal(status, 200);
    assert.equal(body.name, c.family);
    assert.equal(body.data_unit, c.unit);
    assert.equal(body.units_per_sample, c.unit === "tokens" ? 16 : 1);
    for (const row of body.sizes.filter((_: unknown, i: number) => i % 7 === 0)) {
      const plan = planTraining(
        TrainRequestSchema.parse({
          family: c.family,
          size: row.size,
          config: c.config,
          dataset: c.dataset,
          budget: { steps: 1 },
        }),
        { resolveDataset: (name) => getDataset(name) },
      );
      assert.equal(row.params, plan.params.total, `${c.family} ${row.size} params`);
      assert.equal(row.non_embedding_params, plan.params.nonEmbedding);
      assert.equal(row.flops_per_sample, plan.flopsPerSample);
      assert.deepEqual(row.config, plan.config);
    }
  }
});

Deno.test("GET /v1/families/{name} answers problems naming the field", async () => {
  const unknown = await get("/v1/families/rnn");
  assert.equal(unknown.status, 404);
  assert.match(unknown.type ?? "", /problem\+json/);
  assert.equal(unknown.body.field, "name");
  const notJson = await get("/v1/families/gpt?config=%7Bcontext");
  assert.equal(notJson.status, 422);
  assert.equal(notJson.body.field, "config");
  const badField = await get(`/v1/families/gpt?config=${encodeURIComponent('{"context":1}')}`);
  assert.equal(badField.status, 422);
  assert.equal(badField.body.field, "config.context");
  const wrongData = await get("/v1/families/vit?dataset=synthetic-text");
  assert.equal(wrongData.status, 422);
  assert.equal(wrongData.body.field, "dataset");
  const noData = await get("/v1/families/gpt?dataset=no-such-data");
  assert.equal(noData.status, 422);
  assert.equal(noData.body.field, "dataset");
});

Deno.test("/openapi.json documents the family routes and the FamilyDescription schema", async () => {
  const { body } = await get("/openapi.json");
  assert.ok(body.paths["/v1/families"]?.get);
  assert.ok(body.paths["/v1/families/{name}"]?.get);
  const schema = body.components.schemas.FamilyDescription;
  assert.deepEqual(
    [...schema.required].sort(),
    ["data_unit", "name", "size_param", "sizes", "units_per_sample"],
  );
});
