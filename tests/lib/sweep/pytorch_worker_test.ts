/**
 * End to end through the PyTorch reference worker (`examples/pytorch/worker.py`): its tables equal
 * `models/`' for the same architectures, and a sweep of its `gpt-torch` family — a family flops-fit
 * does not have — is planned from its table, trained by torch on batches from a flops-fit
 * server, fitted and reported. Skipped with a message where `import torch` fails (Debian:
 * `apt-get install python3-torch`).
 */
import assert from "node:assert/strict";
import { getDataset } from "../../../data/mod.ts";
import { describeFamily } from "../../../lib/plan/study.ts";
import { loadConfig } from "../../../lib/service/config.ts";
import { loadStudyEnvironment } from "../../../lib/sweep/cli.ts";
import { resolveSweepConfig } from "../../../lib/sweep/config.ts";
import { PermanentError } from "../../../lib/sweep/trainer.ts";
import { httpTrainer } from "../../../lib/sweep/http_trainer.ts";
import { REPORT_FILES } from "../../../lib/sweep/report.ts";
import { parseResults } from "../../../lib/sweep/results.ts";
import { runSweep } from "../../../lib/sweep/sweep.ts";
import { createApp } from "../../../routes/mod.ts";

const WORKER = new URL("../../../examples/pytorch/worker.py", import.meta.url).pathname;

/** The first interpreter that can import torch (Debian's lives at /usr/bin/python3). */
function findTorchPython(): { python?: string; reason: string } {
  for (const python of ["/usr/bin/python3", "python3"]) {
    try {
      const out = new Deno.Command(python, {
        args: ["-c", "import torch; print(torch.__version__)"],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      if (out.success) return { python, reason: "" };
    } catch {
      // not installed
    }
  }
  return { reason: "no python3 with torch (apt-get install python3-torch)" };
}

const TORCH = findTorchPython();
const SKIP = TORCH.python === undefined ? ` (skipped: ${TORCH.reason})` : "";
if (SKIP !== "") console.warn(`PyTorch worker tests skipped: ${TORCH.reason}`);

/** A flops-fit server for the data, and the PyTorch worker reading from it. */
async function start(maxSize: number) {
  const app = createApp({ config: loadConfig({}) });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const dataUrl = `http://127.0.0.1:${server.addr.port}`;
  const child = new Deno.Command(TORCH.python!, {
    args: [WORKER, "--data", dataUrl, "--port", "0", "--threads", "1", "--max-size", `${maxSize}`],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`worker.py exited before listening: ${line}`);
    line += value;
  }
  reader.releaseLock();
  // Keep draining its stdout so the pipe never fills.
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
  const port = JSON.parse(line.split("\n")[0]!).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      child.kill("SIGTERM");
      await child.status;
      await server.shutdown();
    },
  };
}

Deno.test({
  name: `the PyTorch worker's family tables equal models/' for the same architectures${SKIP}`,
  ignore: SKIP !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const worker = await start(96);
    try {
      const cases = [
        {
          torch: "gpt-torch",
          ours: "gpt",
          dataset: "synthetic-text-order1",
          model: { context: 16 },
        },
        { torch: "gpt-torch", ours: "gpt", model: { tie_embeddings: false } },
        { torch: "vit-torch", ours: "vit", dataset: "synthetic-images", model: { patch_size: 8 } },
      ];
      for (const c of cases) {
        const query = new URLSearchParams({ config: JSON.stringify(c.model) });
        if (c.dataset !== undefined) query.set("dataset", c.dataset);
        const res = await fetch(`${worker.url}/v1/families/${c.torch}?${query}`);
        assert.equal(res.status, 200);
        const theirs = await res.json();
        const ours = describeFamily(c.ours, {
          model: c.model,
          ...(c.dataset === undefined ? {} : { data: getDataset(c.dataset).info }),
        });
        const strip = (t: typeof ours) =>
          t.sizes.filter((s) => s.size <= 96).map(({ config: _c, ...counts }) => counts);
        assert.equal(theirs.data_unit, ours.data_unit);
        assert.equal(theirs.units_per_sample, ours.units_per_sample);
        assert.deepEqual(strip(theirs), strip(ours), `${c.torch} ${JSON.stringify(c.model)}`);
      }
      // A request the worker refuses is a permanent failure naming the field.
      await assert.rejects(
        httpTrainer(worker.url).train({
          family: "gpt-torch",
          size: 30,
          config: { heads: 4 },
          dataset: "synthetic-text-order1",
          budget: { flops: 1e9 },
          seed: 0,
        }, { signal: new AbortController().signal }),
        (e: Error) => e instanceof PermanentError && /422.*divisible by heads/.test(e.message),
      );
    } finally {
      await worker.close();
    }
  },
});

Deno.test({
  name:
    `a sweep of the PyTorch worker's gpt-torch is planned from its table, trained by torch, fitted and reported${SKIP}`,
  ignore: SKIP !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const worker = await start(96);
    try {
      const out = await Deno.makeTempDir({ prefix: "torch-sweep-" });
      const config = resolveSweepConfig({
        file: {
          name: "torch-e2e",
          family: "gpt-torch",
          dataset: "synthetic-text-order1",
          model: { context: 16 },
          budgets: [1e9, 3e9, 1e10],
          sizes_per_budget: 3,
          width: 4,
          hyper: { batch_size: 16, lr: 3e-3, eval: { batches: 2 } },
          workers: [worker.url],
          bootstrap: 0,
          retries: 0,
          out,
        },
      });
      const env = await loadStudyEnvironment(config);
      assert.match(env.notes[0]!, /family gpt-torch from http/);
      const outcome = await runSweep(config, env, { write: () => {}, tty: false });
      assert.deepEqual(outcome.run?.failed, []);
      const points = outcome.grids.flatMap((g) => g.points);
      assert.equal(points.length, 9);
      const table = describeFamily("gpt", { model: { context: 16 } });
      const records = parseResults(await Deno.readFile(`${outcome.dir}/results.jsonl`)).records;
      assert.equal(records.length, 9);
      for (const r of records) {
        const p = points.find((q) => q.key === r.key)!;
        const row = table.sizes.find((s) => s.size === p.size)!;
        // Planned from the worker's table, which is models/' own numbers for this architecture.
        assert.equal(p.flops_per_sample, row.flops_per_sample);
        assert.equal(r.worker, worker.url);
        assert.equal(r.backend, "torch-cpu");
        assert.match(String(r.result?.framework), /^pytorch-/);
        assert.equal(r.D, p.data, "torch saw the planned tokens");
        assert.equal(r.C, p.flops, "and spent the planned FLOPs");
        assert.ok(r.eval_loss! > 0.5 && r.eval_loss! < 6, `a real held-out loss: ${r.eval_loss}`);
      }
      assert.ok(outcome.sweep !== undefined, "fitted");
      const summary = await Deno.readTextFile(`${outcome.dir}/${REPORT_FILES.summary}`);
      assert.ok(summary.includes(`Trained by: \`${worker.url}\` (torch-cpu) — 9 points`), summary);
    } finally {
      await worker.close();
    }
  },
});
