import assert from "node:assert/strict";
import { JobPool } from "../../../lib/service/job_pool.ts";
import { LimitExceededError } from "../../../lib/errors.ts";
import { BusyError, CancelledError, WorkerFailedError } from "../../../lib/service/pool_errors.ts";

const JOBS = new URL("./fixtures/jobs.ts", import.meta.url).href;

function pool(options: { size?: number; maxQueued?: number; maxWallS?: number } = {}) {
  return new JobPool({
    module: JOBS,
    size: options.size ?? 1,
    maxQueued: options.maxQueued ?? 8,
    maxWallS: options.maxWallS ?? 30,
    wallLimitName: "max_fit_wall_s",
    retryAfterS: 1,
    idleMs: 200,
  });
}

Deno.test("JobPool.run() runs jobs on a reused worker and stops it when idle", async () => {
  const p = pool();
  assert.equal(await p.run("double", [21]), 42);
  assert.deepEqual(await Promise.all([1, 2, 3].map((x) => p.run("double", [x]))), [2, 4, 6]);
  assert.equal(p.stats().workers, 1);
  assert.equal(p.stats().completed, 4);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(p.stats().workers, 0);
});

Deno.test("JobPool.run() keeps this thread free while a job spins", async () => {
  const p = pool();
  let settled = false;
  const job = p.run("spin", [30_000]).finally(() => {
    settled = true;
  });
  // This thread's timers fire while the 30 s job still spins: it runs elsewhere.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(settled, false);
  assert.equal(p.stats().running, 1);
  p.close();
  await assert.rejects(job, CancelledError);
});

Deno.test("JobPool.run() refuses past the queue bound, and names refusals and crashes", async () => {
  const p = pool({ maxQueued: 1 });
  const running = p.run("spin", [300]);
  const queued = p.run("double", [1]);
  await assert.rejects(p.run("double", [2]), (e) => {
    assert.ok(e instanceof BusyError);
    assert.equal(e.status, 429);
    assert.deepEqual(e.limit, { name: "max_queued_fits", value: 1 });
    return true;
  });
  assert.equal(await queued, 2);
  await running;
  await assert.rejects(p.run("refuse", []), (e) => {
    assert.ok(e instanceof LimitExceededError);
    assert.equal(e.status, 413);
    assert.equal(e.field, "points");
    assert.equal(e.message, "5 points exceed the limit of 4 per fit");
    assert.deepEqual(e.limit, { name: "max_fit_points", value: 4, actual: 5 });
    return true;
  });
  await assert.rejects(p.run("crash", []), (e) => {
    assert.ok(e instanceof WorkerFailedError);
    assert.equal(e.kind, "crashed");
    assert.equal(e.status, 500);
    assert.ok(!e.message.includes("secret.ts"));
    return true;
  });
  assert.equal(await p.run("double", [5]), 10);
  p.close();
});

Deno.test("JobPool.run() stops a job at its wall-time limit or when cancelled, then carries on", async () => {
  const p = pool({ maxWallS: 0.2 });
  await assert.rejects(p.run("spin", [20_000]), (e) => {
    assert.ok(e instanceof LimitExceededError);
    assert.equal(e.limitName, "max_fit_wall_s");
    return true;
  });
  const controller = new AbortController();
  const cancelled = p.run("spin", [20_000], { signal: controller.signal });
  const queued = p.run("double", [3], { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(cancelled, CancelledError);
  await assert.rejects(queued, CancelledError);
  assert.equal(await p.run("double", [4]), 8);
  p.close();
});

Deno.test("JobPool.run({ module }) runs another module's export on the same workers", async () => {
  const p = pool();
  const other = new URL("../../../lib/plan/adaptive_job.ts", import.meta.url).href;
  assert.equal(await p.run("double", [2]), 4);
  const plan = await p.run<{ notes: string[] }>("planAdaptiveJob", [{
    family: "gpt",
    dataset: "synthetic-text",
    results: [{ N: 1e5, D: 1e6, loss: 3, C: 6e11 }],
    targetBudget: 1e13,
    bootstrap: 10,
  }], { module: other });
  assert.ok(Array.isArray(plan.notes));
  // The pool's own module is still the default.
  assert.equal(await p.run("double", [5]), 10);
  assert.equal(p.stats().workers, 1);
  await new Promise((r) => setTimeout(r, 400));
});

Deno.test("JobPool.cancelAll() fails running and queued jobs with a 503 and stops their workers", async () => {
  const p = pool();
  const running = p.run("spin", [10_000]);
  const queued = p.run("double", [1]);
  await new Promise((r) => setTimeout(r, 300));
  p.cancelAll("stopping");
  for (const job of [running, queued]) {
    await assert.rejects(job, (error: Error & { status?: number }) => {
      assert.equal(error.name, "UnavailableError");
      assert.equal(error.status, 503);
      assert.equal(error.message, "stopping");
      return true;
    });
  }
  assert.equal(p.stats().workers, 0);
});
