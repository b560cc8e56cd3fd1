/**
 * Sweep benchmark: the cost of everything around training — planning, the adaptive planner's
 * bootstrap, and a whole mocked study (15 points, fit with 200 bootstrap resamples, four SVG plots,
 * report.html) — so the harness never dominates a real sweep.
 *
 * @module
 */
import { planAdaptive } from "../../lib/plan/adaptive.ts";
import { studyEnvironment } from "../../lib/sweep/cli.ts";
import { resolveSweepConfig } from "../../lib/sweep/config.ts";
import { planSweep } from "../../lib/plan/grids.ts";
import { runSweep } from "../../lib/sweep/sweep.ts";

/** Repetitions per timing; the median is reported. */
const REPEATS = 3;

async function median(task: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    await task();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(REPEATS / 2)]!;
}

/**
 * Run the benchmark.
 *
 * @returns A markdown section.
 */
export async function run(): Promise<string> {
  const config = resolveSweepConfig();
  const env = studyEnvironment(config);
  const plan = await median(() =>
    planSweep({ family: env.family, budgets: [1e9, 1e10, 1e11, 1e12], dataset: "x" })
  );
  const results = planSweep({ family: env.family, budgets: [1e9, 2e9, 4e9], dataset: "x" })
    .flatMap((g) => g.points)
    .map((p) => ({
      N: p.params,
      D: p.data,
      C: p.budget_flops,
      loss: 1.1 + 40 / p.params ** 0.34 + 50 / p.data ** 0.28,
    }));
  const adaptive = await median(() =>
    planAdaptive({ family: env.family, dataset: "x", results, targetBudget: 1e12, bootstrap: 200 })
  );
  const mock = await median(async () => {
    const out = await Deno.makeTempDir({ prefix: "sweep-bench-" });
    const mocked = resolveSweepConfig({ overrides: { mock: true, out } });
    await runSweep(mocked, env, { write: () => {}, tty: false });
    await Deno.remove(out, { recursive: true });
  });
  return [
    "## Sweep harness",
    "",
    `Median of ${REPEATS} runs on this machine.`,
    "",
    "| task | ms |",
    "| --- | --- |",
    `| plan 4 budgets × 5 sizes (GPT) | ${plan.toFixed(1)} |`,
    `| adaptive plan: 4 candidate budgets × 200 bootstrap replicates | ${adaptive.toFixed(0)} |`,
    `| mocked study end to end: 15 points, fit (200 resamples), 4 SVGs, report.html | ${
      mock.toFixed(0)
    } |`,
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await run());
