/**
 * A queue worker: pulls points from the Postgres queue, trains each (in-process, on a trainer
 * URL, or — for a `--mock` study — from the study's known law), reports progress while it runs,
 * and records the result in the transaction that completes the point's job.
 *
 * Leases are pg-boss job heartbeats: pg-boss refreshes the claim every half lease while the
 * handler runs; a worker that dies or is partitioned stops refreshing, a supervisor (any worker)
 * fails the attempt after `lease` seconds and the point is retried with back-off, elsewhere if
 * another worker is free. Completion is fenced to the attempt this worker fetched: a result that
 * arrives after its lease lapsed commits nothing (the new attempt records the point), and the
 * result row's primary key refuses a second record in any case.
 *
 * @module
 */
import type { Db as IDatabase, Job, PgBoss } from "pg-boss";
import type { BackendChoice } from "../config/mod.ts";
import type { PlannedPoint, SweepFamily } from "../plan/mod.ts";
import {
  httpTrainer,
  localTrainer,
  mockTrainer,
  PermanentError,
  type PointProgress,
  type RecordOptions,
  type SweepConfig,
  toRecord,
  type Trainer,
} from "../sweep/mod.ts";
import { errorText, inTransaction, type OpenQueue, openQueue, QUEUE, sleep } from "./db.ts";
import { insertResult, type PointJob, readStudy } from "./store.ts";

/** Options of {@linkcode startQueueWorker}. */
export interface QueueWorkerOptions {
  /** The `postgres://` connection string. */
  url: string;
  /** Points trained at once. @default 1 */
  concurrency?: number;
  /** Forward points to this server's `POST /v1/train` instead of training in-process. */
  trainerUrl?: string;
  /** Bearer token for the trainer URL. */
  token?: string;
  /** Seconds between supervisor passes (lease expiry, retries). @default 10 */
  superviseIntervalS?: number;
  /** Seconds between progress reports to the database. @default 2 */
  progressIntervalS?: number;
  /** Seconds an idle slot waits before asking for work again. @default 0.5 */
  pollIntervalS?: number;
  /** The in-process trainer (loaded on first use). @default lib/sweep/local.ts */
  localTrainer?: () => Promise<Trainer>;
  /** Which backend the default in-process trainer uses. @default automatic */
  backend?: BackendChoice;
  /** Dataset cache directory of the default in-process trainer. @default the registry's */
  dataDir?: string;
  /** Where log lines go. @default stderr */
  log?: (line: string) => void;
  /** Name recorded with each result. @default `<hostname>:<pid>` */
  name?: string;
}

/** A running queue worker. */
export interface QueueWorker {
  /** Its name (host and process id). */
  name: string;
  /** The open queue. */
  queue: OpenQueue;
  /** Points recorded so far by this worker. */
  recorded(): number;
  /** Stop fetching; wait up to `graceS` for points in flight (then abort them), and disconnect. */
  stop(graceS?: number): Promise<void>;
}

