/**
 * The queue's pieces that need no database: connection-string checks and redaction, the command
 * lines, job ids, the job policy, the status text and the connection-error test.
 */
import assert from "node:assert/strict";
import { checkQueueUrl, QueueUrlError, redactText, redactUrl } from "../../../lib/queue/url.ts";
import { splitQueueArgs, wantsQueue } from "../../../lib/queue/sweep_cli.ts";
import { parseWorkerArgs } from "../../../lib/queue/worker_cli.ts";
import { errorText, jobId, sleep } from "../../../lib/queue/db.ts";
import { formatStatus, jobPolicy, studyId } from "../../../lib/queue/coordinator.ts";
import { isConnectionError } from "../../../lib/queue/worker.ts";
import { resolveSweepConfig } from "../../../lib/sweep/config.ts";
import type { PointRow } from "../../../lib/queue/store.ts";
import type { PlannedPoint } from "../../../lib/plan/grids.ts";

Deno.test("redactUrl hides the password, keeps the user, host, port and database", () => {
  assert.equal(
    redactUrl("postgres://flops:hunter2@db:5432/studies"),
    "postgres://flops:***@db:5432/studies",
  );
  assert.equal(redactUrl("postgres://flops@db/studies"), "postgres://flops@db/studies");
  assert.equal(
    redactUrl("postgresql://db/studies?user=u&password=p%40ss&sslmode=require"),
    "postgresql://db/studies?user=u&password=***&sslmode=require",
  );
  // A password holding '@' or ':' (percent-encoded or not).
  assert.equal(redactUrl("postgres://u:a:b@c@h/d"), "postgres://u:***@h/d");
});

Deno.test("redactText removes the URL and its password from a driver's message", () => {
  const url = "postgres://u:s3cret%21@h:5432/d";
  const text = redactText(`connect to ${url} failed; password "s3cret!" rejected (s3cret%21)`, url);
  assert.ok(!text.includes("s3cret"), text);
  assert.match(text, /postgres:\/\/u:\*\*\*@h:5432\/d/);
});

Deno.test("checkQueueUrl names what is wrong without the password", () => {
  assert.equal(checkQueueUrl("postgres://u:p@h:5/d"), "postgres://u:p@h:5/d");
  const cases: [string, RegExp][] = [
    ["nonsense", /is not a URL/],
    ["http://u:pw@h/d", /not a postgres:\/\/ URL \(scheme http:\)/],
    ["postgres://", /names no host/],
  ];
  for (const [text, pattern] of cases) {
    assert.throws(() => checkQueueUrl(text), (e: Error) => {
      assert.ok(e instanceof QueueUrlError);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes(":pw@"), e.message);
      return true;
    });
  }
});

Deno.test("splitQueueArgs takes the queue flags and leaves the sweep's", () => {
  const args = splitQueueArgs([
    "--mock",
    "--queue",
    "postgres://h/d",
    "--lease=30",
    "--status",
    "--out",
    "x",
  ]);
  assert.equal(args.url, "postgres://h/d");
  assert.equal(args.leaseS, 30);
  assert.equal(args.status, true);
  assert.deepEqual(args.rest, ["--mock", "--out", "x"]);
  assert.throws(() => splitQueueArgs(["--queue"]), /--queue needs a value/);
  assert.throws(() => splitQueueArgs(["--lease", "soon"]), /--lease: "soon" is not a number/);
  assert.ok(wantsQueue(["--queue=postgres://h/d"]));
  assert.ok(wantsQueue(["--status"]));
  assert.ok(!wantsQueue(["--workers", "http://a"]));
});

Deno.test("parseWorkerArgs: defaults, FLOPS_FIT_QUEUE, and named errors", () => {
  const none = () => undefined;
  const args = parseWorkerArgs(["--queue", "postgres://h/d", "--concurrency", "4"], none);
  assert.equal(args.concurrency, 4);
  assert.equal(args.graceS, 30);
  assert.equal(args.superviseIntervalS, 10);
  assert.equal(
    parseWorkerArgs([], (n) => n === "FLOPS_FIT_QUEUE" ? "postgres://e/d" : undefined).url,
    "postgres://e/d",
  );
  assert.throws(() => parseWorkerArgs([], none), /--queue URL is required/);
  assert.throws(
    () => parseWorkerArgs(["--queue", "postgres://h/d", "--concurrency", "0"], none),
    /--concurrency/,
  );
  assert.throws(
    () => parseWorkerArgs(["--queue", "postgres://h/d", "--trainer", "ftp://x"], none),
    /--trainer/,
  );
  assert.equal(
    parseWorkerArgs(["--queue", "postgres://h/d", "--trainer", "http://gpu:8000"], none).trainerUrl,
    "http://gpu:8000",
  );
});

