/**
 * Property-based fuzzing of every route the app mounts (read from the app itself, so routes
 * merged later are fuzzed too): random methods, paths, query strings, headers and bodies —
 * malformed, near-valid and oversized. Every answer must come within a deadline, be below
 * 500, and be problem+json when it is an error; the app must be healthy afterwards.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { startServer } from "../../lib/service/server.ts";
import { testApp } from "../lib/service/fixtures/test_app.ts";

/** Longest any single request may take before the run counts as a hang. */
const REQUEST_DEADLINE_MS = 15_000;

/** Limits low enough that no fuzzed request can start expensive work. */
const FUZZ_ENV = {
  FLOPS_FIT_MAX_BODY_BYTES: String(64 * 1024),
  FLOPS_FIT_MAX_FIT_POINTS: "200",
  FLOPS_FIT_MAX_BOOTSTRAP: "20",
  FLOPS_FIT_MAX_TRAIN_FLOPS: "1e6",
  FLOPS_FIT_MAX_MODEL_PARAMS: "100000",
  FLOPS_FIT_MAX_BATCH_SIZE: "16",
  FLOPS_FIT_MAX_TRAIN_WALL_S: "3",
  // Dataset endpoints cache into a scratch folder, never the user's cache.
  FLOPS_FIT_DATA_DIR: Deno.makeTempDirSync({ prefix: "flops-fit-fuzz-" }),
};
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(FUZZ_ENV.FLOPS_FIT_DATA_DIR, { recursive: true });
  } catch {
    // Already gone.
  }
});

/**
 * The one deliberate 5xx: preparing a dataset whose upstream cannot be reached (this machine is
 * offline) is a 503 naming the URL and where to put the file by hand (issue 4), not a failure of
 * this service.
 */
function deliberateUnavailable(outcome: Outcome, path: string): boolean {
  return outcome.status === 503 && /\/prepare$/.test(path) &&
    outcome.contentType === "application/problem+json" &&
    /Cannot reach|offline/i.test(outcome.text);
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

const nastyStrings = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "..",
    "../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "cifar10",
    "fashion-mnist",
    "tinystories",
    "synthetic-text",
    "synthetic-images",
    "nope",
    "%00",
    "a".repeat(5000),
    "🙂",
    "NaN",
    "-1",
    "1e309",
  ),
);

const numberish = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -1, 1e-300, 1e300, Number.MAX_SAFE_INTEGER),
  fc.constantFrom("NaN", "Infinity", "-Infinity", "1e3", "", null, true, [], {}),
);

/** Bodies shaped like the real endpoints' requests, with random or hostile values. */
const nearValidBodies = fc.oneof(
  // POST /v1/fit
  fc.record({
    points: fc.array(
      fc.record({ N: numberish, D: numberish, loss: numberish, C: numberish, budget: numberish }, {
        requiredKeys: [],
      }),
      { maxLength: 30 },
    ),
    budgets: fc.array(numberish, { maxLength: 4 }),
    bootstrap: numberish,
    seed: numberish,
    backtest: fc.oneof(fc.boolean(), numberish),
  }, { requiredKeys: [] }),
  // POST /v1/train
  fc.record({
    family: fc.oneof(fc.constantFrom("gpt", "vit", "resnet", ""), nastyStrings),
    size: numberish,
    dataset: fc.oneof(nastyStrings, fc.record({ name: nastyStrings, split: nastyStrings })),
    budget: fc.oneof(
      fc.record({ flops: numberish }),
      fc.record({ steps: numberish }),
      fc.record({ samples: numberish, tokens: numberish }),
      numberish,
    ),
    batch_size: numberish,
    lr: numberish,
    seed: numberish,
    config: fc.dictionary(fc.string({ maxLength: 12 }), numberish, { maxKeys: 6 }),
  }, { requiredKeys: [] }),
  // POST /v1/plan and sweeps
  fc.record({
    family: nastyStrings,
    budgets: fc.array(numberish, { maxLength: 6 }),
    sizes: numberish,
    width: numberish,
  }, { requiredKeys: [] }),
);

