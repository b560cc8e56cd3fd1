/**
 * The study's rows: enqueueing a study's points (idempotently), reading where they stand, and
 * recording a finished point in the transaction that completes its job.
 *
 * A point is enqueued when it has no result and no live job: the first time it is planned, or
 * again (a new `generation`, so a new job id) when its job ended failed or cancelled or was
 * deleted by retention. Enqueueing runs under a per-study advisory lock, so two coordinators
 * attaching at once enqueue each point once.
 *
 * @module
 */
import type { Db as IDatabase, JobWithMetadata, PgBoss } from "pg-boss";
import type { ResultRecord, SweepConfig } from "../sweep/mod.ts";
import type { PlannedPoint, SweepFamily } from "../plan/mod.ts";
import { inTransaction, jobId, QUEUE } from "./db.ts";

/** What a job carries: which point of which study. */
export interface PointJob {
  /** Study id. */
  study: string;
  /** Point key (`pointKey`). */
  key: string;
}

/** Per-study job settings, from the sweep configuration and the queue flags. */
export interface JobPolicy {
  /** Retries after the first attempt before the point is failed. */
  retries: number;
  /** Seconds one attempt may run (pg-boss caps it at 24 h). */
  timeoutS: number;
  /** Seconds without a heartbeat after which a worker's lease lapses and the point is retried. */
  leaseS: number;
  /** First retry delay in seconds; doubled (with jitter) per retry. */
  backoffS: number;
}

/** One point's row, joined with its result when there is one. */
export interface PointRow {
  /** Point key. */
  key: string;
  /** The planned point. */
  planned: PlannedPoint;
  /** Enqueueings before the current one. */
  generation: number;
  /** The current job, once enqueued. */
  job_id: string | null;
  /** Worker holding (or last holding) the point. */
  worker: string | null;
  /** Attempt number the worker is on (1 = first). */
  attempt: number | null;
  /** Latest progress the worker reported. */
  progress: { step?: number; steps?: number; loss?: number } | null;
  /** When the worker last reported. */
  heartbeat_at: Date | null;
  /** The last attempt's error. */
  last_error: string | null;
  /** The recorded result. */
  record: ResultRecord | null;
}

/** The live states of a pg-boss job. */
const LIVE = new Set(["created", "retry", "active"]);

/** What {@linkcode attachStudy} did. */
export interface AttachSummary {
  /** Points enqueued for the first time. */
  enqueued: number;
  /** Points enqueued again because their job had failed, been cancelled or been deleted. */
  requeued: number;
  /** Points already recorded. */
  done: number;
  /** Points already queued or running. */
  inFlight: number;
}

/**
 * Register a study and enqueue every planned point that is neither recorded nor live.
 *
 * @param boss The pg-boss instance.
 * @param db The pool.
 * @param input Study id, configuration, family, points and job policy.
 * @returns Counts of what was enqueued.
 */
export async function attachStudy(
  boss: PgBoss,
  db: IDatabase,
  input: {
    study: string;
    config: SweepConfig;
    family: SweepFamily;
    points: readonly PlannedPoint[];
    policy: JobPolicy;
  },
): Promise<AttachSummary> {
  const { study, points, policy } = input;
  return await inTransaction(db, async (tx) => {
    await tx.executeSql("SELECT pg_advisory_xact_lock(hashtext($1))", [`flops_fit:${study}`]);
    await tx.executeSql(
      `INSERT INTO flops_fit.studies (study, config, family) VALUES ($1, $2, $3)
       ON CONFLICT (study) DO UPDATE SET config = EXCLUDED.config, family = EXCLUDED.family,
         updated_at = now()`,
      [study, JSON.stringify(input.config), JSON.stringify(input.family)],
    );
    await tx.executeSql(
      `INSERT INTO flops_fit.points (study, key, planned)
       SELECT $1, p->>'key', p FROM jsonb_array_elements($2::jsonb) AS p
       ON CONFLICT (study, key) DO NOTHING`,
      [study, JSON.stringify(points)],
    );
    // Jobs before points: a job completes in the transaction that records its result, so a
    // point read after its job is seen completed always shows the result.
    const jobs = await studyJobs(boss, study, tx);
    const rows = await readPoints(tx, study, points.map((p) => p.key));
    const summary: AttachSummary = { enqueued: 0, requeued: 0, done: 0, inFlight: 0 };
    const inserts: { id: string; data: PointJob }[] = [];
    for (const row of rows) {
      if (row.record !== null) {
        summary.done++;
        continue;
      }
      const job = row.job_id === null ? undefined : jobs.get(row.job_id);
      if (job !== undefined && LIVE.has(job.state)) {
        summary.inFlight++;
        continue;
      }
      const generation = row.job_id === null ? row.generation : row.generation + 1;
      if (row.job_id === null) summary.enqueued++;
      else summary.requeued++;
      const id = await jobId(study, row.key, generation);
      await tx.executeSql(
        `UPDATE flops_fit.points SET generation = $3, job_id = $4, worker = NULL, attempt = NULL,
           progress = NULL, heartbeat_at = NULL, last_error = NULL
         WHERE study = $1 AND key = $2`,
        [study, row.key, generation, id],
      );
      inserts.push({ id, data: { study, key: row.key } });
    }
    if (inserts.length > 0) {
      await boss.insert(
        QUEUE,
        inserts.map((job) => ({
          ...job,
          retryLimit: policy.retries,
          retryDelay: policy.backoffS,
          retryBackoff: true,
          retryDelayMax: 600,
          expireInSeconds: policy.timeoutS,
          heartbeatSeconds: policy.leaseS,
          // Queued points wait for workers as long as it takes (pg-boss deletes queued jobs
          // after `retentionSeconds`); finished jobs are kept a week (the result is in our table).
          retentionSeconds: 365 * 24 * 3600,
        })),
        { db: tx },
      );
    }
    return summary;
  });
}

