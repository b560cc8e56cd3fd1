import assert from "node:assert/strict";
import { loadOpenBlas } from "../../../lib/backend/blas/openblas.ts";
import { loadRawExit } from "../../../lib/service/exit.ts";

Deno.test("loadRawExit() finds libc's _exit on Linux with FFI allowed", () => {
  if (Deno.build.os !== "linux") return;
  assert.equal(typeof loadRawExit(), "function");
});

Deno.test({
  name: "exitProcess() ends a process whose worker was terminated inside an OpenBLAS call",
  ignore: !loadOpenBlas().ok,
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./fixtures/exit_after_blas.ts", import.meta.url).pathname, "3"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      child.output(),
      new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 8_000)),
    ]);
    clearTimeout(timer);
    if (outcome === "hung") {
      child.kill("SIGKILL");
      await child.status;
      assert.fail("the process did not exit within 8 s of terminating its BLAS worker");
    }
    assert.equal(new TextDecoder().decode(outcome.stdout).trim(), "terminated");
    // The status given, not a signal's.
    assert.equal(outcome.code, 3);
  },
});

Deno.test("armExitDeadline() kills a process whose main thread is stuck, from its own thread", async () => {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./fixtures/stuck_after_deadline.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    child.output(),
    new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 8_000)),
  ]);
  clearTimeout(timer);
  if (outcome === "hung") {
    child.kill("SIGKILL");
    await child.status;
    assert.fail("the watchdog did not end the process");
  }
  assert.equal(new TextDecoder().decode(outcome.stdout).trim(), "armed");
  assert.match(new TextDecoder().decode(outcome.stderr), /deadline passed/);
  assert.equal(outcome.signal, "SIGKILL");
  assert.ok(performance.now() - started < 8_000);
});
