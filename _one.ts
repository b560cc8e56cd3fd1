import { localWorker } from "/work/wt-sweep/lib/sweep/local.ts";
const w = await localWorker();
for (const [size, C] of JSON.parse(Deno.args[0]!)) {
  const t = performance.now();
  const r = await w.train({ family: "gpt", size, dataset: "synthetic-text", budget: { flops: C }, seed: 0 }, { signal: new AbortController().signal });
  console.log(JSON.stringify({ size, C, s: ((performance.now() - t) / 1000).toFixed(1), steps: r.steps, loss: r.loss, eval: r.eval_loss, mfs: r.model_flops_per_s, backend: (r.backend as any).name, mb: r.micro_batch_size }));
}
