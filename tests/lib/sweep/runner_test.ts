import assert from "node:assert/strict";
import { MockLawSchema } from "../../../lib/sweep/config.ts";
import { mockTrainer } from "../../../lib/sweep/mock.ts";
import { planSweep, type PointRequest } from "../../../lib/plan/grids.ts";
import { openResultsLog, parseResults } from "../../../lib/sweep/results.ts";
import { type RunEvent, runPoints } from "../../../lib/sweep/runner.ts";
import { isPermanentStatus, PermanentError } from "../../../lib/sweep/trainer.ts";
import { httpTrainer, parseTrainerList } from "../../../lib/sweep/http_trainer.ts";
import { toyFamily } from "../plan/_family.ts";

const family = toyFamily();
const law = MockLawSchema.parse({ noise: 0 });
const mock = mockTrainer(family, law);
const points = planSweep({ family, budgets: [1e12, 1e13], dataset: "x", sizesPerBudget: 4 })
  .flatMap((g) => g.points);

/** A loopback server answering POST /v1/train with the mock's result, after `behave` agrees. */
function fakeWorker(
  behave: (request: PointRequest, calls: number) => Response | "ok" | "stream",
) {
  let calls = 0;
  const served: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const request = await req.json() as PointRequest;
    calls++;
    const verdict = behave(request, calls);
    if (verdict instanceof Response) return verdict;
    const result = await mock.train(request, { signal: new AbortController().signal });
    served.push(`${request.size}@${request.budget.flops}`);
    if (verdict === "stream") {
      const lines = [
        { type: "progress", step: 1, steps: 2, loss: 5 },
        { type: "progress", step: 2, steps: 2, loss: 4 },
        { type: "result", result },
      ].map((l) => JSON.stringify(l) + "\n").join("");
      return new Response(lines, { headers: { "content-type": "application/x-ndjson" } });
    }
    return Response.json(result);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    served,
    calls: () => calls,
    close: () => server.shutdown(),
  };
}

async function freshLog() {
  const dir = await Deno.makeTempDir();
  return await openResultsLog(`${dir}/results.jsonl`);
}

Deno.test("runPoints() trains every point once in-process and skips recorded ones on resume", async () => {
  const log = await freshLog();
  const first = await runPoints(points.slice(0, 3), { trainers: [mock], log });
  assert.deepEqual(first, { skipped: 0, completed: 3, failed: [] });
  const second = await runPoints(points, { trainers: [mock], log });
  assert.equal(second.skipped, 3);
  assert.equal(second.completed, points.length - 3);
  log.close();
  const parsed = parseResults(await Deno.readFile(log.path));
  assert.equal(parsed.records.length, points.length);
});

Deno.test("runPoints() retries a worker's 503s with back-off and succeeds", async () => {
  const worker = fakeWorker((_r, calls) =>
    calls <= 2 ? new Response("busy", { status: 503 }) : "ok"
  );
  const log = await freshLog();
  const events: RunEvent[] = [];
  try {
    const summary = await runPoints(points.slice(0, 2), {
      trainers: [httpTrainer(worker.url)],
      log,
      backoffMs: 5,
      onEvent: (e) => events.push(e),
    });
    assert.equal(summary.completed, 2);
    assert.equal(events.filter((e) => e.type === "retry").length, 2);
  } finally {
    log.close();
    await worker.close();
  }
});

