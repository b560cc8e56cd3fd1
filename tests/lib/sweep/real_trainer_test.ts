import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/service/config.ts";
import { planSweep } from "../../../lib/plan/grids.ts";
import { openResultsLog } from "../../../lib/sweep/results.ts";
import { runPoints } from "../../../lib/sweep/runner.ts";
import { PermanentError } from "../../../lib/sweep/trainer.ts";
import { httpTrainer } from "../../../lib/sweep/http_trainer.ts";
import { familyForSweep } from "../../../lib/plan/study.ts";
import { createApp } from "../../../routes/mod.ts";

Deno.test({
  name: "runPoints() trains a real point on a flops-fit server's POST /v1/train over loopback",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = createApp({ config: loadConfig({}) });
    const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
    const url = `http://127.0.0.1:${server.addr.port}`;
    const dir = await Deno.makeTempDir();
    const log = await openResultsLog(`${dir}/results.jsonl`);
    try {
      const family = familyForSweep("gpt", { model: { context: 16 } });
      const [grid] = planSweep({
        family,
        budgets: [3e7],
        sizes: [8],
        dataset: "synthetic-text-order1",
        model: { context: 16 },
        hyper: { batch_size: 8, eval: { batches: 1 } },
      });
      const point = grid!.points[0]!;
      const progress: number[] = [];
      const summary = await runPoints([point], {
        trainers: [httpTrainer(url)],
        log,
        onEvent: (e) => {
          if (e.type === "progress" && e.progress.step !== undefined) {
            progress.push(e.progress.step);
          }
        },
      });
      assert.deepEqual(summary.failed, []);
      const record = log.records.get(point.key)!;
      assert.ok(record.loss > 0 && record.loss < 6, `a real loss: ${record.loss}`);
      assert.equal(record.D, point.data, "the trainer saw the planned tokens");
      assert.ok(
        Math.abs(record.C - point.flops) / point.flops < 1e-9,
        "and spent the planned FLOPs",
      );
      assert.ok(progress.length > 0, "progress streamed as NDJSON");
      // A request the server refuses is a permanent failure (no retries).
      await assert.rejects(
        httpTrainer(url).train({ ...point.request, family: "rnn" }, {
          signal: new AbortController().signal,
        }),
        PermanentError,
      );
    } finally {
      log.close();
      await server.shutdown();
    }
  },
});
