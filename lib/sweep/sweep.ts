/**
 * One scaling study end to end: plan, train (resuming), fit, report. The CLI is a thin shell
 * around {@linkcode runSweep}; tests call it directly.
 *
 * @module
 */
import { FitInputError } from "../fit/mod.ts";
import type { DatasetInfo } from "../../data/mod.ts";
import { outputDir, type SweepConfig } from "./config.ts";
import {
  addReplicates,
  type BudgetGrid,
  type PlannedPoint,
  planSweep,
  type SweepFamily,
} from "../plan/mod.ts";
import { mockTrainer } from "./mock.ts";
import { compact, createProgress, formatDuration } from "./progress.ts";
import { type CostModel, measureCosts, pointCostS, studyCostS } from "./estimate.ts";
import { plainExponents, sci, sig } from "./format.ts";
import { writeReport } from "./report.ts";
import { fitSweep, type SweepChecks, type SweepFit } from "./sweep_fit.ts";
import { openResultsLog, type ResultRecord } from "./results.ts";
import { trainersLine } from "./trainers.ts";
import {
  appendRound,
  formatRounds,
  nextRound,
  readRounds,
  resolveAdaptive,
  type RoundRecord,
  type RoundStop,
} from "./rounds.ts";
import { runPoints, type RunSummary } from "./runner.ts";
import type { Trainer } from "./trainer.ts";
import { httpTrainer } from "./http_trainer.ts";

/** What a study needs from the outside world (registries, the in-process trainer). */
export interface StudyEnvironment {
  /** The family as the planner sees it. */
  family: SweepFamily;
  /** The dataset's metadata, when the registry has it (entropy for synthetic sources). */
  dataset?: DatasetInfo;
  /** The in-process trainer, created on first use (not needed for `--mock` or `--trainers`). */
  localTrainer?: () => Promise<Trainer>;
  /** Bearer token sent to trainer URLs (`--trainers`), from the program's configuration. */
  token?: string;
  /**
   * Start the in-process trainer's backend and describe it in one line (which backend and why,
   * the native kernels); printed before the time estimate.
   */
  describeLocal?: () => Promise<string>;
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
  /**
   * Measure each point's cost with short probe runs before training in-process, print the
   * estimate and base the ETA on it. @default true for the in-process trainer
   */
  estimate?: boolean;
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
  /** Adaptive rounds (round 0 = the planned grids), when the study is adaptive. */
  rounds?: RoundRecord[];
  /** Why the finished points could not be fitted, when they could not. */
  fitError?: string;
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
  const grids = planStudy(config, env.family);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  await Deno.writeTextFile(`${dir}/plan.json`, JSON.stringify(grids, null, 2) + "\n");
  write(describePlan(config, env.family, grids, dir));
  if (options.planOnly) return { dir, grids };

