/**
 * The database side of the queue: one pg-boss instance per process (its `pg` pool serves our own
 * statements too), the `flops_fit` schema beside pg-boss's own, and transactions.
 *
 * Tables (several studies share one database; every row is keyed by its study):
 * - `flops_fit.studies`: the study's configuration and its planner family (what a worker needs to
 *   train a mocked point, and what `--status` describes);
 * - `flops_fit.points`: one row per planned point — its plan, the current job (`job_id`,
 *   `generation`), and the live state the worker heartbeats (`worker`, `attempt`, `progress`,
 *   `heartbeat_at`, `last_error`);
 * - `flops_fit.results`: one row per finished point, the same fields as `results.jsonl`, written
 *   in the transaction that completes the point's job.
 *
 * @module
 */
import { PgBoss } from "pg-boss";
import type { Db as IDatabase } from "pg-boss";
import { checkQueueUrl, redactText, redactUrl } from "./url.ts";
import { FlopsFitError } from "../errors.ts";

/** The pg-boss queue every study's points go on. */
export const QUEUE = "flops-fit-points";

/** A database that cannot be reached (or refuses us), named without credentials. */
export class QueueConnectionError extends FlopsFitError {
  /**
   * @param message What happened, naming the redacted URL.
   */
  constructor(message: string) {
    super(message, { status: 503 });
    this.name = "QueueConnectionError";
  }
}

/** Options of {@linkcode openQueue}. */
export interface OpenQueueOptions {
  /** `application_name` of the connections (`flops-fit worker`, …). */
  role: string;
  /** Run pg-boss's supervisor (lease expiry, retries) in this process. @default true */
  supervise?: boolean;
  /** Seconds between supervisor passes (how late a lapsed lease is noticed). @default 10 */
  superviseIntervalS?: number;
  /** Wake workers with LISTEN/NOTIFY when points are enqueued. @default false */
  listen?: boolean;
  /** Connection pool size. @default 10 */
  poolSize?: number;
  /** Where pg-boss's background errors are reported (already redacted). @default stderr */
  onError?: (message: string) => void;
}

/** An open queue: pg-boss, its pool, and the redacted name of the database. */
export interface OpenQueue {
  /** The started pg-boss instance. */
  boss: PgBoss;
  /** The pool, for our own statements. */
  db: IDatabase;
  /** The connection string without its password, for messages. */
  name: string;
  /** Redact the connection string's secrets from a message. */
  redact(text: string): string;
  /** Stop pg-boss (waiting up to `graceS` for handlers in flight) and close the pool. */
  close(graceS?: number): Promise<void>;
}

/**
 * Connect, install or migrate pg-boss's schema and ours, and create the points queue.
 *
 * @param url A `postgres://` connection string.
 * @param options Role and supervision.
 * @returns The open queue.
 * @throws {QueueUrlError} For a malformed connection string.
 * @throws {QueueConnectionError} When the database cannot be reached or refuses the login.
 */
export async function openQueue(url: string, options: OpenQueueOptions): Promise<OpenQueue> {
  checkQueueUrl(url);
  const name = redactUrl(url);
  const redact = (text: string) => redactText(text, url);
  const superviseS = Math.max(1, Math.round(options.superviseIntervalS ?? 10));
  const boss = new PgBoss({
    connectionString: url,
    application_name: options.role,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    supervise: options.supervise ?? true,
    superviseIntervalSeconds: superviseS,
    monitorIntervalSeconds: superviseS,
    schedule: false,
    useListenNotify: options.listen ?? false,
    instanceName: options.role,
    openTelemetry: { enabled: false },
  });
  const report = options.onError ?? ((message: string) => console.error(message));
  let lastError = "";
  let lastErrorAt = 0;
  boss.on("error", (error: unknown) => {
    // pg-boss reports every failed background statement; during an outage that is one per poll.
    const message = redact(errorText(error));
    const now = Date.now();
    if (message === lastError && now - lastErrorAt < 30_000) return;
    lastError = message;
    lastErrorAt = now;
    report(`queue: ${name}: ${message}`);
  });
  boss.on("warning", () => {});
  try {
    await boss.start();
  } catch (error) {
    await boss.stop({ graceful: false, close: true }).catch(() => {});
    throw new QueueConnectionError(
      `cannot use the database at ${name}: ${redact(errorText(error))}`,
    );
  }
  const db = boss.getDb();
  try {
    await ensureSchema(db);
    await boss.createQueue(QUEUE, { notify: true });
  } catch (error) {
    await boss.stop({ graceful: false, close: true }).catch(() => {});
    throw new QueueConnectionError(
      `cannot set up the queue in ${name}: ${redact(errorText(error))}`,
    );
  }
  return {
    boss,
    db,
    name,
    redact,
    async close(graceS = 0) {
      await boss.stop({ graceful: graceS > 0, timeout: Math.max(1, graceS) * 1000, close: true });
    },
  };
}