/**
 * Connect and start pulling points.
 *
 * @param options Connection, concurrency, trainer.
 * @returns The running worker.
 * @throws {QueueUrlError} For a malformed connection string.
 * @throws {QueueConnectionError} When the database cannot be reached.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const log = options.log ?? ((line: string) => console.error(line));
  const name = options.name ?? `${Deno.hostname()}:${Deno.pid}`;
  const queue = await openQueue(options.url, {
    role: "flops-fit worker",
    supervise: true,
    poolSize: Math.max(4, (options.concurrency ?? 1) * 2 + 2),
    onError: log,
    ...(options.superviseIntervalS === undefined
      ? {}
      : { superviseIntervalS: options.superviseIntervalS }),
  });
  const { boss, db } = queue;
  const settle = { boss, db, log };
  const progressMs = (options.progressIntervalS ?? 2) * 1000;
  const trainerFor = studyTrainers(db, options);
  const localGate = gate();
  let recorded = 0;

  async function handle(job: Job<PointJob>): Promise<void> {
    const { study, key } = job.data;
    const attempt = job.retryCount + 1;
    const planned = await pointToTrain(settle, job);
    if (planned === undefined) return;
    let trainer: StudyTrainer;
    try {
      trainer = await trainerFor(study);
    } catch (error) {
      return await giveUp(settle, job, errorText(error), error);
    }
    const release = trainer.exclusive ? await localGate(job.signal) : () => {};
    const label = `${name}/${trainer.trainer.name}`;
    let progress: PointProgress | undefined;
    let reported: PointProgress | undefined;
    const report = async () => {
      if (progress === reported) return;
      reported = progress;
      await db.executeSql(
        `UPDATE flops_fit.points SET progress = $5, heartbeat_at = now()
         WHERE study = $1 AND key = $2 AND job_id = $3 AND attempt = $4`,
        [study, key, job.id, attempt, JSON.stringify(progress ?? null)],
      ).catch(() => {}); // a missed progress report is harmless; the lease is pg-boss's
    };
    const timer = setInterval(report, progressMs);
    try {
      await db.executeSql(
        `UPDATE flops_fit.points SET worker = $4, attempt = $5, progress = NULL,
           heartbeat_at = now() WHERE study = $1 AND key = $2 AND job_id = $3`,
        [study, key, job.id, label, attempt],
      );
      log(`start ${study} ${key} (attempt ${attempt})`);
      const started = performance.now();
      let result: Record<string, unknown>;
      try {
        result = await trainer.trainer.train(planned.request, {
          signal: job.signal,
          onProgress: (p) => {
            progress = p;
          },
        });
      } catch (error) {
        if (job.signal.aborted) throw job.signal.reason; // lease lapsed, timed out, or stopped
        if (error instanceof PermanentError) {
          return await giveUp(settle, job, errorText(error), error);
        }
        await noteError(db, job, errorText(error));
        log(`error ${study} ${key} (attempt ${attempt}): ${errorText(error)}`);
        throw error;
      }
      let record;
      try {
        const wallS = (performance.now() - started) / 1000;
        record = toRecord(planned, result, label, wallS, trainer.record);
      } catch (error) {
        return await giveUp(settle, job, errorText(error), error);
      }
      const outcome = await recordWithRetry({
        boss,
        db,
        job,
        study,
        record,
        log,
        redact: queue.redact,
      });
      if (outcome === "recorded") {
        recorded++;
        log(`done  ${study} ${key}: loss ${record.loss.toFixed(4)}`);
      } else {
        log(`drop  ${study} ${key}: ${outcome}`);
      }
    } finally {
      clearInterval(timer);
      release();
    }
  }

  const stopping = new AbortController();
  const claims = new Set<AbortController>();
  const pull = {
    boss,
    queue,
    name,
    log,
    pollMs: (options.pollIntervalS ?? 0.5) * 1000,
    signal: stopping.signal,
    run: (job: Job<PointJob>) => runUnderLease(boss, job, claims, handle),
  };
  const slots = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () => slot(pull));
  log(
    `worker ${name}: pulling points from ${queue.name} (concurrency ${options.concurrency ?? 1}; ` +
      `points train ${
        options.trainerUrl === undefined ? "in-process" : `on ${options.trainerUrl}`
      }, ` +
      "mocked studies' from their law)",
  );
  return {
    name,
    queue,
    recorded: () => recorded,
    async stop(graceS = 30) {
      stopping.abort();
      const all = Promise.all(slots);
      const timer = setTimeout(() => {
        for (const claim of claims) claim.abort(new Error("the worker stopped"));
      }, graceS * 1000);
      await all;
      clearTimeout(timer);
      await queue.close();
    },
  };
}

/** How a study's points train here: the trainer, whether it takes one point at a time. */
interface StudyTrainer {
  /** The trainer. */
  trainer: Trainer;
  /** True for the in-process trainer (tfjs runs one engine per process). */
  exclusive: boolean;
  /** The train contract's checks, as the study asks for them. */
  record: RecordOptions;
}

/**
 * The trainer for each study's points, the study read once from the database: the mock for a
 * mocked study, the trainer URL when given, else the in-process trainer (loaded on first use).
 */
function studyTrainers(
  db: IDatabase,
  options: QueueWorkerOptions,
): (study: string) => Promise<StudyTrainer> {
  const loadLocal = options.localTrainer ??
    (() =>
      localTrainer({
        ...(options.backend === undefined ? {} : { backend: options.backend }),
        ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      }));
  const studies = new Map<string, Promise<{ config: SweepConfig; family: SweepFamily }>>();
  let local: Promise<Trainer> | undefined;
  return async (study) => {
    let entry = studies.get(study);
    if (entry === undefined) {
      entry = readStudy(db, study).then((s) => {
        if (s === undefined) throw new PermanentError(`Study ${study} is not registered.`);
        return s;
      });
      entry.catch(() => studies.delete(study));
      studies.set(study, entry);
    }
    const { config, family } = await entry;
    // The train contract, as the push-mode sweep applies it (lib/sweep/sweep.ts).
    const record: RecordOptions = {
      requireEvalLoss: config.fit_loss === "eval_loss" && !config.mock,
      dataUnit: family.dataUnit,
    };
    if (config.mock) {
      return { trainer: mockTrainer(family, config.mock_law), exclusive: false, record };
    }
    if (options.trainerUrl !== undefined) {
      const token = options.token ? { token: options.token } : {};
      return { trainer: httpTrainer(options.trainerUrl, token), exclusive: false, record };
    }
    local ??= loadLocal();
    // tfjs runs one engine per process: the in-process trainer takes one point at a time.
    return { trainer: await local, exclusive: true, record };
  };
}