/**
 * Every job of a study, by id (all generations), with its state and output.
 *
 * @param boss The pg-boss instance.
 * @param study Study id.
 * @param db Pool or transaction. @default the pool
 * @returns Jobs by id.
 */
export async function studyJobs(
  boss: PgBoss,
  study: string,
  db?: IDatabase,
): Promise<Map<string, JobWithMetadata<PointJob>>> {
  const jobs = await boss.findJobs<PointJob>(QUEUE, {
    data: { study },
    limit: 100_000,
    ...(db === undefined ? {} : { db }),
  }) as JobWithMetadata<PointJob>[];
  return new Map(jobs.map((job) => [job.id, job]));
}

/**
 * The rows of a study's points (all of them, or those with the given keys), with results.
 *
 * @param db Pool or transaction.
 * @param study Study id.
 * @param keys Only these points. @default every point of the study
 * @returns The rows, in key order.
 */
export async function readPoints(
  db: IDatabase,
  study: string,
  keys?: readonly string[],
): Promise<PointRow[]> {
  const { rows } = await db.executeSql(
    `SELECT p.key, p.planned, p.generation, p.job_id, p.worker, p.attempt, p.progress,
       p.heartbeat_at, p.last_error, r.key AS r_key, r.budget_flops, r.size, r."N", r."D", r."C",
       r.loss, r.eval_loss, r.wall_s, r.worker AS r_worker, r.backend, r.finished_at, r.result
     FROM flops_fit.points p
     LEFT JOIN flops_fit.results r ON r.study = p.study AND r.key = p.key
     WHERE p.study = $1 AND ($2::text[] IS NULL OR p.key = ANY($2::text[]))
     ORDER BY p.key`,
    [study, keys === undefined ? null : [...keys]],
  );
  return rows.map((row: Record<string, unknown>) => ({
    key: row.key as string,
    planned: row.planned as PlannedPoint,
    generation: row.generation as number,
    job_id: row.job_id as string | null,
    worker: row.worker as string | null,
    attempt: row.attempt as number | null,
    progress: row.progress as PointRow["progress"],
    heartbeat_at: row.heartbeat_at as Date | null,
    last_error: row.last_error as string | null,
    record: row.r_key === null ? null : recordFromRow(row),
  }));
}

/** A `flops_fit.results` row as the `results.jsonl` record it mirrors. */
function recordFromRow(row: Record<string, unknown>): ResultRecord {
  return {
    key: row.r_key as string,
    budget_flops: row.budget_flops as number,
    size: row.size as number,
    N: row.N as number,
    D: row.D as number,
    C: row.C as number,
    loss: row.loss as number,
    ...(row.eval_loss === null ? {} : { eval_loss: row.eval_loss as number }),
    wall_s: row.wall_s as number,
    worker: row.r_worker as string,
    ...(row.backend === null ? {} : { backend: row.backend as string }),
    finished_at: (row.finished_at as Date).toISOString(),
    ...(row.result === null ? {} : { result: row.result as Record<string, unknown> }),
  };
}

/**
 * Insert a finished point's result (inside the transaction that completes its job).
 *
 * @param tx The transaction.
 * @param input Study, record, and the job attempt that produced it.
 * @returns Whether a row was written (`false`: the point was already recorded).
 */
export async function insertResult(
  tx: IDatabase,
  input: { study: string; record: ResultRecord; jobId: string; attempt: number },
): Promise<boolean> {
  const r = input.record;
  const { rows } = await tx.executeSql(
    `INSERT INTO flops_fit.results (study, key, budget_flops, size, "N", "D", "C", loss, eval_loss,
       wall_s, worker, backend, finished_at, result, job_id, attempt)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (study, key) DO NOTHING RETURNING key`,
    [
      input.study,
      r.key,
      r.budget_flops,
      r.size,
      r.N,
      r.D,
      r.C,
      r.loss,
      r.eval_loss ?? null,
      r.wall_s,
      r.worker,
      r.backend ?? null,
      r.finished_at,
      r.result === undefined ? null : JSON.stringify(r.result),
      input.jobId,
      input.attempt,
    ],
  );
  return rows.length === 1;
}

/**
 * A study's configuration and family, as the coordinator registered them.
 *
 * @param db The pool.
 * @param study Study id.
 * @returns The study, or `undefined` when no coordinator has registered it.
 */
export async function readStudy(
  db: IDatabase,
  study: string,
): Promise<{ config: SweepConfig; family: SweepFamily } | undefined> {
  const { rows } = await db.executeSql(
    "SELECT config, family FROM flops_fit.studies WHERE study = $1",
    [study],
  );
  return rows[0] === undefined ? undefined : { config: rows[0].config, family: rows[0].family };
}
