import assert from "node:assert/strict";
import { studyEnvironment } from "../../../lib/sweep/cli.ts";
import { resolveSweepConfig, type SweepFile } from "../../../lib/sweep/config.ts";
import { REPORT_FILES } from "../../../lib/sweep/report.ts";
import { parseResults } from "../../../lib/sweep/results.ts";
import { runSweep } from "../../../lib/sweep/sweep.ts";

async function mockConfig(overrides: Partial<SweepFile> = {}) {
  const out = await Deno.makeTempDir({ prefix: "sweep-test-" });
  return resolveSweepConfig({ overrides: { mock: true, out, bootstrap: 50, ...overrides } });
}

const quiet = { write: () => {}, tty: false, backoffMs: 10 };

Deno.test("runSweep() with --mock writes results, fit, summary, the hero figure and four SVG plots and report.html", async () => {
  const config = await mockConfig();
  const env = studyEnvironment(config);
  const outcome = await runSweep(config, env, quiet);
  const points = outcome.grids.flatMap((g) => g.points);
  // The default preset: every budget gets its full grid.
  const total = config.budgets.length * config.sizes_per_budget;
  assert.equal(total, 25, "5 budgets × 5 sizes");
  assert.equal(points.length, total);
  assert.equal(outcome.run?.completed, total);
  const dir = outcome.dir;
  const parsed = parseResults(await Deno.readFile(`${dir}/results.jsonl`));
  assert.equal(parsed.records.length, total);
  const fit = JSON.parse(await Deno.readTextFile(`${dir}/${REPORT_FILES.fit}`));
  assert.equal(fit.n_points, total);
  assert.equal(fit.checks.positiveCurvature, true);
  assert.equal(fit.checks.nOptRising, true);
  assert.equal(typeof fit.checks.entropyGap, "number", "the synthetic source's entropy is known");
  for (const plot of REPORT_FILES.plots) {
    const svg = await Deno.readTextFile(`${dir}/${plot}`);
    assert.match(svg, /^<svg[^>]*class="marks"/);
    assert.ok(svg.includes("<path"), `${plot} draws marks`);
  }
  const html = await Deno.readTextFile(`${dir}/${REPORT_FILES.html}`);
  assert.equal(html.match(/<svg/g)?.length, 5);
  assert.ok(!/<script|src="http/.test(html), "self-contained, no scripts or remote resources");
  const summary = await Deno.readTextFile(`${dir}/${REPORT_FILES.summary}`);
  assert.match(summary, /\| C \(FLOPs\) \| approach \| N_opt/);
  assert.match(summary, /gap E − H = [+-]\d/);
  // The mock law's exponents: a = β/(α+β) = 0.28/0.62 ≈ 0.452; Approach 3 recovers it.
  assert.ok(Math.abs(outcome.sweep!.fit.parametric.a - 0.28 / 0.62) < 0.1);

  // Rerunning the same study resumes: nothing is trained again.
  const again = await runSweep(config, env, quiet);
  assert.equal(again.run?.skipped, total);
  assert.equal(again.run?.completed, 0);
});

Deno.test("runSweep() stopped mid-way keeps finished points and a rerun completes each once", async () => {
  const config = await mockConfig({
    mock_law: { delay_ms: 20 },
    budgets: [1e11, 3e11],
    sizes_per_budget: 4,
  });
  const env = studyEnvironment(config);
  const controller = new AbortController();
  let lines = 0;
  const first = await runSweep(config, env, {
    ...quiet,
    signal: controller.signal,
    write: (t) => {
      if (t.startsWith("done") && ++lines === 3) controller.abort();
    },
  });
  assert.equal(first.sweep, undefined, "no fit after an interrupted run");
  const partial = parseResults(await Deno.readFile(`${first.dir}/results.jsonl`));
  assert.equal(partial.records.length, 3);
  // A torn write left by the kill must not stop the resume.
  await Deno.writeTextFile(`${first.dir}/results.jsonl`, '{"key":"half', { append: true });
  const second = await runSweep(config, env, quiet);
  assert.equal(second.run?.skipped, 3);
  assert.equal(second.run?.completed, 5);
  const lines2 = (await Deno.readTextFile(`${first.dir}/results.jsonl`)).trim().split("\n");
  const keys = lines2.map((l) => JSON.parse(l).key);
  assert.equal(keys.length, 8);
  assert.equal(new Set(keys).size, 8);
});

Deno.test("runSweep() against 3 worker processes, one killed mid-sweep, records every point exactly once", async () => {
  const fixture = new URL("./fixtures/mock_trainer.ts", import.meta.url).pathname;
  const children = [0, 1, 2].map(() =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fixture],
      env: { PORT: "0", MOCK_DELAY_MS: "150" },
      stdout: "piped",
      stderr: "null",
    }).spawn()
  );
  try {
    const urls = await Promise.all(children.map(async (child) => {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      return `http://127.0.0.1:${JSON.parse(value!.trim().split("\n")[0]!).port}`;
    }));
    const config = await mockConfig({ mock: false, workers: urls, retries: 5 });
    const env = studyEnvironment(config);
    let done = 0;
    let killed = false;
    const outcome = await runSweep(config, env, {
      ...quiet,
      write: (t) => {
        if (t.startsWith("done") && ++done === 3 && !killed) {
          killed = true;
          children[1]!.kill("SIGKILL");
        }
      },
    });
    assert.ok(killed);
    assert.deepEqual(outcome.run?.failed, []);
    const text = await Deno.readTextFile(`${outcome.dir}/results.jsonl`);
    const keys = text.trim().split("\n").map((l) => JSON.parse(l).key).sort();
    const planned = outcome.grids.flatMap((g) => g.points.map((p) => p.key)).sort();
    assert.deepEqual(keys, planned, "every point exactly once");
    const workersUsed = new Set(text.trim().split("\n").map((l) => JSON.parse(l).worker));
    assert.ok(workersUsed.size >= 2);
    assert.ok(outcome.sweep !== undefined, "the study was fitted");
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already dead
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
    }
  }
});

Deno.test("replicates: k trains k seeds at each budget's centre size and the fit estimates noise from them", async () => {
  const config = await mockConfig({ replicates: 3, budgets: [3e9, 1e10, 3e10], bootstrap: 0 });
  const outcome = await runSweep(config, studyEnvironment(config), quiet);
  for (const grid of outcome.grids) {
    const seeds = grid.points.map((p) => p.request.seed);
    assert.deepEqual(seeds.filter((s) => s > 0), [1, 2], `C=${grid.budget_flops}`);
    assert.equal(grid.points.length, config.sizes_per_budget + 2);
  }
  const noise = outcome.sweep!.fit.noise;
  assert.equal(noise.source, "replicates");
  assert.equal(noise.n_replicate_groups, 3);
  // The mock law's noise is 0.5 % multiplicative: σ of ln L ≈ 0.005.
  assert.ok(noise.sd_log_loss! > 0.001 && noise.sd_log_loss! < 0.02, `${noise.sd_log_loss}`);
});
