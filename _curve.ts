import { localWorker } from "./lib/sweep/local.ts";
const w = await localWorker();
for (const [size, steps, batch, ctx, lr] of JSON.parse(Deno.args[0]!)) {
  const t = performance.now();
  let last = 0;
  const r = await w.train({ family: "gpt", size, dataset: "synthetic-text", budget: { steps }, batch_size: batch, lr, seed: 0, config: { context: ctx }, progress_every: 10 }, { signal: new AbortController().signal, onProgress: (p) => { if ((p.step ?? 0) - last >= 100) { last = p.step!; console.log(size, p.step, p.loss?.toFixed(3), ((performance.now()-t)/1000).toFixed(0)+"s"); } } });
  console.log(JSON.stringify({ size, steps, batch, ctx, lr, s: ((performance.now() - t) / 1000).toFixed(1), step_ms: Math.round(r.step_ms_median as number), loss: (r.loss as number).toFixed(3), eval: (r.eval_loss as number).toFixed(3), C: (r.flops as number).toExponential(2) }));
}
