/**
 * One scaling study end to end: plan, train (resuming), fit, report. The CLI is a thin shell
 * around {@linkcode runSweep}; tests call it directly.
 *
 * @module
 */
import type { DatasetInfo } from "../../data/types.ts";
import { outputDir, type SweepConfig } from "./config.ts";
import type { SweepFamily } from "../plan/family.ts";
import { mockWorker } from "./mock.ts";
import { addReplicates, type BudgetGrid, planSweep } from "../plan/plan.ts";
import { compact, createProgress } from "./progress.ts";
import { writeReport } from "./report.ts";
import { fitSweep, type SweepChecks, type SweepFit } from "./sweep_fit.ts";
import { openResultsLog } from "./results.ts";
import { httpWorker, runPoints, type RunSummary, type Worker } from "./runner.ts";

/** What a study needs from the outside world (registries, the in-process trainer). */
export interface StudyEnvironment {
  /** The family as the planner sees it. */
  family: SweepFamily;
  /** The dataset's metadata, when the registry has it (entropy for synthetic sources). */
  dataset?: DatasetInfo;
  /** The in-process trainer, created on first use (not needed for `--mock` or `--workers`). */
  localWorker?: () => Promise<Worker>;
}

/** Options of {@linkcode runSweep}. */
export interface RunSweepOptions {
  /** Where text goes. @default stdout */
  write?: (text: string) => void;
  /** Redraw progress in place. @default whether stdout is a terminal */
  tty?: boolean;
  /** Stops the sweep; finished points stay recorded. */
  signal?: AbortSignal;
  /** First retry delay, ms. @default 1000 */
  backoffMs?: number;
  /** Stop after planning (write `plan.json`, train nothing). */
  planOnly?: boolean;
}

/** What {@linkcode runSweep} produced. */
export interface SweepOutcome {
  /** Output directory. */
  dir: string;
  /** The planned grids. */
  grids: BudgetGrid[];
  /** Run counts. */
  run?: RunSummary;
  /** The fit, when the points could be fitted. */
  sweep?: SweepFit;
  /** The study's checks. */
  checks?: SweepChecks;
  /** The printed summary. */
  summary?: string;
  /** Seconds spent training in this invocation. */
  trainS?: number;
}

/**
 * Run a study: plan the grids, train every point not yet in `results.jsonl`, fit, and write the
 * report into the output directory.
 *
 * @param config The sweep configuration.
 * @param env Family, dataset and in-process trainer.
 * @param options Output, TTY mode, cancellation.
 * @returns What was produced.
 */