  const log = await openResultsLog(`${dir}/results.jsonl`);
  let run: RunSummary = { skipped: 0, completed: 0, failed: [] };
  let allGrids = grids;
  let rounds: RoundRecord[] = [];
  let stop: RoundStop | null = null;
  const started = performance.now();
  try {
    if (log.tornLine) write("results.jsonl ended in a torn line (a killed write); ignored it.\n");
    for (const r of log.rejected) {
      write(
        `results.jsonl line ${r.line} is not a valid result; kept it aside in ` +
          `results.rejected.jsonl.\n`,
      );
    }
    const trainers = await chooseTrainers(config, env);
    const local = !config.mock && config.trainers.length === 0;
    if (local && env.describeLocal !== undefined) write(`${await env.describeLocal()}\n`);
    let costs: CostModel | undefined;
    let measured = !(local && (options.estimate ?? true));
    const train = async (points: PlannedPoint[]) => {
      const pending = points.filter((p) => !log.records.has(p.key));
      if (!measured && pending.length > 0) {
        measured = true;
        costs = await measureCosts(trainers[0]!, pending, {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        if (costs !== undefined) write(describeEstimate(costs, pending));
      }
      if (pending.length < points.length) {
        write(
          `resuming: ${points.length - pending.length} of ${points.length} points already done\n`,
        );
      }
      const model = costs;
      const progress = createProgress({
        points: pending,
        skipped: points.length - pending.length,
        tty,
        write,
        ...(model === undefined ? {} : { cost: (p: PlannedPoint) => pointCostS(model, p) }),
      });
      const summary = await runPoints(points, {
        trainers,
        log,
        retries: config.retries,
        timeoutMs: config.timeout_s * 1000,
        onEvent: (e) => progress.handle(e),
        ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        // The train contract: an answer lacking a field the fit needs fails its point, naming it.
        requireEvalLoss: config.fit_loss === "eval_loss" && !config.mock,
        dataUnit: env.family.dataUnit,
      });
      progress.finish();
      run = {
        skipped: run.skipped + summary.skipped,
        completed: run.completed + summary.completed,
        failed: [...run.failed, ...summary.failed],
      };
    };
    await train(grids.flatMap((g) => g.points));
    if (config.adaptive !== undefined && !options.signal?.aborted && run.failed.length === 0) {
      ({ rounds, stop } = await runRounds(config, env, {
        dir,
        planned: grids,
        records: () => [...log.records.values()],
        train,
        write,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      }));
      allGrids = rounds.flatMap((r) => r.grids);
    }
  } finally {
    log.close();
  }
  const trainS = (performance.now() - started) / 1000;
  if (options.signal?.aborted) {
    write(
      `stopped: ${log.records.size} points recorded in ${dir}/results.jsonl; ` +
        `rerun the same command to resume.\n`,
    );
    return { dir, grids: allGrids, run, trainS, rounds };
  }
  for (const f of run.failed) write(`failed: ${f.key}: ${f.error}\n`);

  const records = studyRecords(allGrids, log.records.values());
  let reported;
  try {
    reported = await reportStudy(config, env, {
      dir,
      records,
      grids: allGrids,
      write,
      ...(config.adaptive === undefined
        ? {}
        : { rounds: formatRounds(rounds, stop, env.family.sizeParam) }),
    });
  } catch (error) {
    if (!(error instanceof FitInputError)) throw error;
    // The trained points are kept; only the fit is refused (too few budgets, no falling loss…).
    write(
      `cannot fit the study: ${error.message}\n` +
        `(its ${records.length} points are kept in ${dir}/results.jsonl)\n`,
    );
    return { dir, grids: allGrids, run, trainS, rounds, fitError: error.message };
  }
  const { sweep, summary } = reported;
  return { dir, grids: allGrids, run, sweep, checks: sweep.checks, summary, trainS, rounds };
}

/**
 * The study's grids: the planner's IsoFLOP grids for the configuration plus its replicate
 * seeds at each budget's centre size. The in-process sweep and the queue coordinator both plan
 * with it, so both train the same points under the same keys.
 *
 * @param config The configuration.
 * @param family The planner's family.
 * @returns The grids.
 */
export function planStudy(config: SweepConfig, family: SweepFamily): BudgetGrid[] {
  const template = {
    family,
    dataset: config.dataset,
    seed: config.seed,
    hyper: config.hyper,
    ...(config.model === undefined ? {} : { model: config.model }),
  };
  const planned = planSweep({
    ...template,
    budgets: config.budgets,
    sizesPerBudget: config.sizes_per_budget,
    width: config.width,
    dataPerParam: config.data_per_param,
    ...(config.prior === undefined ? {} : { prior: config.prior }),
    ...(config.sizes === undefined ? {} : { sizes: config.sizes }),
  });
  return addReplicates(planned, template, config.replicates);
}

/**
 * The records of a study's planned points, from a results log that may hold others.
 *
 * @param grids The study's grids.
 * @param records Every record of the log.
 * @returns The study's records.
 */
export function studyRecords(
  grids: readonly BudgetGrid[],
  records: Iterable<ResultRecord>,
): ResultRecord[] {
  const keys = new Set(grids.flatMap((g) => g.points.map((p) => p.key)));
  return [...records].filter((r) => keys.has(r.key));
}

/** Options of {@linkcode reportStudy}. */
export interface ReportStudyOptions {
  /** The output directory. */
  dir: string;
  /** The study's finished points. */
  records: ResultRecord[];
  /** The study's grids (their budgets are the swept ones). */
  grids: readonly BudgetGrid[];
  /** Where text goes. */
  write: (text: string) => void;
  /** The adaptive rounds as markdown lines, for adaptive studies. */
  rounds?: string[];
}

/**
 * Fit a study's finished points and write its report: the held-out forecast check when a
 * budget stands ≥ 3× above the rest, E free and E fixed at the source's floor side by side,
 * who trained which point. The in-process sweep and the queue coordinator end with it.
 *
 * @param config The configuration.
 * @param env Family and dataset.
 * @param options Records, grids, output.
 * @returns The fit and the printed summary.
 * @throws {FitInputError} When the points cannot be fitted.
 */
export async function reportStudy(
  config: SweepConfig,
  env: Pick<StudyEnvironment, "family" | "dataset">,
  options: ReportStudyOptions,
): Promise<{ sweep: SweepFit; summary: string }> {
  const { dir, records, write } = options;
  const budgets = [...new Set(options.grids.map((g) => g.budget_flops))].sort((x, y) => x - y);
  // The floor the losses come from: the mock law's E, else the source's entropy when known.
  const entropy = config.mock ? config.mock_law.E : env.dataset?.entropy_nats;
  const sweep = fitSweep({
    records,
    budgets,
    bootstrap: config.bootstrap,
    seed: config.seed,
    fitLoss: config.fit_loss,
    ...(config.table_budgets === undefined ? {} : { tableBudgets: config.table_budgets }),
    ...(entropy === undefined ? {} : { entropyNats: entropy }),
    ...(config.hold_out_above === undefined
      ? {}
      : { holdOutAbove: config.hold_out_above === false ? null : config.hold_out_above }),
  });
  const trainedBy = trainersLine(records);
  const summary = await writeReport(dir, sweep, {
    name: config.name,
    family: `${env.family.name} models sized by ${env.family.sizeParam}`,
    dataset: config.dataset,
    dataUnit: env.family.dataUnit,
    points: records.length,
    mock: config.mock,
    fitLoss: config.fit_loss,
    wallS: records.reduce((s, r) => s + r.wall_s, 0),
    ...(entropy === undefined ? {} : { entropyNats: entropy }),
    ...(trainedBy === undefined ? {} : { trainedBy }),
    ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
  });
  write("\n" + summary);
  write(`\nwrote ${dir}/{results.jsonl, fit.json, summary.md, report.html, *.svg}\n`);
  return { sweep, summary };
}

/** What {@linkcode runRounds} needs from the sweep around it. */
interface RoundsContext {
  dir: string;
  planned: BudgetGrid[];
  records: () => ResultRecord[];
  train: (points: PlannedPoint[]) => Promise<void>;
  write: (text: string) => void;
  signal?: AbortSignal;
}

/**
 * The adaptive rounds after the planned grids: replay the rounds already in `rounds.jsonl`
 * (training what is missing), then plan, log and train new ones until {@linkcode nextRound}
 * stops.
 */
async function runRounds(
  config: SweepConfig,
  env: StudyEnvironment,
  context: RoundsContext,
): Promise<{ rounds: RoundRecord[]; stop: RoundStop | null }> {
  const path = `${context.dir}/rounds.jsonl`;
  const adaptive = resolveAdaptive(config.adaptive!, context.planned);
  const rounds = await readRounds(path);
  if (rounds.length === 0) {
    const first: RoundRecord = {
      round: 0,
      kind: "planned",
      grids: context.planned,
      reasons: ["the planned grids"],
      uncertainty: null,
    };
    await appendRound(path, first);
    rounds.push(first);
  } else {
    rounds[0] = { ...rounds[0]!, grids: context.planned };
    if (rounds.length > 1) {
      context.write(`resuming: ${rounds.length - 1} adaptive round(s) logged\n`);
    }
  }
  for (const r of rounds.slice(1)) {
    if (context.signal?.aborted) return { rounds, stop: null };
    await context.train(r.grids.flatMap((g) => g.points));
  }
  const fitFailed = () => context.records().length === 0;
  while (!context.signal?.aborted && !fitFailed()) {
    const next = nextRound({
      family: env.family,
      adaptive,
      rounds,
      records: context.records().filter((rec) =>
        rounds.some((r) => r.grids.some((g) => g.points.some((p) => p.key === rec.key)))
      ),
      fitLoss: config.fit_loss,
      sizesPerBudget: config.sizes_per_budget,
      width: config.width,
      dataset: config.dataset,
      seed: config.seed,
      hyper: config.hyper,
      ...(config.model === undefined ? {} : { model: config.model }),
    });
    if ("stop" in next) {
      context.write(`adaptive: stopped (${next.stop}): ${plainExponents(next.reason)}\n`);
      return { rounds, stop: next };
    }
    await appendRound(path, next);
    rounds.push(next);
    context.write(
      `adaptive round ${next.round} (${next.kind}): ` +
        next.grids.map((g) => `C=${sci(g.budget_flops)} +${g.points.length}`).join(
          ", ",
        ) + `\n` + next.reasons.map((r) => `  ${plainExponents(r)}\n`).join(""),
    );
    await context.train(next.grids.flatMap((g) => g.points));
  }
  return { rounds, stop: null };
}

async function chooseTrainers(config: SweepConfig, env: StudyEnvironment): Promise<Trainer[]> {
  if (config.mock) return [mockTrainer(env.family, config.mock_law)];
  if (config.trainers.length > 0) {
    const token = env.token;
    return config.trainers.map((url) =>
      httpTrainer(url, { concurrency: config.concurrency, ...(token ? { token } : {}) })
    );
  }
  if (env.localTrainer === undefined) throw new Error("No in-process trainer is available.");
  return [await env.localTrainer()];
}

/**
 * The time estimate in one line: the measured study cost and what it was measured from.
 *
 * @param model The measured cost model.
 * @param points The points still to train.
 * @returns Text (one line).
 */
export function describeEstimate(model: CostModel, points: readonly PlannedPoint[]): string {
  const total = studyCostS(model, points);
  const probes = model.probes.map((p) =>
    `${(p.stepS * 1000).toPrecision(2)} ms/step at ${sig(p.stepFlops)} FLOPs/step ` +
    `(${p.steps[0]}- and ${p.steps[1]}-step runs)`
  ).join(", ");
  return `estimate: ${formatDuration(total)} to train ${points.length} point` +
    `${points.length === 1 ? "" : "s"} on this machine, from short probe runs ` +
    `(${model.probeS.toFixed(1)} s): ${probes}\n`;
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
    `${grids.length} budgets, ${sig(total)} FLOPs in all` +
    (config.mock
      ? " (mock)"
      : config.trainers.length > 0
      ? ` on ${config.trainers.length} trainer${config.trainers.length === 1 ? "" : "s"}`
      : " (in-process)") +
    ` → ${dir}`,
  ];
  for (const g of grids) {
    lines.push(
      `  C=${sci(g.budget_flops)}: centre N≈${compact(g.centre_params)} · ` +
        g.points.map((p) =>
          `${family.sizeParam}=${p.size} (N=${compact(p.params)}, D/N=${sig(p.data / p.params)})`
        ).join(", "),
    );
    for (const w of g.warnings) lines.push(`    warning: ${w}`);
  }
  return lines.join("\n") + "\n";
}