Deno.test("jobId is a deterministic version-8 UUID per study, key and generation", async () => {
  const a = await jobId("s", "k", 0);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(await jobId("s", "k", 0), a);
  assert.notEqual(await jobId("s", "k", 1), a);
  assert.notEqual(await jobId("t", "k", 0), a);
});

Deno.test("jobPolicy: the study's retries and timeout; lease and timeout bounds", () => {
  const config = resolveSweepConfig({ overrides: { mock: true, retries: 2, timeout_s: 90.5 } });
  assert.deepEqual(jobPolicy(config, { leaseS: 20 }), {
    retries: 2,
    timeoutS: 91,
    leaseS: 20,
    backoffS: 1,
  });
  assert.throws(() => jobPolicy(config, { leaseS: 5 }), /--lease: 5 s/);
  const long = resolveSweepConfig({ overrides: { timeout_s: 2 * 86_400 } });
  assert.throws(() => jobPolicy(long, {}), /timeout_s: .*24-hour/);
  assert.equal(studyId(config), "gpt-synthetic-mock");
});

Deno.test("formatStatus counts each state and explains the running and failed points", () => {
  const planned = (size: number): PlannedPoint => ({
    key: `k${size}`,
    budget_flops: 1e11,
    size,
    params: 1e4 * size,
    flops_per_sample: 1e6,
    samples: 100,
    data: 1e5,
    flops: 1e11,
    request: { family: "gpt", size, dataset: "x", budget: { flops: 1e11 }, seed: 0 },
  });
  const row = (size: number, job: string | null, extra: Partial<PointRow> = {}): PointRow => ({
    key: `k${size}`,
    planned: planned(size),
    generation: 0,
    job_id: job,
    worker: null,
    attempt: null,
    progress: null,
    heartbeat_at: null,
    last_error: null,
    record: null,
    ...extra,
  });
  const rows = [
    row(8, "a", {
      record: {
        key: "k8",
        budget_flops: 1e11,
        size: 8,
        N: 1,
        D: 1,
        C: 1,
        loss: 3,
        wall_s: 1,
        worker: "w",
        finished_at: "",
      },
    }),
    row(16, "b", {
      worker: "gpu-1:7/in-process",
      progress: { step: 5, steps: 10, loss: 3.25 },
      heartbeat_at: new Date(),
    }),
    row(24, "c"),
    row(32, "d", { last_error: "boom" }),
    row(40, "e", { last_error: "refused" }),
  ];
  const jobs = new Map([
    ["a", { state: "completed", retryCount: 0 }],
    ["b", { state: "active", retryCount: 1 }],
    ["c", { state: "created", retryCount: 0 }],
    ["d", { state: "retry", retryCount: 1 }],
    ["e", { state: "cancelled", retryCount: 0 }],
  ]);
  const text = formatStatus("s", 6, rows, jobs, "postgres://u:***@h/d");
  assert.match(
    text,
    /^study s in postgres:\/\/u:\*\*\*@h\/d: 6 points: 1 recorded, 1 running, 1 queued, 1 waiting to retry, 1 failed \(1 of the plan not enqueued yet\)/,
  );
  assert.match(
    text,
    /running {2}gpt size=16 .* on gpu-1:7\/in-process \(attempt 2\): step 5\/10 loss 3\.2500/,
  );
  assert.match(text, /retrying gpt size=32 .*: boom/);
  assert.match(text, /failed {3}gpt size=40 .*: refused/);
});

Deno.test("isConnectionError tells an outage from a refused statement", () => {
  assert.ok(
    isConnectionError(
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    ),
  );
  assert.ok(
    isConnectionError(Object.assign(new Error("terminating connection"), { code: "57P01" })),
  );
  assert.ok(isConnectionError(new Error("Connection terminated unexpectedly")));
  assert.ok(!isConnectionError(Object.assign(new Error("duplicate key"), { code: "23505" })));
  assert.equal(
    errorText(new AggregateError([new Error("a"), new Error("a"), new Error("b")])),
    "a; b",
  );
});

Deno.test("sleep() waits, and an abort cuts the wait short without rejecting", async () => {
  const t0 = performance.now();
  await sleep(20);
  assert.ok(performance.now() - t0 >= 15, "it waited");
  const controller = new AbortController();
  const waiting = sleep(60_000, controller.signal);
  controller.abort();
  await waiting; // resolves at once; a leaked 60 s timer would fail Deno's sanitizer
  const aborted = AbortSignal.abort();
  await sleep(60_000, aborted);
});