export async function runSweep(
  config: SweepConfig,
  env: StudyEnvironment,
  options: RunSweepOptions = {},
): Promise<SweepOutcome> {
  const encoder = new TextEncoder();
  const write = options.write ?? ((t: string) => Deno.stdout.writeSync(encoder.encode(t)));
  const tty = options.tty ?? Deno.stdout.isTerminal();
  const dir = outputDir(config);
  await Deno.mkdir(dir, { recursive: true });
  const planned = planSweep({
    family: env.family,
    budgets: config.budgets,
    sizesPerBudget: config.sizes_per_budget,
    width: config.width,
    dataPerParam: config.data_per_param,
    dataset: config.dataset,
    seed: config.seed,
    hyper: config.hyper,
    ...(config.prior === undefined ? {} : { prior: config.prior }),
    ...(config.sizes === undefined ? {} : { sizes: config.sizes }),
    ...(config.model === undefined ? {} : { model: config.model }),
  });
  const grids = addReplicates(planned, {
    family: env.family,
    dataset: config.dataset,
    seed: config.seed,
    hyper: config.hyper,
    ...(config.model === undefined ? {} : { model: config.model }),
  }, config.replicates);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  await Deno.writeTextFile(`${dir}/plan.json`, JSON.stringify(grids, null, 2) + "\n");
  write(describePlan(config, env.family, grids, dir));
  if (options.planOnly) return { dir, grids };

  const points = grids.flatMap((g) => g.points);
  const log = await openResultsLog(`${dir}/results.jsonl`);
  let run: RunSummary;
  const started = performance.now();
  try {
    if (log.tornLine) write("results.jsonl ended in a torn line (a killed write); ignored it.\n");
    const pending = points.filter((p) => !log.records.has(p.key));
    if (pending.length < points.length) {
      write(
        `resuming: ${points.length - pending.length} of ${points.length} points already done\n`,
      );
    }
    const workers = await chooseWorkers(config, env);
    const progress = createProgress({
      points: pending,
      skipped: points.length - pending.length,
      tty,
      write,
    });
    run = await runPoints(points, {
      workers,
      log,
      retries: config.retries,
      timeoutMs: config.timeout_s * 1000,
      onEvent: (e) => progress.handle(e),
      ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    progress.finish();
  } finally {
    log.close();
  }
  const trainS = (performance.now() - started) / 1000;
  if (options.signal?.aborted) {
    write(
      `stopped: ${log.records.size} points recorded in ${dir}/results.jsonl; ` +
        `rerun the same command to resume.\n`,
    );
    return { dir, grids, run, trainS };
  }
  for (const f of run.failed) write(`failed: ${f.key}: ${f.error}\n`);

  const keys = new Set(points.map((p) => p.key));
  const records = [...log.records.values()].filter((r) => keys.has(r.key));
  // The floor the losses come from: the mock law's E, else the source's entropy when known.
  const entropy = config.mock ? config.mock_law.E : env.dataset?.entropy_nats;
  const sweep = fitSweep({
    records,
    budgets: config.budgets,
    bootstrap: config.bootstrap,
    seed: config.seed,
    fitLoss: config.fit_loss,
    ...(config.table_budgets === undefined ? {} : { tableBudgets: config.table_budgets }),
    ...(entropy === undefined ? {} : { entropyNats: entropy }),
    ...(config.hold_out_above === undefined
      ? {}
      : { holdOutAbove: config.hold_out_above === false ? null : config.hold_out_above }),
  });
  const wallS = records.reduce((s, r) => s + r.wall_s, 0);
  const summary = await writeReport(dir, sweep, {
    name: config.name,
    family: `${env.family.name} (size = ${env.family.sizeParam})`,
    dataset: config.dataset,
    dataUnit: env.family.dataUnit,
    points: records.length,
    mock: config.mock,
    fitLoss: config.fit_loss,
    wallS,
    ...(entropy === undefined ? {} : { entropyNats: entropy }),
  });
  write("\n" + summary);
  write(`\nwrote ${dir}/{results.jsonl, fit.json, summary.md, report.html, *.svg}\n`);
  return { dir, grids, run, sweep, checks: sweep.checks, summary, trainS };
}

async function chooseWorkers(config: SweepConfig, env: StudyEnvironment): Promise<Worker[]> {
  if (config.mock) return [mockWorker(env.family, config.mock_law)];
  if (config.workers.length > 0) {
    const token = Deno.env.get("FLOPS_FIT_TOKEN");
    return config.workers.map((url) =>
      httpWorker(url, { concurrency: config.concurrency, ...(token ? { token } : {}) })
    );
  }
  if (env.localWorker === undefined) throw new Error("No in-process trainer is available.");
  return [await env.localWorker()];
}

/**
 * The plan in a few lines: budgets, sizes, D/N at each point.
 *
 * @param config The configuration.
 * @param family The family.
 * @param grids The grids.
 * @param dir Output directory.
 * @returns Text.
 */
export function describePlan(
  config: SweepConfig,
  family: SweepFamily,
  grids: BudgetGrid[],
  dir: string,
): string {
  const points = grids.reduce((s, g) => s + g.points.length, 0);
  const total = grids.reduce((s, g) => s + g.points.reduce((t, p) => t + p.flops, 0), 0);
  const lines = [
    `sweep ${config.name}: ${family.name} on ${config.dataset}, ${points} points on ` +
    `${grids.length} budgets, ${total.toExponential(2)} FLOPs in all` +
    (config.mock
      ? " (mock)"
      : config.workers.length > 0
      ? ` on ${config.workers.length} workers`
      : " (in-process)") +
    ` → ${dir}`,
  ];
  for (const g of grids) {
    lines.push(
      `  C=${g.budget_flops.toExponential(1)}: centre N≈${compact(g.centre_params)} · ` +
        g.points.map((p) =>
          `${family.sizeParam}=${p.size} (N=${compact(p.params)}, D/N=${
            (p.data / p.params).toPrecision(2)
          })`
        ).join(", "),
    );
    for (const w of g.warnings) lines.push(`    warning: ${w}`);
  }
  return lines.join("\n") + "\n";
}
