import assert from "node:assert/strict";
import { FamilyDescriptionError } from "../../../lib/plan/family_description.ts";
import { loadStudyEnvironment } from "../../../lib/sweep/cli.ts";
import { resolveSweepConfig, type SweepFile } from "../../../lib/sweep/config.ts";
import { resolveSweepFamily } from "../../../lib/sweep/family_source.ts";
import { REPORT_FILES } from "../../../lib/sweep/report.ts";
import { parseResults } from "../../../lib/sweep/results.ts";
import { toRecord } from "../../../lib/sweep/runner.ts";
import { runSweep } from "../../../lib/sweep/sweep.ts";
import { PermanentError } from "../../../lib/sweep/trainer.ts";
import { startStubTrainer, STUB_CONTEXT, stubTable } from "./_stub_trainer.ts";

const quiet = { write: () => {}, tty: false, backoffMs: 5 };

async function foreignConfig(workers: string[], overrides: Partial<SweepFile> = {}) {
  const out = await Deno.makeTempDir({ prefix: "foreign-sweep-" });
  return resolveSweepConfig({
    file: {
      name: "my-model-study",
      family: "my-model",
      // A dataset only the trainer knows: flops-fit's registry has no such name.
      dataset: "my-own-data",
      budgets: [1e11, 3e11, 1e12],
      sizes_per_budget: 4,
      width: 8,
      hyper: { batch_size: 4 },
      model: { n_layer: 1 },
      params: "non_embedding",
      workers,
      bootstrap: 20,
      retries: 0,
      out,
      ...overrides,
    },
  });
}

Deno.test("a sweep of a family flops-fit lacks plans from the stub trainer's table and records every point once", async () => {
  const stub = startStubTrainer();
  try {
    const config = await foreignConfig([stub.url]);
    const env = await loadStudyEnvironment(config);
    assert.equal(env.dataset, undefined, "the dataset is the trainer's own");
    assert.match(env.notes[0]!, new RegExp(`family my-model from ${stub.url}`));
    // The sweep sent the fixed config and the dataset with its table request.
    assert.equal(stub.asked[0]!.searchParams.get("dataset"), "my-own-data");
    assert.deepEqual(JSON.parse(stub.asked[0]!.searchParams.get("config")!), { n_layer: 1 });

    const outcome = await runSweep(config, env, quiet);
    const table = stubTable();
    const points = outcome.grids.flatMap((g) => g.points);
    assert.equal(points.length, 12);
    for (const p of points) {
      const row = table.sizes.find((s) => s.size === p.size);
      assert.ok(row !== undefined, `size ${p.size} is one the stub listed`);
      assert.equal(p.params, row.non_embedding_params, "N: non-embedding by default");
      assert.equal(p.flops_per_sample, row.flops_per_sample);
      assert.equal(p.samples % 4, 0, "whole steps of the batch");
      assert.equal(p.data, p.samples * STUB_CONTEXT);
      assert.ok(p.flops <= p.budget_flops && p.budget_flops - p.flops < 4 * p.flops_per_sample);
      assert.equal(p.request.family, "my-model");
    }
    assert.deepEqual(outcome.run?.failed, []);
    assert.equal(stub.trained.length, points.length, "each point trained once");
    const parsed = parseResults(await Deno.readFile(`${outcome.dir}/results.jsonl`));
    assert.deepEqual(parsed.records.map((r) => r.key).sort(), points.map((p) => p.key).sort());
    for (const r of parsed.records) {
      const p = points.find((q) => q.key === r.key)!;
      assert.equal(r.worker, stub.url);
      assert.equal(r.D, p.data);
      assert.equal(r.C, p.flops);
      assert.equal(r.backend, "stub");
    }
    assert.ok(outcome.sweep !== undefined, "fitted");
    const summary = await Deno.readTextFile(`${outcome.dir}/${REPORT_FILES.summary}`);
    assert.ok(summary.includes(`Trained by: \`${stub.url}\` (stub) — 12 points`), summary);
    // Resuming asks the trainer for nothing it has done.
    const again = await runSweep(config, await loadStudyEnvironment(config), quiet);
    assert.equal(again.run?.skipped, 12);
    assert.equal(stub.trained.length, 12);
  } finally {
    await stub.close();
  }
});

Deno.test("a worker unreachable at planning time is noted and the others' table is used", async () => {
  const stub = startStubTrainer();
  const dead = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const deadUrl = `http://127.0.0.1:${(dead.addr as Deno.NetAddr).port}`;
  dead.close();
  try {
    const env = await loadStudyEnvironment(await foreignConfig([deadUrl, stub.url]));
    assert.equal(env.family.sizes.length, stubTable().sizes.length);
    assert.ok(
      env.notes.some((n) => n.startsWith(`could not ask ${deadUrl}`)),
      env.notes.join("; "),
    );
    // With no worker reachable at all, the error names each one.
    await assert.rejects(
      loadStudyEnvironment(await foreignConfig([deadUrl])),
      new RegExp(`Could not ask any worker for family "my-model": ${deadUrl}`),
    );
  } finally {
    await stub.close();
  }
});

