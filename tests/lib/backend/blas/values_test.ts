import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-cpu";
import { float32Values } from "../../../../lib/backend/blas/values.ts";

Deno.test("float32Values() hands out a float32 tensor's own array and copies other dtypes", async () => {
  await tf.setBackend("cpu");
  const backend = tf.backend() as MathBackendCPU;
  const f = tf.tensor1d([1.5, -2]);
  const own = backend.data.get(f.dataId).values;
  assert.equal(float32Values(backend, f), own, "no copy for float32");
  const i = tf.tensor1d([3, 4], "int32");
  const copy = float32Values(backend, i);
  assert.ok(copy instanceof Float32Array);
  assert.deepEqual([...copy], [3, 4]);
  assert.notEqual(copy, backend.data.get(i.dataId).values);
  tf.dispose([f, i]);
});