/** What settling a job needs: the queue, its database, the log. */
interface Settle {
  boss: PgBoss;
  db: IDatabase;
  log: (line: string) => void;
}

/**
 * The planned point a job stands for, or undefined when there is nothing to train: the point is
 * gone (its job is cancelled) or an earlier attempt recorded it (its job is completed).
 */
async function pointToTrain(
  settle: Settle,
  job: Job<PointJob>,
): Promise<PlannedPoint | undefined> {
  const { study, key } = job.data;
  const { rows } = await settle.db.executeSql(
    `SELECT p.planned, (r.key IS NOT NULL) AS recorded FROM flops_fit.points p
     LEFT JOIN flops_fit.results r ON r.study = p.study AND r.key = p.key
     WHERE p.study = $1 AND p.key = $2`,
    [study, key],
  );
  if (rows[0] === undefined) {
    settle.log(`skip ${study} ${key}: no such point (study deleted?)`);
    await settle.boss.cancel(QUEUE, job);
    return undefined;
  }
  if (rows[0].recorded) {
    // Recorded by an earlier attempt whose completion this one raced: just settle the job.
    await settle.boss.complete(QUEUE, { id: job.id, retryCount: job.retryCount });
    return undefined;
  }
  return rows[0].planned as PlannedPoint;
}

/** Keep a failed attempt's error on its point (best effort). */
async function noteError(db: IDatabase, job: Job<PointJob>, message: string): Promise<void> {
  await db.executeSql(
    "UPDATE flops_fit.points SET last_error = $3 WHERE study = $1 AND key = $2 AND job_id = $4",
    [job.data.study, job.data.key, message, job.id],
  ).catch(() => {});
}

/** A failure retrying cannot fix: end the job now (cancelled) with its error. */
async function giveUp(
  settle: Settle,
  job: Job<PointJob>,
  message: string,
  error: unknown,
): Promise<void> {
  settle.log(`fail  ${job.data.study} ${job.data.key}: ${message}`);
  await inTransaction(settle.db, async (tx) => {
    await tx.executeSql(
      "UPDATE flops_fit.points SET last_error = $3 WHERE study = $1 AND key = $2 AND job_id = $4",
      [job.data.study, job.data.key, message, job.id],
    );
    await settle.boss.cancel(QUEUE, job, { db: tx });
  }).catch((e) => {
    // The database is away: let pg-boss fail (and so retry) the attempt instead.
    throw error instanceof Error ? error : new Error(errorText(e));
  });
}

/** Run one fetched job under its lease: heartbeat, time limit, settle on failure. */
async function runUnderLease(
  boss: PgBoss,
  job: Job<PointJob>,
  claims: Set<AbortController>,
  handle: (job: Job<PointJob>) => Promise<void>,
): Promise<void> {
  const claim = new AbortController();
  claims.add(claim);
  const attempt = { id: job.id, retryCount: job.retryCount };
  const leaseS = job.heartbeatSeconds ?? 0;
  const heartbeat = leaseS > 0
    ? setInterval(async () => {
      try {
        const touched = await boss.touch(QUEUE, attempt) as { affected?: number };
        // Fenced to this attempt: not touched means the lease lapsed and the point was retried
        // (or settled) elsewhere, so stop spending compute on it.
        if (touched.affected === 0) claim.abort(new Error("the lease lapsed"));
      } catch {
        // The database is away: the claim may still hold; keep training, try again.
      }
    }, Math.max(1000, (leaseS * 1000) / 3))
    : undefined;
  const limit = setTimeout(
    () => claim.abort(new Error(`timed out after ${job.expireInSeconds} s`)),
    job.expireInSeconds * 1000,
  );
  try {
    await handle({ ...job, signal: claim.signal });
  } catch (error) {
    const message = claim.signal.aborted ? errorText(claim.signal.reason) : errorText(error);
    await settleFailure(boss, attempt, message);
  } finally {
    clearInterval(heartbeat);
    clearTimeout(limit);
    claims.delete(claim);
  }
}

/** Fail an attempt (pg-boss retries it with back-off, or fails it past the retry limit). */
async function settleFailure(
  boss: PgBoss,
  attempt: { id: string; retryCount: number },
  message: string,
): Promise<void> {
  for (let tries = 0; tries < 5; tries++) {
    try {
      await boss.fail(QUEUE, attempt, { message });
      return;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      await sleep(1000 * 2 ** tries);
    }
  }
  // Still unreachable: the lease lapses on its own and the supervisor retries the point.
}