Deno.test("a sweep file may carry the family table inline", async () => {
  const table = stubTable("inline-model");
  const out = await Deno.makeTempDir({ prefix: "inline-sweep-" });
  const config = resolveSweepConfig({
    file: { family: table, dataset: "x", budgets: [1e11, 1e12], mock: true, bootstrap: 0, out },
  });
  const env = await loadStudyEnvironment(config);
  assert.equal(env.family.name, "inline-model");
  assert.equal(env.family.sizes.length, table.sizes.length);
  const outcome = await runSweep(config, env, quiet);
  assert.equal(outcome.run?.completed, 10);
  for (const p of outcome.grids.flatMap((g) => g.points)) {
    assert.ok(
      table.sizes.some((s) => s.size === p.size && s.flops_per_sample === p.flops_per_sample),
    );
  }
  // A broken inline table is refused naming the field.
  const bad = { ...table, sizes: [table.sizes[1], table.sizes[0]] };
  await assert.rejects(
    loadStudyEnvironment(resolveSweepConfig({ file: { family: bad, budgets: [1e11], out } })),
    (e: Error) =>
      e instanceof FamilyDescriptionError && /sizes\[1\]\.size.*ascending/.test(e.message),
  );
});

Deno.test("bad tables, unknown families and disagreeing workers stop the sweep before any point trains", async () => {
  const good = stubTable();
  const cases: { name: string; tables: unknown[]; error: RegExp }[] = [
    {
      name: "not ascending",
      tables: [{ ...good, sizes: [good.sizes[0], good.sizes[2], good.sizes[1]] }],
      error: /invalid at sizes\[2\]\.size: sizes must be ascending/,
    },
    {
      name: "params not ascending",
      tables: [{ ...good, sizes: [good.sizes[0], { ...good.sizes[1]!, params: 10 }] }],
      error: /invalid at sizes\[1\]\.params/,
    },
    {
      name: "non-positive FLOPs",
      tables: [{ ...good, sizes: [{ ...good.sizes[0]!, flops_per_sample: 0 }] }],
      error: /invalid at sizes\[0\]\.flops_per_sample/,
    },
    {
      name: "missing data_unit",
      tables: [{ ...good, data_unit: undefined }],
      error: /invalid at data_unit/,
    },
    { name: "unknown to every worker", tables: [stubTable("other")], error: /No worker knows/ },
    {
      name: "one worker does not know it",
      tables: [good, stubTable("other")],
      error: /disagree.*does not know it/,
    },
    {
      name: "tables differ",
      tables: [good, {
        ...good,
        sizes: good.sizes.map((s, i) => i === 3 ? { ...s, params: s.params + 1 } : s),
      }],
      error: /disagree.*sizes\[3\]\.params/,
    },
  ];
  for (const c of cases) {
    const stubs = c.tables.map((table) => startStubTrainer({ table }));
    try {
      const config = await foreignConfig(stubs.map((s) => s.url));
      await assert.rejects(runSweepFrom(config), c.error, c.name);
      assert.equal(
        stubs.reduce((n, s) => n + s.trained.length, 0),
        0,
        `${c.name}: nothing trained`,
      );
    } finally {
      for (const s of stubs) await s.close();
    }
  }
  // No workers at all: the message says where a table could come from.
  await assert.rejects(
    resolveSweepFamily({ ...(await foreignConfig([])), trainers: [] }),
    /Unknown model family "my-model".*--workers.*inline/,
  );
});

async function runSweepFrom(config: Awaited<ReturnType<typeof foreignConfig>>) {
  return await runSweep(config, await loadStudyEnvironment(config), quiet);
}

Deno.test("an answer missing a needed field fails its point, naming the field", async () => {
  const cases: { drop: string[]; fitLoss?: "loss" | "eval_loss"; error: RegExp }[] = [
    { drop: ["loss"], error: /lacks `loss`/ },
    { drop: ["eval_loss"], error: /lacks `eval_loss`/ },
    { drop: ["flops"], error: /lacks `flops`/ },
    { drop: ["samples", "tokens"], error: /lacks `samples` .*or `tokens`/ },
  ];
  for (const c of cases) {
    const stub = startStubTrainer({
      answer: (r) => Object.fromEntries(Object.entries(r).filter(([k]) => !c.drop.includes(k))),
    });
    try {
      const config = await foreignConfig([stub.url], { budgets: [1e11], sizes_per_budget: 3 });
      const written: string[] = [];
      const env = await loadStudyEnvironment(config);
      // With every point failed there is nothing to fit; the failures, printed first, name the field.
      await runSweep(config, env, { ...quiet, write: (t) => written.push(t) }).catch(() => {});
      const failed = written.join("").split("\n").filter((l) => l.startsWith("failed: "));
      assert.equal(failed.length, 3, `${c.drop}: every point fails`);
      for (const f of failed) assert.match(f, c.error);
      assert.equal(stub.trained.length, 3, "permanent: no retry");
    } finally {
      await stub.close();
    }
  }
  // `tokens` stands in for `samples` for a family whose D counts tokens; training loss suffices
  // when the sweep fits on it.
  const point = {
    key: "k",
    budget_flops: 1e9,
    size: 16,
    params: 100,
    flops_per_sample: 1e6,
    samples: 8,
    data: 8 * STUB_CONTEXT,
    flops: 8e6,
    request: { family: "m", size: 16, dataset: "x", budget: { flops: 1e9 }, seed: 0 },
  };
  const record = toRecord(point, { loss: 2, flops: 8e6, tokens: 256 }, "w", 1, {
    dataUnit: "tokens",
  });
  assert.equal(record.D, 256);
  assert.throws(
    () => toRecord(point, { loss: 2, flops: 8e6, tokens: 256 }, "w", 1, { dataUnit: "images" }),
    (e: Error) => e instanceof PermanentError && /lacks `samples`/.test(e.message),
  );
  assert.throws(
    () => toRecord(point, { loss: null, diverged: true, flops: 8e6, samples: 8 }, "w", 1),
    /diverged/,
  );
});