/** A key for `pg_advisory_xact_lock` that serialises our schema migrations. */
const SCHEMA_LOCK = 0x666c6f70; // "flop"

/** The `flops_fit` schema, created if absent (idempotent; serialised by an advisory lock). */
export const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS flops_fit;
CREATE TABLE IF NOT EXISTS flops_fit.studies (
  study text PRIMARY KEY,
  config jsonb NOT NULL,
  family jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS flops_fit.points (
  study text NOT NULL REFERENCES flops_fit.studies (study) ON DELETE CASCADE,
  key text NOT NULL,
  planned jsonb NOT NULL,
  generation integer NOT NULL DEFAULT 0,
  job_id uuid,
  worker text,
  attempt integer,
  progress jsonb,
  heartbeat_at timestamptz,
  last_error text,
  PRIMARY KEY (study, key)
);
CREATE TABLE IF NOT EXISTS flops_fit.results (
  study text NOT NULL,
  key text NOT NULL,
  budget_flops double precision NOT NULL,
  size double precision NOT NULL,
  "N" double precision NOT NULL,
  "D" double precision NOT NULL,
  "C" double precision NOT NULL,
  loss double precision NOT NULL,
  eval_loss double precision,
  wall_s double precision NOT NULL,
  worker text NOT NULL,
  backend text,
  finished_at timestamptz NOT NULL,
  result jsonb,
  job_id uuid NOT NULL,
  attempt integer NOT NULL,
  PRIMARY KEY (study, key),
  FOREIGN KEY (study, key) REFERENCES flops_fit.points (study, key) ON DELETE CASCADE
);
`;

/**
 * Create the `flops_fit` tables if they are missing.
 *
 * @param db A pool or transaction.
 */
export async function ensureSchema(db: IDatabase): Promise<void> {
  await inTransaction(db, async (tx) => {
    await tx.executeSql(`SELECT pg_advisory_xact_lock(${SCHEMA_LOCK})`);
    await tx.executeSql(SCHEMA_SQL);
  });
}

/**
 * Run `body` in a transaction on the pool: commit when it resolves, roll back when it throws.
 *
 * @param db The pool (pg-boss's `getDb()`).
 * @param body Statements to run; pass its `tx` as pg-boss's `db` option to join them.
 * @returns What `body` returned.
 */
export async function inTransaction<T>(
  db: IDatabase,
  body: (tx: IDatabase) => Promise<T>,
): Promise<T> {
  if (db.beginTransaction === undefined) throw new Error("This database cannot open transactions.");
  const handle = await db.beginTransaction();
  let value: T;
  try {
    value = await body(handle.db);
  } catch (error) {
    await handle.rollback();
    throw error;
  }
  await handle.commit();
  return value;
}

/**
 * The deterministic job id of a point's `generation`-th enqueueing: a UUID (version 8, RFC 9562)
 * from SHA-256 of study, key and generation, so enqueueing the same point twice collides.
 *
 * @param study Study id.
 * @param key Point key.
 * @param generation How many times the point has been enqueued before (0 the first time).
 * @returns The UUID.
 */
export async function jobId(study: string, key: string, generation: number): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(`${study}\u0000${key}\u0000${generation}`),
    ),
  ).slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/**
 * The message of anything thrown (an `Error`, a pg `DatabaseError`, an `AggregateError`).
 *
 * @param error What was thrown.
 * @returns Its message (or the messages of an aggregate's errors).
 */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(errorText))].join("; ");
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const message = error.message || String(code ?? error.name);
    return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  }
  return String(error);
}

/**
 * Wait `ms` milliseconds, or less when `signal` aborts (it resolves then, never rejects): the
 * pollers' and back-offs' wait, which a stopping worker or coordinator cuts short.
 *
 * @param ms Milliseconds.
 * @param signal Ends the wait early.
 * @returns When the time is up or the signal aborted.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
