/**
 * `deno task sweep --queue`: the coordinator of a queued study. It plans the study exactly as
 * the in-process sweep does, enqueues the points no coordinator has enqueued (idempotently, keyed
 * by study and point key), then watches: the workers' heartbeats drive the same progress display,
 * every recorded point is copied into `results.jsonl`, and when the last point lands it fits and
 * reports with the sweep's own code. The coordinator holds no state the database does not: kill
 * it at any moment and the same command re-attaches.
 *
 * @module
 */
import {
  createProgress,
  describe,
  describePlan,
  formatDuration,
  openResultsLog,
  outputDir,
  planStudy,
  reportStudy,
  type ResultRecord,
  type RunSummary,
  type StudyEnvironment,
  studyRecords,
  type SweepConfig,
  type SweepOutcome,
} from "../sweep/mod.ts";
import type { PlannedPoint } from "../plan/mod.ts";
import { errorText, type OpenQueue, openQueue, sleep } from "./db.ts";
import { attachStudy, type JobPolicy, type PointRow, readPoints, studyJobs } from "./store.ts";

/** Options of {@linkcode runQueuedSweep} and {@linkcode printQueueStatus}. */
export interface QueuedSweepOptions {
  /** The `postgres://` connection string. */
  url: string;
  /** Seconds without a heartbeat before a worker's lease lapses. @default 60 */
  leaseS?: number;
  /** First retry delay, seconds (doubled per retry). @default 1 */
  backoffS?: number;
  /** How often the coordinator reads the study's state, ms. @default 1000 */
  pollMs?: number;
  /** Where text goes. @default stdout */
  write?: (text: string) => void;
  /** Redraw progress in place. @default whether stdout is a terminal */
  tty?: boolean;
  /** Stops watching (the queue and its workers carry on). */
  signal?: AbortSignal;
  /** Stop after planning (write `plan.json`, enqueue nothing). */
  planOnly?: boolean;
}

/**
 * The study's id in the database: its name, suffixed `-mock` for mocked studies (as its default
 * output directory is), so a mocked and a trained study of one name never share points.
 *
 * @param config The configuration.
 * @returns The id.
 */
export function studyId(config: SweepConfig): string {
  return `${config.name}${config.mock ? "-mock" : ""}`;
}

/**
 * The job policy of a study: its retries and per-point timeout, the lease and back-off.
 *
 * @param config The configuration.
 * @param options The queue options.
 * @returns The policy.
 * @throws {RangeError} For a timeout over pg-boss's 24-hour cap or a lease under 10 s.
 */
export function jobPolicy(
  config: SweepConfig,
  options: Pick<QueuedSweepOptions, "leaseS" | "backoffS">,
): JobPolicy {
  const leaseS = options.leaseS ?? 60;
  if (!Number.isInteger(leaseS) || leaseS < 10 || leaseS > 86_400) {
    throw new RangeError(`--lease: ${leaseS} s is not a whole number of seconds in 10…86400.`);
  }
  const timeoutS = Math.ceil(config.timeout_s);
  if (timeoutS > 86_400) {
    throw new RangeError(
      `timeout_s: ${config.timeout_s} s exceeds the queue's 24-hour limit per attempt (pg-boss).`,
    );
  }
  const backoffS = options.backoffS ?? 1;
  if (!(backoffS >= 0 && backoffS <= 3600)) throw new RangeError(`--backoff: ${backoffS} s.`);
  return { retries: config.retries, timeoutS, leaseS, backoffS };
}

/**
 * Enqueue a study's points (those not yet queued or recorded), watch until every point is
 * recorded or failed, then write `results.jsonl` and the report into the output directory.
 *
 * @param config The sweep configuration.
 * @param env Family and dataset (the in-process trainer is the workers' business).
 * @param options Connection, lease, output, cancellation.
 * @returns What was produced (no fit when stopped early).
 * @throws {QueueUrlError} For a malformed connection string.
 * @throws {QueueConnectionError} When the database cannot be reached at the start.
 */
