import assert from "node:assert/strict";
import { trainPoint, TrainRequestSchema } from "../../../lib/train/mod.ts";
import { resolveTiny } from "./_tiny_data.ts";

// Any WebGPU adapter will do, the llvmpipe software one included: this checks the kernels'
// results, not their speed. (Shader compilation makes the first run take ~20 s there.)
// deno-lint-ignore no-explicit-any
const gpu = (navigator as any).gpu;
const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);

Deno.test({
  name: "trainPoint() on WebGPU gives the same losses as on wasm",
  ignore: adapter === null,
  async fn() {
    const request = TrainRequestSchema.parse({
      family: "gpt",
      size: 16,
      config: { context: 16, depth: 1, heads: 2 },
      dataset: "tiny-text",
      budget: { steps: 4 },
      batch_size: 4,
      eval: { batches: 1 },
    });
    const wasm = await trainPoint(request, {
      resolveDataset: resolveTiny,
      backend: { override: "wasm" },
    });
    const webgpu = await trainPoint(request, {
      resolveDataset: resolveTiny,
      backend: { override: "webgpu" },
    });
    assert.equal(webgpu.backend.name, "webgpu");
    // Gradient clipping is active here: its global norm once came out as 0 on WebGPU (AddN).
    webgpu.curve.forEach((p, i) => {
      const ref = wasm.curve[i]!.loss!;
      assert.ok(Math.abs(p.loss! - ref) < 1e-4 * ref, `step ${i + 1}: ${p.loss} vs ${ref}`);
    });
  },
});