const bodies = fc.oneof(
  fc.constant(undefined),
  nearValidBodies.map((b) => JSON.stringify(b)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom(
    "{",
    "[1,2,",
    '{"points": [',
    "N,D,loss\n1,2,3\n4,5",
    "N,D,loss\nx,y,z\n",
    "N,D,loss,C\n1e6,2e7,3.1,1e15\n\n,,,\n",
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"x": 1}}}',
    "[".repeat(20_000) + "]".repeat(20_000),
    "0".repeat(200_000),
  ),
  // Oversized: past the body limit.
  fc.integer({ min: 64 * 1024 + 1, max: 300 * 1024 }).map((n) => "x".repeat(n)),
);

const contentTypes = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "text/csv",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=xyz",
  "application/octet-stream",
  "garbage/\u00ff",
);

const accepts = fc.constantFrom(
  undefined,
  "application/json",
  "text/event-stream",
  "application/x-ndjson",
  "text/markdown",
  "application/octet-stream",
  "*/*",
  "text/html;q=0.1, x/y",
);

const queries = fc.dictionary(
  fc.constantFrom("format", "split", "offset", "limit", "seed", "x", "__proto__", "bootstrap"),
  fc.oneof(nastyStrings, fc.integer().map(String)),
  { maxKeys: 4 },
);

function fillParams(path: string, values: string[]): string {
  let i = 0;
  return path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, () => encodeURIComponent(values[i++] ?? "x"))
    .replace(/\*/g, values[i++] ?? "x");
}

/** Every concrete route the app mounts, plus random paths. */
function pathArbitrary(routePaths: string[]) {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...routePaths), fc.array(nastyStrings, { minLength: 3, maxLength: 3 }))
      .map(([p, v]) => fillParams(p, v)),
    fc.webPath(),
    fc.constantFrom("/", "//", "/v1", "/v1/", "/healthz/", "/v1/fit/x", "/%ff", "/docs/../.."),
  );
}

interface Outcome {
  status: number;
  contentType: string | null;
  text: string;
}

async function send(
  app: { request: (url: string, init: RequestInit) => Response | Promise<Response> },
  url: string,
  init: RequestInit,
): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`hang: ${init.method} ${url} > ${REQUEST_DEADLINE_MS} ms`)),
      REQUEST_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        const res = await app.request(url, init);
        return {
          status: res.status,
          contentType: res.headers.get("content-type"),
          text: init.method === "HEAD" ? "" : await res.text(),
        };
      })(),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function checkOutcome(outcome: Outcome, what: string): void {
  const path = what.split(" ")[1]!.split("?")[0]!;
  assert.ok(
    outcome.status < 500 || deliberateUnavailable(outcome, path),
    `${what} → ${outcome.status} ${outcome.text.slice(0, 300)}`,
  );
  if (outcome.status >= 400 && outcome.text !== "") {
    assert.equal(outcome.contentType, "application/problem+json", `${what} → ${outcome.status}`);
    const problem = JSON.parse(outcome.text);
    assert.equal(problem.status, outcome.status, what);
    assert.ok(!/\n\s+at /.test(outcome.text), `${what} leaked a stack trace`);
  }
}