Deno.test("runPoints() fails over from a dead worker and records every point exactly once", async () => {
  const alive = fakeWorker(() => "stream");
  // A port nothing listens on: connection refused.
  const dead = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const deadUrl = `http://127.0.0.1:${(dead.addr as Deno.NetAddr).port}`;
  dead.close();
  const log = await freshLog();
  const events: RunEvent[] = [];
  try {
    const summary = await runPoints(points, {
      trainers: [
        httpTrainer(deadUrl, { concurrency: 2 }),
        httpTrainer(alive.url, { concurrency: 2 }),
      ],
      log,
      backoffMs: 5,
      retries: 5,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.completed, points.length);
    assert.ok(events.some((e) => e.type === "worker_down" && e.worker === deadUrl));
    assert.ok(events.some((e) => e.type === "progress" && e.progress.loss === 4));
  } finally {
    log.close();
    await alive.close();
  }
  const parsed = parseResults(await Deno.readFile(log.path));
  const keys = parsed.records.map((r) => r.key).sort();
  assert.deepEqual(keys, points.map((p) => p.key).sort());
  assert.ok(parsed.records.every((r) => r.worker === alive.url));
});

Deno.test("runPoints() gives up a point on a 4xx at once and on a timeout after its retries", async () => {
  const worker = fakeWorker((r) => {
    if (r.size === points[0]!.size && r.budget.flops === points[0]!.budget_flops) {
      return Response.json({ title: "Invalid request", status: 422, detail: "size: too big" }, {
        status: 422,
        headers: { "content-type": "application/problem+json" },
      });
    }
    return "ok";
  });
  const slow = {
    name: "slow",
    concurrency: 1,
    train: (_r: PointRequest, { signal }: { signal: AbortSignal }) =>
      new Promise<Record<string, unknown>>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      ),
  };
  const log = await freshLog();
  try {
    const permanent = await runPoints(points.slice(0, 2), {
      trainers: [httpTrainer(worker.url)],
      log,
      backoffMs: 5,
    });
    assert.equal(permanent.completed, 1);
    assert.equal(permanent.failed.length, 1);
    assert.match(permanent.failed[0]!.error, /422: size: too big/);
    assert.equal(worker.calls(), 2, "no retry of a 4xx");
    const timedOut = await runPoints(points.slice(2, 3), {
      trainers: [slow],
      log,
      timeoutMs: 30,
      retries: 1,
      backoffMs: 5,
    });
    assert.equal(timedOut.failed.length, 1);
    assert.match(timedOut.failed[0]!.error, /timed out/);
  } finally {
    log.close();
    await worker.close();
  }
});

Deno.test("runPoints() spreads points over workers by their concurrency", async () => {
  const a = fakeWorker(() => "ok");
  const b = fakeWorker(() => "ok");
  const log = await freshLog();
  try {
    const summary = await runPoints(points, {
      trainers: [httpTrainer(a.url, { concurrency: 2 }), httpTrainer(b.url, { concurrency: 2 })],
      log,
    });
    assert.equal(summary.completed, points.length);
    assert.equal(a.served.length + b.served.length, points.length);
    assert.ok(a.served.length > 0 && b.served.length > 0);
  } finally {
    log.close();
    await a.close();
    await b.close();
  }
});

Deno.test("mockTrainer() rejects a size the family cannot build as a permanent error", async () => {
  await assert.rejects(
    mock.train({ family: "toy", size: 7, dataset: "x", budget: { flops: 1e12 }, seed: 0 }, {
      signal: new AbortController().signal,
    }),
    PermanentError,
  );
});

Deno.test("parseTrainerList() accepts http(s) URLs and names the bad entry", () => {
  assert.deepEqual(parseTrainerList("http://a:1, https://b:2/"), ["http://a:1", "https://b:2/"]);
  assert.throws(() => parseTrainerList("http://a:1,ftp://x"), /ftp:\/\/x/);
  assert.throws(() => parseTrainerList("nope"), /"nope" is not a URL/);
});

Deno.test("one rule classes failures: a 4xx but 408/429 is permanent, in answers and in streams", async () => {
  assert.deepEqual(
    [400, 404, 408, 413, 422, 429, 500, 503].map(isPermanentStatus),
    [true, true, false, true, true, false, false, false],
  );
  for (const [status, permanent] of [[422, true], [429, false], [503, false]] as const) {
    const worker = fakeWorker(() =>
      new Response(
        JSON.stringify({ type: "error", status, detail: `refused with ${status}` }) + "\n",
        { headers: { "content-type": "application/x-ndjson" } },
      )
    );
    try {
      const error = await httpTrainer(worker.url).train(points[0]!.request, {
        signal: new AbortController().signal,
      }).catch((e: Error) => e);
      assert.ok(error instanceof Error);
      assert.equal(error instanceof PermanentError, permanent, `stream error ${status}`);
      assert.match(error.message, new RegExp(`reported ${status}: refused with ${status}`));
    } finally {
      await worker.close();
    }
  }
});