export async function runQueuedSweep(
  config: SweepConfig,
  env: StudyEnvironment,
  options: QueuedSweepOptions,
): Promise<SweepOutcome> {
  const encoder = new TextEncoder();
  const write = options.write ?? ((t: string) => Deno.stdout.writeSync(encoder.encode(t)));
  const tty = options.tty ?? Deno.stdout.isTerminal();
  const policy = jobPolicy(config, options);
  const dir = outputDir(config);
  await Deno.mkdir(dir, { recursive: true });
  const grids = planStudy(config, env.family);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  await Deno.writeTextFile(`${dir}/plan.json`, JSON.stringify(grids, null, 2) + "\n");
  write(
    describePlan(config, env.family, grids, dir).replace(" (in-process) →", " (queue workers) →"),
  );
  if (options.planOnly) return { dir, grids };

  const points = grids.flatMap((g) => g.points);
  const study = studyId(config);
  const queue = await openQueue(options.url, {
    role: "flops-fit coordinator",
    supervise: false,
    onError: () => {}, // the watch loop reports outages itself
  });
  const started = performance.now();
  let run: RunSummary;
  try {
    const attached = await attachStudy(queue.boss, queue.db, {
      study,
      config,
      family: env.family,
      points,
      policy,
    });
    write(
      `queue ${queue.name}: study ${study}: ${attached.enqueued} points enqueued` +
        (attached.requeued > 0 ? `, ${attached.requeued} failed points re-queued` : "") +
        `, ${attached.inFlight} already queued or running, ${attached.done} recorded\n`,
    );
    run = await watch(queue, { study, points, dir, write, tty, options });
  } finally {
    await queue.close();
  }
  const trainS = (performance.now() - started) / 1000;
  if (options.signal?.aborted) {
    write(
      `stopped watching: ${run.completed + run.skipped} of ${points.length} points recorded; ` +
        `the workers carry on. Rerun the same command to re-attach.\n`,
    );
    return { dir, grids, run, trainS };
  }
  for (const f of run.failed) write(`failed: ${f.key}: ${f.error}\n`);
  const log = await openResultsLog(`${dir}/results.jsonl`);
  log.close();
  const records = studyRecords(grids, log.records.values());
  if (records.length === 0) {
    write(`no point of ${points.length} was recorded: nothing to fit.\n`);
    return { dir, grids, run, trainS };
  }
  const { sweep, summary } = await reportStudy(config, env, { dir, records, grids, write });
  return { dir, grids, run, sweep, checks: sweep.checks, summary, trainS };
}

interface WatchInput {
  study: string;
  points: readonly PlannedPoint[];
  dir: string;
  write: (text: string) => void;
  tty: boolean;
  options: QueuedSweepOptions;
}

/** What the watch loop last saw of a point. */
interface Seen {
  state: string;
  attempt: number;
  progress: string;
}

/**
 * Poll the study until every point is recorded or failed, turning state changes into the
 * sweep's progress events and copying results into `results.jsonl`.
 */
