import assert from "node:assert/strict";
import { LimitExceededError } from "../../../lib/errors.ts";
import { BackendError } from "../../../lib/backend/select.ts";
import { describeError } from "../../../lib/service/worker_protocol.ts";
import {
  runTrainingInWorker,
  type TrainerRef,
  TrainingPool,
} from "../../../lib/service/training_pool.ts";
import {
  BusyError,
  CancelledError,
  classifyWorkerError,
  DeadlineError,
  UnavailableError,
  WorkerFailedError,
} from "../../../lib/service/pool_errors.ts";

const FIXTURES = new URL("./fixtures/trainers.ts", import.meta.url).href;

function fixture(exportName: string): TrainerRef {
  return { module: FIXTURES, exportName };
}

function pool(options: { maxConcurrent?: number; maxWallS?: number } = {}): TrainingPool {
  return new TrainingPool({
    maxConcurrent: options.maxConcurrent ?? 1,
    maxWallS: options.maxWallS ?? 60,
    retryAfterS: 7,
    trainer: fixture("echo"),
  });
}

Deno.test("TrainingPool.run() returns the trainer's result and relays its progress", async () => {
  const p = pool();
  const events: unknown[] = [];
  const result = await runTrainingInWorker<{ echo: unknown; steps: number }>({ a: [1, 2] }, {
    pool: p,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(result, { echo: { a: [1, 2] }, steps: 3 });
  assert.deepEqual(events, [{ step: 1 }, { step: 2 }, { step: 3 }]);
  assert.equal(p.active, 0);
  assert.equal(p.stats().completed, 1);
});

Deno.test("TrainingPool.run() refuses past maxConcurrent with a retry-after, and admits again after", async () => {
  const p = pool({ maxConcurrent: 1 });
  const controller = new AbortController();
  const first = p.run({ ms: 30_000 }, { trainer: fixture("busyLoop"), signal: controller.signal });
  await assert.rejects(p.run({}), (e) => {
    assert.ok(e instanceof BusyError);
    assert.equal(e.retryAfterS, 7);
    return true;
  });
  assert.equal(p.stats().rejected, 1);
  controller.abort();
  await assert.rejects(first, CancelledError);
  assert.deepEqual(await p.run("again"), { echo: "again", steps: 3 });
});

Deno.test("TrainingPool.run() keeps this thread responsive while a worker spins", async () => {
  const p = pool();
  const controller = new AbortController();
  const training = p.run({ ms: 30_000 }, {
    trainer: fixture("busyLoop"),
    signal: controller.signal,
  });
  let settled = false;
  training.catch(() => {}).finally(() => {
    settled = true;
  });
  // Timers on this thread keep firing while the worker burns its CPU for 30 s.
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false);
  assert.equal(p.active, 1);
  controller.abort();
  await assert.rejects(training, CancelledError);
});

Deno.test("TrainingPool.run() stops a training at the wall-time limit, naming the limit", async () => {
  const p = pool({ maxWallS: 0.3 });
  // The trainer spins for 30 s: only the pool's limit can end it with this error.
  await assert.rejects(
    p.run({ ms: 30_000 }, { trainer: fixture("busyLoop") }),
    (e) => {
      assert.ok(e instanceof LimitExceededError);
      assert.equal(e.limitName, "max_train_wall_s");
      assert.equal(e.value, 0.3);
      return true;
    },
  );
  assert.equal(p.active, 0);
});

Deno.test("TrainingPool.run() owns the request's own deadline: 408 naming its field, before the wall limit", async () => {
  const p = pool({ maxWallS: 60 });
  await assert.rejects(
    p.run({ ms: 30_000 }, {
      trainer: fixture("busyLoop"),
      deadline: { seconds: 0.3, field: "timeout_s" },
    }),
    (e) => {
      assert.ok(e instanceof DeadlineError);
      assert.equal(e.status, 408);
      assert.equal(e.field, "timeout_s");
      return true;
    },
  );
  assert.equal(p.active, 0);
  // A deadline longer than the wall limit leaves the wall limit in charge.
  const short = pool({ maxWallS: 0.3 });
  await assert.rejects(
    short.run({ ms: 30_000 }, {
      trainer: fixture("busyLoop"),
      deadline: { seconds: 60, field: "timeout_s" },
    }),
    (e) => e instanceof LimitExceededError && e.limitName === "max_train_wall_s",
  );
});

Deno.test("TrainingPool.run() turns trainer errors into limit or failure errors without stacks", async () => {
  const p = pool({ maxConcurrent: 3 });
  const [invalid, limit, crash] = await Promise.allSettled([
    p.run({}, { trainer: fixture("rejectRequest") }),
    p.run({}, { trainer: fixture("overLimit") }),
    p.run({}, { trainer: fixture("crashLater") }),
  ]);
  assert.equal(invalid.status, "rejected");
  const invalidError = (invalid as PromiseRejectedResult).reason;
  assert.ok(invalidError instanceof WorkerFailedError);
  assert.equal(invalidError.kind, "invalid");
  assert.match(invalidError.message, /divisible by heads/);
  const limitError = (limit as PromiseRejectedResult).reason;
  assert.ok(limitError instanceof LimitExceededError);
  assert.equal(limitError.limitName, "max_model_params");
  assert.equal(limitError.actual, 5000);
  const crashError = (crash as PromiseRejectedResult).reason;
  assert.ok(crashError instanceof WorkerFailedError);
  assert.equal(crashError.kind, "crashed");
  assert.ok(!crashError.message.includes("secret/internal"), crashError.message);
  assert.equal(p.active, 0);
  assert.deepEqual(await p.run(1), { echo: 1, steps: 3 });
});

Deno.test("TrainingPool.run() reports a missing trainer export as a failure, not a hang", async () => {
  const p = pool();
  await assert.rejects(p.run({}, { trainer: fixture("noSuchExport") }), WorkerFailedError);
  await assert.rejects(
    p.run({}, { trainer: { module: "file:///nonexistent/trainer.ts", exportName: "x" } }),
    WorkerFailedError,
  );
});

Deno.test("TrainingPool.cancelAll() and close() stop work and refuse new work", async () => {
  const p = pool({ maxConcurrent: 2 });
  const a = p.run({ ms: 30_000 }, { trainer: fixture("busyLoop") });
  const b = p.run({ ms: 30_000 }, { trainer: fixture("busyLoop") });
  p.close();
  await assert.rejects(p.run({}), UnavailableError);
  const idle = p.idle();
  p.cancelAll();
  await assert.rejects(a, UnavailableError);
  await assert.rejects(b, UnavailableError);
  await idle;
  assert.equal(p.active, 0);
});

Deno.test("TrainingPool.run() frees a cancelled training's memory", async () => {
  const p = pool();
  const heldMiB = 400;
  const controller = new AbortController();
  const held = Promise.withResolvers<void>();
  const training = p.run({ mb: heldMiB }, {
    trainer: fixture("holdMemory"),
    signal: controller.signal,
    onProgress: () => held.resolve(),
  });
  await held.promise;
  const during = Deno.memoryUsage().rss;
  controller.abort();
  await assert.rejects(training, CancelledError);
  // Terminating the worker returns its heap: RSS falls by most of what it held.
  const wantDrop = 0.75 * heldMiB * 2 ** 20;
  let after = Deno.memoryUsage().rss;
  for (let i = 0; i < 100 && during - after < wantDrop; i++) {
    await new Promise((r) => setTimeout(r, 50));
    after = Deno.memoryUsage().rss;
  }
  assert.ok(during - after >= wantDrop, `rss fell only ${(during - after) / 2 ** 20} MiB`);
});

Deno.test("TrainingPool.run() survives a full wasm heap: out-of-memory error, next training fine", async () => {
  const p = pool();
  await assert.rejects(p.run({}, { trainer: fixture("fillWasmHeap") }), (e) => {
    assert.ok(e instanceof WorkerFailedError, String(e));
    assert.equal(e.kind, "out-of-memory");
    assert.match(e.message, /out of memory/);
    return true;
  });
  assert.deepEqual(await p.run("after"), { echo: "after", steps: 3 });
});

Deno.test("classifyWorkerError() recognises out-of-memory messages", () => {
  const oom = classifyWorkerError({ name: "RuntimeError", message: "memory access out of bounds" });
  assert.ok(oom instanceof WorkerFailedError && oom.kind === "out-of-memory");
  const other = classifyWorkerError({ name: "Error", message: "disk on fire" });
  assert.ok(other instanceof WorkerFailedError && other.kind === "crashed");
  // Told by the status it carries across the worker boundary, whatever its class is called.
  const backend = classifyWorkerError(describeError(new BackendError("No WebGPU adapter.")));
  assert.ok(backend instanceof UnavailableError);
  assert.equal(backend.status, 503);
});

Deno.test("TrainingPool.run() passes trainer options and keeps a trainer's declared status and field", async () => {
  const p = pool();
  const shown = await p.run({}, {
    trainer: fixture("showOptions"),
    trainerOptions: { maxTrainFlops: 1e12 },
  });
  assert.deepEqual(shown, { keys: ["maxTrainFlops", "onProgress", "signal"], maxTrainFlops: 1e12 });
  await assert.rejects(p.run({}, { trainer: fixture("inputError") }), (e) => {
    assert.ok(e instanceof WorkerFailedError);
    assert.equal(e.kind, "invalid");
    assert.equal(e.status, 422);
    assert.equal(e.workerError.field, "config.heads");
    assert.deepEqual(e.workerError.extra, { hint: "use 4 heads", status: 999 });
    return true;
  });
});
