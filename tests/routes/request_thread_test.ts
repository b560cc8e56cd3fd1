import assert from "node:assert/strict";

Deno.test("GET /healthz and POST /v1/train start no training backend on the request thread; the worker gets the route's plan", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./fixtures/request_thread.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  assert.equal(report.train_status, 200, JSON.stringify(report));
  assert.equal(typeof report.health_backend, "string");
  // Nothing initialised a tfjs backend or ran the selection here…
  assert.equal(report.tf_backend, null);
  assert.equal(report.selected, null);
  // …nor loaded OpenBLAS or the native kernels into this process (checked where /proc exists).
  if (report.openblas_mapped !== null) {
    assert.equal(report.openblas_mapped, false);
    assert.equal(report.native_mapped, false);
  }
  // The worker received the plan made on the request thread: 2 steps of 4 samples.
  assert.equal(report.plan.steps, 2);
  assert.equal(report.plan.batchSize, 4);
  assert.equal(report.plan.family, "gpt");
  assert.equal(report.plan.dataset, "synthetic-text");
  assert.equal(report.plan.flops, 2 * 4 * report.plan.flopsPerSample);
});
