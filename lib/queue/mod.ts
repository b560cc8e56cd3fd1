/**
 * Sweeps on a Postgres job queue (pg-boss): a coordinator that enqueues a study's points and
 * watches (`deno task sweep --queue`), workers that pull and train them (`deno task worker`), and
 * the tables results land in. See docs/queue.md.
 *
 * @example
 * ```ts ignore
 * import { startQueueWorker } from "./mod.ts";
 * const worker = await startQueueWorker({ url: "postgres://flops@127.0.0.1/flops", concurrency: 2 });
 * // … later
 * await worker.stop(30);
 * ```
 *
 * @module
 */
export {
  formatStatus,
  jobPolicy,
  printQueueStatus,
  type QueuedSweepOptions,
  runQueuedSweep,
  studyId,
  syncResults,
} from "./coordinator.ts";
export {
  ensureSchema,
  errorText,
  inTransaction,
  jobId,
  type OpenQueue,
  openQueue,
  type OpenQueueOptions,
  QUEUE,
  QueueConnectionError,
  SCHEMA_SQL,
} from "./db.ts";
export {
  attachStudy,
  type AttachSummary,
  insertResult,
  type JobPolicy,
  type PointJob,
  type PointRow,
  readPoints,
  readStudy,
  studyJobs,
} from "./store.ts";
export { checkQueueUrl, QueueUrlError, redactText, redactUrl } from "./url.ts";
export {
  isConnectionError,
  type QueueWorker,
  type QueueWorkerOptions,
  recordResult,
  recordWithRetry,
  startQueueWorker,
} from "./worker.ts";
export {
  QUEUE_USAGE,
  queuedSweepMain,
  splitQueueArgs,
  type SweepCli,
  wantsQueue,
} from "./sweep_cli.ts";
export { parseWorkerArgs, WORKER_USAGE, type WorkerArgs } from "./worker_cli.ts";
