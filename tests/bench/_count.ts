import * as tf from "@tensorflow/tfjs-core";
import "../../models/gradients.ts";
import { registerBlasBackend } from "../../lib/kernels/mod.ts";
import { BENCH_CONFIGS, makeTrainStep } from "./_train_step.ts";
registerBlasBackend();
await tf.setBackend("blas");
const cfg = BENCH_CONFIGS.find((c) => c.id === (Deno.args[0] ?? "vit-a"))!;
const train = makeTrainStep(cfg);
train.step();
let calls = 0;
const byName = new Map<string, number>();
for (const k of tf.getKernelsForBackend("blas")) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, "blas");
  tf.registerKernel({ ...k, kernelFunc: (a) => { calls++; byName.set(k.kernelName, (byName.get(k.kernelName) ?? 0) + 1); return f(a); } });
}
train.step();
console.log("kernel calls per step", calls, JSON.stringify([...byName].sort((a, b) => b[1] - a[1])));
