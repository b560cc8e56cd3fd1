import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  BACKEND_CANDIDATES,
  type BackendCandidate,
  BackendError,
  hasGpuDeviceNode,
  probeBackend,
  selectBackend,
} from "../../../lib/backend/select.ts";
import { AUTO_BACKEND, BACKEND_NAMES, parseBackendChoice } from "../../../lib/config/mod.ts";
import { loadConfig } from "../../../lib/service/config.ts";

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

Deno.test("BACKEND_CANDIDATES are the configuration's BACKEND_NAMES, in order", () => {
  assert.deepEqual(BACKEND_CANDIDATES.map((c) => c.name), [...BACKEND_NAMES]);
});

Deno.test("selectBackend() takes a hardware adapter first", async () => {
  const info = await selectBackend({ choice: AUTO_BACKEND, candidates: [fakeGpu(false), wasm] });
  assert.equal(info.kind, "gpu");
  assert.equal(info.adapter?.device, "H100");
  assert.equal(info.chosenBy, "auto");
});

Deno.test("selectBackend() passes over a software adapter to the fastest CPU path and reports it", async () => {
  const info = await selectBackend({ choice: AUTO_BACKEND, candidates: [fakeGpu(true), wasm] });
  assert.equal(info.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(info.adapter?.description, "llvmpipe");
  assert.equal(info.candidates[0]!.usable, false);
});

Deno.test("selectBackend() obeys FLOPS_FIT_BACKEND and rejects unknown names", async () => {
  const info = await selectBackend({ choice: loadConfig({ FLOPS_FIT_BACKEND: "cpu" }).backend });
  assert.equal(info.name, "cpu");
  assert.equal(info.chosenBy, "env");
  assert.equal(tf.getBackend(), "cpu");
  await assert.rejects(selectBackend({ override: "tpu" }), BackendError);
});

Deno.test("an unknown FLOPS_FIT_BACKEND is refused when the configuration loads", () => {
  assert.throws(
    () => loadConfig({ FLOPS_FIT_BACKEND: "tpu" }),
    /Invalid environment variable FLOPS_FIT_BACKEND/,
  );
  assert.throws(() => parseBackendChoice("tpu"), /Unknown backend "tpu"; known: webgpu, blas/);
  assert.deepEqual(parseBackendChoice(""), { mode: "auto" });
});

Deno.test("FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE travels in the backend choice, off by default", () => {
  assert.deepEqual(loadConfig({}).backend, { mode: "auto" });
  assert.deepEqual(
    loadConfig({ FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE: "true", FLOPS_FIT_BACKEND: "webgpu" }).backend,
    { mode: "named", name: "webgpu", allowSoftwareAdapter: true },
  );
  assert.throws(
    () => loadConfig({ FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE: "maybe" }),
    /FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE/,
  );
});

Deno.test("probeBackend() walks the candidates as selectBackend() does, starting nothing", async () => {
  let registered = 0;
  const gpu = { ...fakeGpu(true), register: () => Promise.resolve(++registered > 0) };
  const probed = await probeBackend({ candidates: [gpu, wasm] });
  assert.equal(registered, 0);
  assert.equal(probed.name, "wasm");
  assert.equal(probed.adapter?.description, "llvmpipe");
  assert.deepEqual(probed.candidates.map((c) => c.usable), [false, true]);
  const named = await probeBackend({ choice: { mode: "named", name: "cpu" } });
  assert.equal(named.name, "cpu");
  assert.equal(named.chosenBy, "env");
});

Deno.test("a software adapter counts as usable only where webgpu is named and the choice allows it", async () => {
  const seen: boolean[] = [];
  const gpu = {
    ...fakeGpu(false),
    probe: (context?: { allowSoftwareAdapter: boolean }) => {
      seen.push(context?.allowSoftwareAdapter ?? false);
      return fakeGpu(false).probe();
    },
  };
  await probeBackend({ candidates: [gpu] });
  await probeBackend({ candidates: [gpu], choice: { mode: "auto", allowSoftwareAdapter: true } });
  await probeBackend({
    candidates: [gpu],
    choice: { mode: "named", name: "cpu", allowSoftwareAdapter: true },
  }).catch(() => undefined);
  assert.deepEqual(seen, [false, false, true]);
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
