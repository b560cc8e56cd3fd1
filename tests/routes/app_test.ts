import assert from "node:assert/strict";
import { createApp } from "../../routes/mod.ts";
import { loadConfig } from "../../lib/service/config.ts";

const app = createApp({ config: loadConfig({}) });

Deno.test("GET /healthz answers ok with version and limits", async () => {
  const res = await app.request("/healthz");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.status, "ok");
  assert.equal(typeof body.version, "string");
  assert.equal(body.limits.max_fit_points, 20_000);
});

Deno.test("unknown route is a problem+json 404 naming the path", async () => {
  const res = await app.request("/v1/nope?x=1", { method: "DELETE" });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  const body = await res.json();
  assert.equal(body.status, 404);
  assert.equal(body.title, "Not found");
  assert.match(body.detail, /DELETE \/v1\/nope/);
  assert.equal(body.instance, "/v1/nope");
});

Deno.test("GET /openapi.json is an OpenAPI 3.1 document listing /healthz", async () => {
  const res = await app.request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.ok(doc.paths["/healthz"].get);
});

Deno.test("GET /docs serves a Swagger UI page whose assets are served locally", async () => {
  const page = await app.request("/docs");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /swagger-ui-bundle\.js/);
  const js = await app.request("/docs/swagger-ui-bundle.js");
  assert.equal(js.status, 200);
  assert.ok((await js.arrayBuffer()).byteLength > 100_000);
  const init = await app.request("/docs/docs-init.js");
  assert.match(await init.text(), /openapi\.json/);
  const missing = await app.request("/docs/..%2F..%2Fetc%2Fpasswd");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/problem+json");
});

Deno.test("createApp() refuses a dataset resolver its training workers could not use", () => {
  assert.throws(
    () => createApp({ config: loadConfig({}), resolveDataset: () => undefined }),
    (e) => e instanceof TypeError && /resolveDataset.*trainer/.test(e.message),
  );
});
