import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  BACKEND_CANDIDATES,
  type BackendCandidate,
  BackendError,
  hasGpuDeviceNode,
  selectBackend,
} from "../../../lib/backend/select.ts";

/** A candidate that stands for a GPU: its probe reports the adapter given, and it runs on cpu. */
function fakeGpu(fallback: boolean): BackendCandidate {
  return {
    name: "cpu",
    kind: "gpu",
    description: "test GPU",
    activationBudgetBytes: 1,
    probe: () =>
      Promise.resolve(
        fallback
          ? {
            usable: false,
            reason: "software adapter",
            adapter: {
              vendor: "mesa",
              architecture: "",
              device: "",
              description: "llvmpipe",
              fallback,
            },
          }
          : {
            usable: true,
            adapter: {
              vendor: "nvidia",
              architecture: "hopper",
              device: "H100",
              description: "",
              fallback,
            },
          },
      ),
    register: () => Promise.resolve(true),
  };
}

const wasm = BACKEND_CANDIDATES.find((c) => c.name === "wasm")!;

Deno.test("BACKEND_CANDIDATES prefers WebGPU, then CPU paths, ending with plain cpu", () => {
  assert.equal(BACKEND_CANDIDATES[0]!.name, "webgpu");
  assert.equal(BACKEND_CANDIDATES.at(-1)!.name, "cpu");
  assert.ok(BACKEND_CANDIDATES.some((c) => c.name === "wasm"));
});

Deno.test("selectBackend() takes a hardware adapter first", async () => {
  const info = await selectBackend({ env: {}, candidates: [fakeGpu(false), wasm] });
  assert.equal(info.kind, "gpu");
  assert.equal(info.adapter?.device, "H100");
  assert.equal(info.chosenBy, "auto");
});

Deno.test("selectBackend() passes over a software adapter to the fastest CPU path and reports it", async () => {
  const info = await selectBackend({ env: {}, candidates: [fakeGpu(true), wasm] });
  assert.equal(info.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(info.adapter?.description, "llvmpipe");
  assert.equal(info.candidates[0]!.usable, false);
});

Deno.test("selectBackend() obeys FLOPS_FIT_BACKEND and rejects unknown names", async () => {
  const info = await selectBackend({ env: { FLOPS_FIT_BACKEND: "cpu" } });
  assert.equal(info.name, "cpu");
  assert.equal(info.chosenBy, "env");
  assert.equal(tf.getBackend(), "cpu");
  await assert.rejects(selectBackend({ env: { FLOPS_FIT_BACKEND: "tpu" } }), BackendError);
});

Deno.test({
  name: "the webgpu probe does not start WebGPU on a Linux host without GPU device nodes",
  ignore: hasGpuDeviceNode() !== false,
  async fn() {
    const probe = await BACKEND_CANDIDATES[0]!.probe();
    assert.equal(probe.usable, false);
    assert.match(probe.reason ?? "", /no GPU device on this host \(none of \/dev\/dri/);
    assert.equal(probe.adapter, undefined, "no adapter was asked for");
  },
});