async function watch(queue: OpenQueue, input: WatchInput): Promise<RunSummary> {
  const { study, points, write, options } = input;
  const pollMs = options.pollMs ?? 1000;
  const byKey = new Map(points.map((p) => [p.key, p]));
  const logPath = `${input.dir}/results.jsonl`;
  let rows = await readPoints(queue.db, study, [...byKey.keys()]);
  const initial = rows.filter((r) => r.record !== null).map((r) => r.record!);
  const logged = await syncResults(logPath, initial);
  const pending = points.filter((p) => !logged.has(p.key));
  const pendingKeys = new Set(pending.map((p) => p.key));
  const progress = createProgress({
    points: pending,
    skipped: points.length - pending.length,
    tty: input.tty,
    write,
  });
  const summary: RunSummary = { skipped: points.length - pending.length, completed: 0, failed: [] };
  const seen = new Map<string, Seen>();
  let outage: string | undefined;
  while (!options.signal?.aborted) {
    try {
      // Jobs before points (see attachStudy): a completed job's result is then always visible.
      const jobs = await studyJobs(queue.boss, study);
      rows = await readPoints(queue.db, study, [...byKey.keys()]);
      if (outage !== undefined) {
        write(`database ${queue.name} reachable again\n`);
        outage = undefined;
      }
      const fresh = rows.filter((r) => r.record !== null && !logged.has(r.key)).map((r) =>
        r.record!
      );
      if (fresh.length > 0) {
        for (const key of (await syncResults(logPath, fresh)).keys()) logged.add(key);
      }
      let open = 0;
      for (const row of rows) {
        const point = byKey.get(row.key)!;
        const before = seen.get(row.key);
        if (row.record !== null) {
          if (before?.state !== "done" && pendingKeys.has(row.key)) {
            summary.completed++;
            progress.handle({ type: "done", point, record: row.record });
          }
          seen.set(row.key, { state: "done", attempt: 0, progress: "" });
          continue;
        }
        const job = row.job_id === null ? undefined : jobs.get(row.job_id);
        const state = job?.state ?? "missing";
        const attempt = (job?.retryCount ?? 0) + 1;
        if (
          state === "failed" || state === "cancelled" || state === "missing" ||
          state === "completed"
        ) {
          if (before?.state !== "failed") {
            const error = row.last_error ?? outputError(job?.output) ??
              (state === "missing" ? "its job was deleted" : `its job ended ${state}`);
            summary.failed.push({ key: row.key, error });
            progress.handle({ type: "failed", point, error });
          }
          seen.set(row.key, { state: "failed", attempt, progress: "" });
          continue;
        }
        open++;
        if (state === "active" && row.attempt === attempt && row.worker !== null) {
          const progressText = JSON.stringify(row.progress ?? {});
          if (before?.state !== "active" || before.attempt !== attempt) {
            progress.handle({ type: "start", point, worker: row.worker, attempt });
          }
          if (row.progress !== null && before?.progress !== progressText) {
            progress.handle({
              type: "progress",
              point,
              worker: row.worker,
              progress: row.progress,
            });
          }
          seen.set(row.key, { state: "active", attempt, progress: progressText });
        } else if (state === "retry" && before?.state !== `retry:${attempt}`) {
          const delayMs = Math.max(0, new Date(job!.startAfter).getTime() - Date.now());
          progress.handle({
            type: "retry",
            point,
            worker: row.worker ?? "a worker",
            error: row.last_error ?? outputError(job?.output) ?? "lease lapsed",
            delay_ms: delayMs,
          });
          seen.set(row.key, { state: `retry:${attempt}`, attempt, progress: "" });
        }
      }
      if (open === 0) break;
    } catch (error) {
      const message = queue.redact(errorText(error));
      if (outage === undefined) {
        write(`database ${queue.name} unreachable: ${message}; retrying every ${pollMs} ms\n`);
      }
      outage = message;
    }
    await sleep(pollMs, options.signal);
  }
  progress.finish();
  return summary;
}

/** The error text pg-boss stored on a failed job (a serialised `Error`). */
function outputError(output: unknown): string | undefined {
  if (typeof output !== "object" || output === null) return undefined;
  const message = (output as { message?: unknown }).message;
  return typeof message === "string" ? message : undefined;
}

/**
 * Append the records `results.jsonl` lacks, under an exclusive lock on the file so coordinators
 * sharing an output directory never write a key twice.
 *
 * @param path Path of `results.jsonl`.
 * @param records Records to make sure are there.
 * @returns Every key now in the file.
 */
