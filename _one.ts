import { localWorker } from "./lib/sweep/local.ts";
const w = await localWorker();
for (const [size, steps, batch, ctx, lr] of JSON.parse(Deno.args[0]!)) {
  const t = performance.now();
  const r = await w.train({ family: "gpt", size, dataset: "synthetic-text", budget: { steps }, batch_size: batch, lr, seed: 0, config: { context: ctx } }, { signal: new AbortController().signal });
  console.log(JSON.stringify({ size, steps, batch, ctx, lr, s: ((performance.now() - t) / 1000).toFixed(1), step_ms: Math.round(r.step_ms_median as number), loss: (r.loss as number).toFixed(3), eval: (r.eval_loss as number).toFixed(3), gflops: (r.model_flops_per_s as number / 1e9).toFixed(2), fps: r.flops_per_sample, C: (r.flops as number).toExponential(2) }));
}
