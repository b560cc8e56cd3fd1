import assert from "node:assert/strict";
import { OpenAPIHono } from "@hono/zod-openapi";
import { createCifar10 } from "../../data/cifar10.ts";
import { getDataset } from "../../data/mod.ts";
import { loadConfig } from "../../lib/service/config.ts";
import { fitPoolFromConfig } from "../../lib/service/job_pool.ts";
import { trainingPoolFromConfig } from "../../lib/service/training_pool.ts";
import { datasetRoutes } from "../../routes/datasets.ts";
import { createApp } from "../../routes/mod.ts";
import { problemResponse } from "../../routes/problem.ts";

const dataDir = await Deno.makeTempDir({ prefix: "flops-fit-routes-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dataDir, { recursive: true }));
const app = createApp({ config: loadConfig({ FLOPS_FIT_DATA_DIR: dataDir }) });

async function problem(path: string, status: number, init?: RequestInit) {
  const res = await app.request(path, init);
  assert.equal(res.status, status, `${path}: ${await res.clone().text()}`);
  assert.equal(res.headers.get("content-type"), "application/problem+json");
  return await res.json();
}

Deno.test("GET /v1/datasets lists the registry with readiness and the synthetic floors", async () => {
  const res = await app.request("/v1/datasets");
  assert.equal(res.status, 200);
  const { datasets } = await res.json();
  assert.deepEqual(datasets.map((d: { name: string }) => d.name), [
    "cifar10",
    "fashion-mnist",
    "tinystories",
    "synthetic-text",
    "synthetic-text-order1",
    "synthetic-text-order3",
    "synthetic-quanta",
    "synthetic-images",
  ]);
  const byName = Object.fromEntries(datasets.map((d: { name: string }) => [d.name, d]));
  assert.equal(byName["cifar10"].ready, false);
  assert.equal(byName["cifar10"].checksum.md5, "c32a1d4ab5d03f1284b67883e8d87530");
  assert.equal(byName["synthetic-text"].ready, true);
  assert.ok(Math.abs(byName["synthetic-text"].entropy_nats - 1.0836) < 1e-3);
  assert.ok(Math.abs(byName["synthetic-images"].entropy_nats - 0.5448) < 1e-3);
  assert.ok(Math.abs(byName["synthetic-quanta"].entropy_nats - 2.3070) < 1e-3);
});

Deno.test("GET /v1/datasets/{name} answers metadata, 404 for unknown names, 400 for traversal", async () => {
  const res = await app.request("/v1/datasets/synthetic-text");
  assert.equal(res.status, 200);
  const info = await res.json();
  assert.equal(info.text.vocab_size, 256);
  assert.equal((await problem("/v1/datasets/imagenet", 404)).field, "name");
  for (
    const bad of [
      "text-file:..%2F..%2Fetc%2Fpasswd",
      "text-file:%2Fetc%2Fpasswd",
      "cifar-file:a%2F.%2Fb",
    ]
  ) {
    const body = await problem(`/v1/datasets/${bad}`, 400);
    assert.equal(body.field, "name");
  }
});

Deno.test("GET …/batches gives the same examples for the same seed, at any offset alignment", async () => {
  const get = async (q: string) => {
    const res = await app.request(`/v1/datasets/synthetic-text/batches?${q}`);
    assert.equal(res.status, 200);
    return await res.json();
  };
  const a = await get("seed=4&offset=0&limit=8&context=16");
  const b = await get("seed=4&offset=0&limit=8&context=16");
  assert.deepEqual(a, b);
  assert.deepEqual(a.shape, [8, 16]);
  assert.equal(a.split, "train");
  assert.equal(a.texts[0].length, 16);
  const mid = await get("seed=4&offset=3&limit=2&context=16");
  assert.deepEqual(mid.inputs, a.inputs.slice(3, 5));
  const other = await get("seed=5&offset=0&limit=8&context=16");
  assert.notDeepEqual(other.inputs, a.inputs);
});

Deno.test("GET …/batches answers a binary body described by x-batch-arrays when asked", async () => {
  const res = await app.request("/v1/datasets/synthetic-images/batches?split=test&limit=3&seed=1", {
    headers: { accept: "application/octet-stream" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  assert.equal(res.headers.get("x-batch-arrays"), "images=float32[3,32,32,3]; labels=int32[3]");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.equal(bytes.length, 3 * 3072 * 4 + 3 * 4);
  const json =
    await (await app.request("/v1/datasets/synthetic-images/batches?split=test&limit=3&seed=1"))
      .json();
  const images = new Float32Array(bytes.buffer, 0, 3 * 3072);
  const labels = new Int32Array(bytes.buffer, 3 * 3072 * 4, 3);
  assert.deepEqual(Array.from(labels), json.labels);
  assert.deepEqual(Array.from(images.subarray(0, 10)), json.images.slice(0, 10));
});

Deno.test("GET …/batches refuses an unknown split, offset past the end, limit over the cap, unprepared data", async () => {
  assert.equal(
    (await problem("/v1/datasets/synthetic-images/batches?split=dev", 422)).field,
    "split",
  );
  const past = await problem("/v1/datasets/synthetic-images/batches?split=test&offset=10000", 422);
  assert.equal(past.field, "offset");
  assert.match(past.detail, /10000 examples/);
  assert.equal(
    (await problem("/v1/datasets/synthetic-text/batches?limit=257", 422)).field,
    "limit",
  );
  assert.equal(
    (await problem("/v1/datasets/synthetic-text/batches?offset=-1", 422)).field,
    "offset",
  );
  assert.equal(
    (await problem("/v1/datasets/synthetic-text/batches?context=0", 422)).field,
    "context",
  );
  const cifar = await problem("/v1/datasets/cifar10/batches", 409);
  assert.match(cifar.detail, /POST \/v1\/datasets\/cifar10\/prepare/);
  assert.equal((await problem("/v1/datasets/text-file:..%2Fx/batches", 400)).field, "name");
});

Deno.test("a text file under <data dir>/files/ is served by name over HTTP", async () => {
  await Deno.mkdir(`${dataDir}/files`, { recursive: true });
  await Deno.writeTextFile(`${dataDir}/files/story.txt`, "Once upon a time. ".repeat(200));
  const res = await app.request(
    "/v1/datasets/text-file:story.txt/batches?limit=2&context=18&split=train",
  );
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.ok(body.texts.every((t: string) => /^[Once upon a time. ]{18}$/.test(t)), body.texts);
  assert.equal(
    (await problem("/v1/datasets/text-file:nothere.txt/prepare", 404, { method: "POST" })).field,
    "name",
  );
});

Deno.test("symbolic links under files/ are not followed out of the data directory; no absolute path is shown", async () => {
  await Deno.mkdir(`${dataDir}/files`, { recursive: true });
  await Deno.writeTextFile(`${dataDir}/files/inside.txt`, "Once upon a time. ".repeat(200));
  const outside = await Deno.makeTempDir({ prefix: "flops-fit-outside-" });
  try {
    await Deno.writeTextFile(`${outside}/secret.txt`, "root:x:0:0:secret ".repeat(200));
    await Deno.symlink("/", `${dataDir}/files/root`);
    await Deno.symlink(outside, `${dataDir}/files/out`);
    await Deno.symlink(`${dataDir}/files/inside.txt`, `${dataDir}/files/alias.txt`);
    for (const name of ["root%2Fetc%2Fpasswd", "out%2Fsecret.txt"]) {
      const res = await app.request(`/v1/datasets/text-file:${name}/batches?limit=1&context=8`);
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.ok(!text.includes("root:"), text);
      assert.match(JSON.parse(text).detail, /leads outside <data dir>\/files\//);
      assert.equal(JSON.parse(text).field, "name");
      const described = await app.request(`/v1/datasets/text-file:${name}`);
      assert.equal(described.status, 400);
      const prepared = await app.request(`/v1/datasets/text-file:${name}/prepare`, {
        method: "POST",
      });
      assert.equal(prepared.status, 400);
    }
    // A link that stays inside is fine.
    const alias = await app.request("/v1/datasets/text-file:alias.txt/batches?limit=1&context=8");
    assert.equal(alias.status, 200);
    const info = await (await app.request("/v1/datasets/text-file:inside.txt")).json();
    assert.match(info.description, /^Your text file <data dir>\/files\/inside\.txt,/);
    assert.ok(!JSON.stringify(info).includes(dataDir), JSON.stringify(info));
    const missing = await app.request("/v1/datasets/text-file:nothere.txt/prepare", {
      method: "POST",
    });
    assert.ok(!(await missing.text()).includes(dataDir));
  } finally {
    for (const link of ["root", "out", "alias.txt"]) {
      await Deno.remove(`${dataDir}/files/${link}`).catch(() => {});
    }
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("POST …/prepare readies a dataset, and needs the bearer token when one is configured", async () => {
  const res = await app.request("/v1/datasets/synthetic-text/prepare", { method: "POST" });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).ready, true);
  const locked = createApp({
    config: loadConfig({ FLOPS_FIT_TOKEN: "s3cret", FLOPS_FIT_DATA_DIR: dataDir }),
  });
  const denied = await locked.request("/v1/datasets/synthetic-text/prepare", { method: "POST" });
  assert.equal(denied.status, 401);
  assert.match(denied.headers.get("www-authenticate")!, /^Bearer\b/);
  const allowed = await locked.request("/v1/datasets/synthetic-text/prepare", {
    method: "POST",
    headers: { authorization: "Bearer s3cret" },
  });
  assert.equal(allowed.status, 200);
});

Deno.test("POST …/prepare offline answers 503 naming the URL, the checksum and where to put the file", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const offline = createCifar10({ url: `http://127.0.0.1:${port}/cifar-10-binary.tar.gz` });
  const mini = new OpenAPIHono();
  const config = loadConfig({ FLOPS_FIT_DATA_DIR: dataDir });
  const ctx = {
    config,
    startedAtMs: 0,
    trainingPool: trainingPoolFromConfig(config),
    fitPool: fitPoolFromConfig(config),
  };
  mini.route(
    "/",
    datasetRoutes(ctx, {
      list: () => [offline],
      get: (n, o) => n === "cifar10" ? offline : getDataset(n, o),
    }),
  );
  mini.onError((error, c) => problemResponse(c, error));
  const res = await mini.request("/v1/datasets/cifar10/prepare", { method: "POST" });
  assert.equal(res.status, 503);
  const body = await res.json();
  assert.equal(body.url, `http://127.0.0.1:${port}/cifar-10-binary.tar.gz`);
  assert.equal(
    body.expected_checksum.sha256,
    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
  );
  // Where to put it, relative to the data directory: no absolute server path in an answer.
  assert.equal(body.manual_path, "<data dir>/cifar10/cifar-10-binary.tar.gz");
  assert.match(body.detail, /put it at <data dir>\/cifar10\/cifar-10-binary\.tar\.gz/);
  assert.ok(!JSON.stringify(body).includes(dataDir), JSON.stringify(body));
  const listed = await (await mini.request("/v1/datasets/cifar10")).json();
  assert.match(listed.last_error, /Cannot reach/);
  assert.ok(!JSON.stringify(listed).includes(dataDir), JSON.stringify(listed));
});

Deno.test("GET /openapi.json documents the dataset routes", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  for (
    const path of [
      "/v1/datasets",
      "/v1/datasets/{name}",
      "/v1/datasets/{name}/batches",
      "/v1/datasets/{name}/prepare",
    ]
  ) {
    assert.ok(doc.paths[path], path);
  }
});