export async function syncResults(
  path: string,
  records: readonly ResultRecord[],
): Promise<Set<string>> {
  const lock = await Deno.open(path, { read: true, write: true, create: true });
  try {
    await lock.lock(true);
    const log = await openResultsLog(path);
    try {
      for (const record of records) await log.append(record);
      return new Set(log.records.keys());
    } finally {
      log.close();
    }
  } finally {
    lock.close(); // closing releases the lock
  }
}

/**
 * `--status`: where a study stands, read from the database without enqueueing anything.
 *
 * @param config The sweep configuration (for the study id and its planned points).
 * @param env The family.
 * @param options Connection and output.
 * @returns 0 when the study exists, 1 when no coordinator has enqueued it.
 */
export async function printQueueStatus(
  config: SweepConfig,
  env: StudyEnvironment,
  options: Pick<QueuedSweepOptions, "url" | "write">,
): Promise<number> {
  const write = options.write ?? ((t: string) => console.log(t.replace(/\n$/, "")));
  const points = planStudy(config, env.family).flatMap((g) => g.points);
  const study = studyId(config);
  const queue = await openQueue(options.url, {
    role: "flops-fit status",
    supervise: false,
    onError: () => {},
  });
  try {
    const jobs = await studyJobs(queue.boss, study);
    const rows = await readPoints(queue.db, study, points.map((p) => p.key));
    if (rows.length === 0) {
      write(`study ${study}: not in ${queue.name} (no coordinator has enqueued it).\n`);
      return 1;
    }
    write(formatStatus(study, points.length, rows, jobs, queue.name));
    return 0;
  } finally {
    await queue.close();
  }
}

/**
 * The status report: counts, then a line per running, retrying or failed point.
 *
 * @param study Study id.
 * @param planned Points in the current plan.
 * @param rows Their rows.
 * @param jobs The study's jobs by id.
 * @param where The redacted database name.
 * @returns Text.
 */
export function formatStatus(
  study: string,
  planned: number,
  rows: readonly PointRow[],
  jobs: ReadonlyMap<
    string,
    { state: string; retryCount: number; output?: unknown; startAfter?: Date }
  >,
  where: string,
): string {
  const counts = { done: 0, running: 0, queued: 0, retrying: 0, failed: 0 };
  const lines: string[] = [];
  const now = Date.now();
  for (const row of rows) {
    const job = row.job_id === null ? undefined : jobs.get(row.job_id);
    const what = describe(row.planned);
    if (row.record !== null) {
      counts.done++;
      continue;
    }
    switch (job?.state) {
      case "active": {
        counts.running++;
        const p = row.progress;
        const step = p?.step === undefined
          ? "starting"
          : `step ${p.step}${p.steps ? `/${p.steps}` : ""}`;
        const age = row.heartbeat_at === null
          ? ""
          : `, heard from ${formatDuration((now - row.heartbeat_at.getTime()) / 1000)} ago`;
        lines.push(
          `  running  ${what} on ${row.worker ?? "?"} (attempt ${job.retryCount + 1}): ${step}` +
            `${p?.loss === undefined ? "" : ` loss ${p.loss.toFixed(4)}`}${age}`,
        );
        break;
      }
      case "created":
        counts.queued++;
        break;
      case "retry":
        counts.retrying++;
        lines.push(
          `  retrying ${what} (attempt ${job.retryCount + 1} next): ` +
            `${row.last_error ?? outputError(job.output) ?? "lease lapsed"}`,
        );
        break;
      default:
        counts.failed++;
        lines.push(
          `  failed   ${what}: ${row.last_error ?? outputError(job?.output) ?? "its job is gone"}`,
        );
    }
  }
  const head = `study ${study} in ${where}: ${planned} points: ${counts.done} recorded, ` +
    `${counts.running} running, ${counts.queued} queued, ${counts.retrying} waiting to retry, ` +
    `${counts.failed} failed` +
    (rows.length < planned ? ` (${planned - rows.length} of the plan not enqueued yet)` : "");
  return [head, ...lines].join("\n") + "\n";
}
