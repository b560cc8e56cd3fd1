import assert from "node:assert/strict";
import { runFixture } from "./_fixture.ts";

const FIXTURE = new URL("./fixtures/webgpu_vs_wasm.ts", import.meta.url).pathname;

Deno.test({
  name: "trainPoint() on WebGPU gives the same losses as on wasm (any adapter; own process)",
  // Shader compilation on the llvmpipe software adapter makes the first run take ~20 s.
  async fn(t) {
    const { result, ...out } = await runFixture(FIXTURE);
    if (result.skipped !== undefined) {
      console.warn(`WebGPU check skipped: ${result.skipped}`);
      return;
    }
    if (!out.success) {
      // The work finished and printed; only the rasteriser's teardown at exit failed.
      console.warn(`WebGPU fixture exited ${out.code} after its result (teardown at exit)`);
    }
    assert.equal(result.backend, "webgpu");
    await t.step(`on ${result.adapter}`, () => {
      // Gradient clipping is active here: its global norm once came out as 0 on WebGPU (AddN).
      (result.webgpu as number[]).forEach((loss, i) => {
        const ref = (result.wasm as number[])[i]!;
        assert.ok(Math.abs(loss - ref) < 1e-4 * ref, `step ${i + 1}: ${loss} vs ${ref}`);
      });
    });
  },
});
