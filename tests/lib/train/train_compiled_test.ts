import assert from "node:assert/strict";
import { runFixture } from "./_fixture.ts";
import { compiledModelSpec } from "../../../lib/train/train_compiled.ts";
import { TrainInputError } from "../../../lib/train/errors.ts";
import type { TrainPlan } from "../../../lib/train/run_plan.ts";

const FIXTURE = new URL("./fixtures/train_compiled.ts", import.meta.url).pathname;

/** |a − b| ≤ 1e-4·|b|. */
function close(a: number | null, b: number | null): boolean {
  return a !== null && b !== null && Math.abs(a - b) <= 1e-4 * Math.abs(b);
}

Deno.test({
  name: "trainPoint() on the compiled WebGPU step: wasm's losses and evals, events, abort",
  async fn(t) {
    const { result: r } = await runFixture(FIXTURE);
    if (r.skipped !== undefined) {
      console.warn(`Compiled WebGPU check skipped: ${r.skipped}`);
      return;
    }
    await t.step(`on ${r.adapter}`, () => {
      assert.equal(r.webgpu.backend, "webgpu");
      // Micro-batches of 4 in batches of 8, label smoothing, clipping: step for step as wasm.
      assert.equal(r.webgpu.curve.length, 6);
      r.webgpu.curve.forEach((loss: number, i: number) => {
        assert.ok(close(loss, r.wasm.curve[i]), `step ${i + 1}: ${loss} vs ${r.wasm.curve[i]}`);
      });
      assert.deepEqual(r.webgpu.evals.map((e: { step: number }) => e.step), [3, 6]);
      r.webgpu.evals.forEach((e: { loss: number; accuracy: number }, i: number) => {
        const ref = r.wasm.evals[i];
        assert.ok(close(e.loss, ref.loss), `eval ${i}: ${e.loss} vs ${ref.loss}`);
        assert.ok(Math.abs(e.accuracy - ref.accuracy) < 1e-6, `accuracy ${e.accuracy}`);
      });
      assert.deepEqual(r.events, [
        { type: "progress", step: 2 },
        { type: "eval", step: 3 },
        { type: "progress", step: 4 },
        { type: "progress", step: 6 },
      ]);
      // forward + backward per micro-batch, twice, then norm, clip and AdamW.
      assert.ok(r.webgpu.dispatches_per_step > 20 && r.webgpu.dispatches_per_step < 200);
      assert.ok(r.webgpu.host_ms_per_step > 0);
      assert.equal(r.aborted, "AbortError");
    });
  },
});

Deno.test("compiledModelSpec() takes GPT and ViT configs and refuses another family with a 422", () => {
  const plan = (family: string) =>
    ({ family: { name: family }, config: { d_model: 8 } }) as unknown as TrainPlan;
  assert.equal(compiledModelSpec(plan("gpt")).family, "gpt");
  assert.equal(compiledModelSpec(plan("vit")).family, "vit");
  assert.throws(
    () => compiledModelSpec(plan("mlp")),
    (e) => e instanceof TrainInputError && e.field === "family" && e.status === 422,
  );
});

Deno.test({
  name: "a server that trained on the compiled WebGPU step exits cleanly on SIGTERM (own process)",
  async fn() {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const server = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../../main.ts", import.meta.url).pathname],
      env: { PORT: String(port), FLOPS_FIT_BACKEND: "webgpu" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const base = `http://127.0.0.1:${port}`;
    let trained: Record<string, unknown> | undefined;
    let skipped: string | undefined;
    try {
      for (let i = 0; i < 120; i++) {
        const ok = await fetch(`${base}/healthz`).then((r) => r.body?.cancel().then(() => r.ok))
          .catch(() => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const response = await fetch(`${base}/v1/train`, {
        method: "POST",
        // No connection kept open: the server exits at once, as after a command-line client.
        headers: { "content-type": "application/json", connection: "close" },
        body: JSON.stringify({
          family: "gpt",
          size: 16,
          config: { depth: 1, heads: 2, context: 16 },
          dataset: "synthetic-text",
          budget: { steps: 4 },
          batch_size: 4,
        }),
      });
      const body = await response.json();
      if (response.ok) trained = body;
      else skipped = `no WebGPU training here (${response.status}: ${body.detail ?? ""})`;
    } finally {
      server.kill("SIGTERM");
    }
    const status = await server.status;
    if (skipped !== undefined) {
      console.warn(`Server exit check skipped: ${skipped}`);
      return;
    }
    assert.equal((trained!.backend as { name: string }).name, "webgpu");
    assert.ok((trained!.dispatches_per_step as number) > 0);
    assert.equal(status.signal, null, `the server died of ${status.signal}`);
    assert.equal(status.code, 0);
  },
});
