import assert from "node:assert/strict";
import {
  ENV_VARS,
  loadNativeSettings,
  loadSettings,
  parseBackendChoice,
  SettingsSchema,
} from "../../../lib/config/mod.ts";
import { loadSweepCliConfig } from "../../../lib/sweep/cli_config.ts";
import { loadQueueWorkerConfig } from "../../../lib/queue/worker_config.ts";
import { loadConfig } from "../../../lib/service/config.ts";

Deno.test("every setting has a variable and a meaning, and every variable a setting", () => {
  const shape = SettingsSchema.shape as Record<string, { description?: string }>;
  assert.deepEqual(Object.keys(shape).sort(), Object.keys(ENV_VARS).sort());
  for (const [field, schema] of Object.entries(shape)) {
    assert.ok(schema.description, `${field} has no .describe()`);
  }
});

Deno.test("loadSettings() reads only the fields asked for and names an invalid variable", () => {
  assert.deepEqual(loadSettings(["port", "token"], { PORT: "9000", HOST: "x" }), { port: 9000 });
  assert.throws(() => loadSettings(["poolMb"], { FLOPS_FIT_POOL_MB: "lots" }), /FLOPS_FIT_POOL_MB/);
});

Deno.test("the three programs read the same variables the same way", () => {
  const env = { FLOPS_FIT_TOKEN: "t", FLOPS_FIT_DATA_DIR: "/d", FLOPS_FIT_BACKEND: "wasm" };
  const server = loadConfig(env);
  const sweep = loadSweepCliConfig(env);
  const worker = loadQueueWorkerConfig({ ...env, FLOPS_FIT_QUEUE: "postgres://h/d" });
  for (const config of [server, sweep, worker]) {
    assert.equal(config.token, "t");
    assert.equal(config.dataDir, "/d");
    assert.deepEqual(config.backend, parseBackendChoice("wasm"));
  }
  assert.equal(worker.queue, "postgres://h/d");
  for (const load of [loadConfig, loadSweepCliConfig, loadQueueWorkerConfig]) {
    assert.throws(() => load({ FLOPS_FIT_BACKEND: "tpu" }), /FLOPS_FIT_BACKEND/);
  }
});

Deno.test("loadNativeSettings() reads the blas backend's variables", () => {
  assert.deepEqual(loadNativeSettings({}), { native: true, compiler: "cc" });
  const set = loadNativeSettings({
    FLOPS_FIT_NATIVE: "0",
    FLOPS_FIT_POOL_MB: "2",
    FLOPS_FIT_OPENBLAS: "/x/libopenblas.so.0",
    CC: "clang",
  });
  assert.deepEqual(set, {
    native: false,
    poolMb: 2,
    openblas: "/x/libopenblas.so.0",
    compiler: "clang",
  });
});
