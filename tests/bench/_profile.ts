/**
 * Per-kernel time of one benchmark training step on a backend:
 * `deno run -A tests/bench/_profile.ts blas vit-a 3`. A development tool, not part of the suite.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "../../models/gradients.ts";
import { registerBlasBackend } from "../../lib/backend/blas/mod.ts";
import { BENCH_CONFIGS, makeTrainStep } from "./_train_step.ts";

const [backend = "blas", id = "vit-a", stepsArg = "3"] = Deno.args;
const steps = Number(stepsArg);
registerBlasBackend();
await tf.setBackend(backend);
const cfg = BENCH_CONFIGS.find((c) => c.id === id)!;
const train = makeTrainStep(cfg);
const times = new Map<string, number>();
const byShape = new Map<string, number>();
for (const k of tf.getKernelsForBackend(backend)) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, backend);
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const t0 = performance.now();
      const r = f(args);
      const dt = performance.now() - t0;
      times.set(k.kernelName, (times.get(k.kernelName) ?? 0) + dt);
      const shapes = Object.values(args.inputs).map((t) =>
        JSON.stringify((t as tf.TensorInfo | undefined)?.shape ?? null)
      );
      const key = `${k.kernelName} ${shapes.join("·")} ${JSON.stringify(args.attrs ?? {})}`.slice(
        0,
        140,
      );
      byShape.set(key, (byShape.get(key) ?? 0) + dt);
      return r;
    },
  });
}
train.step();
train.step();
times.clear();
byShape.clear();
const ts: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  train.step();
  ts.push(performance.now() - t0);
}
ts.sort((a, b) => a - b);
const median = ts[ts.length >> 1];
const kernels = [...times.values()].reduce((a, b) => a + b, 0) / steps;
console.log(
  `${backend} ${id}: ${median.toFixed(1)} ms/step median, kernels ${kernels.toFixed(1)} ms/step`,
);
for (const [k, v] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`${k.padEnd(22)} ${(v / steps).toFixed(1)} ms`);
}
for (const [k, v] of [...byShape].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
  console.log(`  ${(v / steps).toFixed(1).padStart(7)} ms  ${k}`);
}