for (const withToken of [false, true]) {
  Deno.test(`every route survives fuzzed requests${withToken ? " (token set)" : ""}`, async () => {
    const { app, pool } = testApp({
      ...FUZZ_ENV,
      ...(withToken ? { FLOPS_FIT_TOKEN: "fuzz-token" } : {}),
    });
    const routePaths = [
      ...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => r.path)),
    ];
    const request = fc.record({
      method: fc.constantFrom(...METHODS),
      path: pathArbitrary(routePaths),
      query: queries,
      body: bodies,
      contentType: contentTypes,
      accept: accepts,
      requestId: fc.option(fc.string({ maxLength: 200 })),
      authorization: fc.option(
        fc.oneof(fc.string(), fc.constant("Bearer fuzz-token"), fc.constant("Bearer ")),
      ),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers = new Headers();
        const safe = (name: string, value: string | null | undefined) => {
          if (value === undefined || value === null) return;
          try {
            headers.set(name, value);
          } catch {
            // Not a valid header value; real clients cannot send it either.
          }
        };
        safe("content-type", r.contentType);
        safe("accept", r.accept);
        safe("x-request-id", r.requestId);
        safe("authorization", r.authorization);
        const search = new URLSearchParams(r.query).toString();
        const url = `http://localhost${r.path}${search === "" ? "" : `?${search}`}`;
        const hasBody = r.body !== undefined && r.method !== "GET" && r.method !== "HEAD";
        const outcome = await send(app, url, {
          method: r.method,
          headers,
          ...(hasBody ? { body: r.body as BodyInit } : {}),
        });
        checkOutcome(outcome, `${r.method} ${r.path}`);
      }),
      { numRuns: 1500, seed: withToken ? 7 : 6 },
    );
    const health = await app.request("/healthz");
    assert.equal(health.status, 200);
    assert.equal(pool.active, 0);
  });
}

Deno.test("each mounted endpoint survives its own method with near-valid and hostile bodies", async () => {
  const { app, pool } = testApp(FUZZ_ENV);
  const routes = app.routes.filter((r) =>
    r.method !== "ALL" && !r.path.startsWith("/v1/_fixture") && !r.path.startsWith("/docs")
  );
  const endpoints = [...new Set(routes.map((r) => `${r.method} ${r.path}`))];
  assert.ok(endpoints.length >= 3, endpoints.join(", "));
  for (const endpoint of endpoints) {
    const [method, path] = endpoint.split(" ") as [string, string];
    await fc.assert(
      fc.asyncProperty(
        fc.array(nastyStrings, { minLength: 3, maxLength: 3 }),
        queries,
        fc.oneof(nearValidBodies.map((b) => JSON.stringify(b)), bodies),
        fc.constantFrom("application/json", "text/csv", undefined),
        accepts,
        async (params, query, body, contentType, accept) => {
          const headers = new Headers();
          if (contentType) headers.set("content-type", contentType);
          if (accept) headers.set("accept", accept);
          const search = new URLSearchParams(query).toString();
          const url = `http://localhost${fillParams(path, params)}${search ? `?${search}` : ""}`;
          const hasBody = method !== "GET" && method !== "HEAD" && body !== undefined;
          const outcome = await send(app, url, {
            method,
            headers,
            ...(hasBody ? { body: body as BodyInit } : {}),
          });
          checkOutcome(outcome, endpoint);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  }
  assert.equal((await app.request("/healthz")).status, 200);
  while (pool.active > 0) await new Promise((r) => setTimeout(r, 20));
});

Deno.test("the server survives garbage on the socket and answers healthz after", async () => {
  const { app, pool } = testApp(FUZZ_ENV);
  const server = startServer({ port: 0, hostname: "127.0.0.1", fetch: app.fetch, pool, graceS: 1 });
  const port = server.addr.port;
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.uint8Array({ maxLength: 2000 }),
        fc.string({ maxLength: 500 }).map((s) => new TextEncoder().encode(s)),
        fc.constantFrom(
          "GET / HTTP/1.1\r\n\r\n",
          "POST /v1/fit HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{",
          "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          `GET /${"a".repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
          "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(100_000) + "\r\n\r\n",
        ).map((s) => new TextEncoder().encode(s)),
      ),
      async (bytes) => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        try {
          await conn.write(bytes).catch(() => 0);
          await conn.closeWrite().catch(() => {});
          const buffer = new Uint8Array(4096);
          const read = conn.read(buffer).catch(() => null);
          let timer: ReturnType<typeof setTimeout> | undefined;
          const bounded = new Promise((r) => timer = setTimeout(r, 2000));
          await Promise.race([read, bounded]);
          clearTimeout(timer);
        } finally {
          try {
            conn.close();
          } catch {
            // Already closed by the server.
          }
        }
      },
    ),
    { numRuns: 200, seed: 11 },
  );
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  await server.shutdown();
});