/** One slot of a queue worker: fetch a job, run it, again, until stopped. */
async function slot(pull: {
  boss: PgBoss;
  queue: OpenQueue;
  name: string;
  log: (line: string) => void;
  pollMs: number;
  signal: AbortSignal;
  run: (job: Job<PointJob>) => Promise<void>;
}): Promise<void> {
  const { boss, queue, name, log } = pull;
  let warned = false;
  let delayMs = 250;
  while (!pull.signal.aborted) {
    let jobs: Job<PointJob>[];
    try {
      jobs = await boss.fetch<PointJob>(QUEUE, { batchSize: 1 });
      if (warned) log(`worker ${name}: database reachable again`);
      warned = false;
      delayMs = 250;
    } catch (error) {
      if (!warned) {
        log(
          `worker ${name}: cannot fetch from ${queue.name}: ${
            queue.redact(errorText(error))
          }; retrying`,
        );
        warned = true;
      }
      await sleep(delayMs, pull.signal);
      delayMs = Math.min(delayMs * 2, 5000);
      continue;
    }
    const job = jobs[0];
    if (job === undefined) {
      await sleep(pull.pollMs, pull.signal);
      continue;
    }
    await pull.run(job);
  }
}

/** Options of {@linkcode recordWithRetry}. */
interface RecordInput {
  boss: PgBoss;
  db: IDatabase;
  job: Job<PointJob>;
  study: string;
  record: ReturnType<typeof toRecord>;
  log: (line: string) => void;
  redact: (text: string) => string;
  /** Give up after this long without reaching the database, ms. @default 1 h */
  patienceMs?: number;
}

/**
 * Record a finished point: complete its job (fenced to this attempt) and insert the result, in
 * one transaction. While the database is unreachable, keep trying (the result is worth hours).
 *
 * @param input Queue, job, record.
 * @returns `"recorded"`, or why nothing was recorded.
 */
export async function recordWithRetry(input: RecordInput): Promise<string> {
  const deadline = Date.now() + (input.patienceMs ?? 3_600_000);
  let delayMs = 250;
  let warned = false;
  while (true) {
    try {
      return await recordResult(input);
    } catch (error) {
      if (!isConnectionError(error) || Date.now() > deadline) throw error;
      if (!warned) {
        input.log(
          `database unreachable while recording ${input.job.data.key}: ` +
            `${input.redact(errorText(error))}; retrying`,
        );
        warned = true;
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}

/**
 * One try of {@linkcode recordWithRetry}.
 *
 * @param input Queue, job, record.
 * @returns `"recorded"`, or why nothing was recorded.
 */
export async function recordResult(
  input: Pick<RecordInput, "boss" | "db" | "job" | "study" | "record">,
): Promise<string> {
  const { boss, job } = input;
  if (input.db.beginTransaction === undefined) throw new Error("no transactions");
  const handle = await input.db.beginTransaction();
  try {
    const completed = await boss.complete(
      QUEUE,
      { id: job.id, retryCount: job.retryCount },
      { recorded: true },
      { db: handle.db },
    ) as { affected?: number };
    if (completed.affected !== 1) {
      await handle.rollback();
      return `the lease of attempt ${job.retryCount + 1} lapsed before its result arrived; ` +
        `not recorded (the point's current attempt records it)`;
    }
    const inserted = await insertResult(handle.db, {
      study: input.study,
      record: input.record,
      jobId: job.id,
      attempt: job.retryCount + 1,
    });
    await handle.db.executeSql(
      `UPDATE flops_fit.points SET progress = NULL, last_error = NULL, heartbeat_at = now()
       WHERE study = $1 AND key = $2`,
      [input.study, input.record.key],
    );
    await handle.commit();
    return inserted ? "recorded" : "already recorded";
  } catch (error) {
    await handle.rollback();
    throw error;
  }
}

/**
 * Whether an error means the database could not be reached (worth retrying), as opposed to a
 * statement it refused.
 *
 * @param error What was thrown.
 * @returns `true` for socket, DNS, timeout and server-shutdown errors.
 */
export function isConnectionError(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? "");
  if (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|57P0[1-3]|08\d\d\d)$/.test(code)
  ) {
    return true;
  }
  const message = errorText(error);
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|ECONNREFUSED|ECONNRESET|the database system is (shutting down|starting up)|Client has encountered a connection error|Connection refused/i
    .test(message);
}

/** A one-at-a-time gate: `await enter(signal)` resolves with the release function. */
function gate(): (signal: AbortSignal) => Promise<() => void> {
  let tail: Promise<void> = Promise.resolve();
  return async (signal) => {
    let release!: () => void;
    const previous = tail;
    tail = new Promise<void>((resolve) => release = resolve);
    await Promise.race([
      previous,
      new Promise<void>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]).catch((error) => {
      previous.then(release);
      throw error;
    });
    return release;
  };
}
