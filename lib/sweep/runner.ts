/**
 * Scheduling planned points over trainers (`trainer.ts`: in-process, the mock, or HTTP servers
 * speaking `POST /v1/train` through `http_trainer.ts`), with per-trainer concurrency, retries with
 * exponential back-off, a per-point timeout and fail-over when a worker dies.
 *
 * Every finished point is appended to the results log before the next is counted, so a sweep
 * killed at any moment loses at most the points in flight; points already in the log are skipped.
 * A point is handed to one worker at a time, and the log refuses duplicate keys, so every point
 * appears exactly once.
 *
 * @module
 */
import type { PlannedPoint } from "../plan/mod.ts";
import type { ResultRecord, ResultsLog } from "./results.ts";
import { PermanentError, type PointProgress, type Trainer } from "./trainer.ts";

/** What the runner reports as it goes. */
export type RunEvent =
  | { type: "start"; point: PlannedPoint; worker: string; attempt: number }
  | { type: "progress"; point: PlannedPoint; worker: string; progress: PointProgress }
  | { type: "done"; point: PlannedPoint; record: ResultRecord }
  | { type: "retry"; point: PlannedPoint; worker: string; error: string; delay_ms: number }
  | { type: "failed"; point: PlannedPoint; error: string }
  | { type: "worker_down"; worker: string; error: string; cooldown_ms: number };

/** Options of {@linkcode runPoints}. */
export interface RunOptions {
  /** Where points run. */
  trainers: readonly Trainer[];
  /** Where finished points go (and which are already finished). */
  log: ResultsLog;
  /** Attempts beyond the first. @default 3 */
  retries?: number;
  /** Per-point wall-clock limit, ms. @default 3,600,000 */
  timeoutMs?: number;
  /** First retry delay, doubled per attempt. @default 1000 */
  backoffMs?: number;
  /** Consecutive failures after which a worker is set aside for a cool-down. @default 2 */
  workerFailureLimit?: number;
  /** Called for every event. */
  onEvent?: (event: RunEvent) => void;
  /** Stops the run (points in flight are aborted and not recorded). */
  signal?: AbortSignal;
  /** Answers without a finite `eval_loss` fail their point (the sweep fits the held-out loss). */
  requireEvalLoss?: boolean;
  /** What the family's D counts (lets an answer give `tokens` / `images` instead of `samples`). */
  dataUnit?: "tokens" | "images" | "samples";
}

/** What {@linkcode runPoints} did. */
export interface RunSummary {
  /** Points that were already in the log. */
  skipped: number;
  /** Points trained and recorded now. */
  completed: number;
  /** Points given up, with the last error. */
  failed: { key: string; error: string }[];
}

/** Longest a dead worker is set aside before it is tried again, ms. */
const MAX_COOLDOWN_MS = 30_000;
/** How often an idle slot looks for work that became available (back-off ended), ms. */
const IDLE_POLL_MS = 25;

interface QueueItem {
  point: PlannedPoint;
  attempts: number;
  availableAt: number;
  lastWorker?: string;
}

interface WorkerState {
  worker: Trainer;
  failures: number;
  downUntil: number;
  cooldownMs: number;
}

/**
 * Train every point not yet in the log.
 *
 * @param points Planned points (their keys must be distinct).
 * @param options Workers, log, retry policy.
 * @returns Counts of skipped, completed and failed points.
 * @throws {RangeError} When there is no worker.
 */
export async function runPoints(
  points: readonly PlannedPoint[],
  options: RunOptions,
): Promise<RunSummary> {
  if (options.trainers.length === 0) throw new RangeError("runPoints needs at least one trainer.");
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 3_600_000;
  const backoffMs = options.backoffMs ?? 1000;
  const failureLimit = options.workerFailureLimit ?? 2;
  const emit = options.onEvent ?? (() => {});
  const summary: RunSummary = { skipped: 0, completed: 0, failed: [] };
  const queue: QueueItem[] = [];
  for (const point of points) {
    if (options.log.records.has(point.key)) summary.skipped++;
    else queue.push({ point, attempts: 0, availableAt: 0 });
  }
  let unfinished = queue.length;
  const states: WorkerState[] = options.trainers.map((worker) => ({
    worker,
    failures: 0,
    downUntil: 0,
    cooldownMs: backoffMs,
  }));
  const stopped = () => options.signal?.aborted === true;

  function take(state: WorkerState): QueueItem | undefined {
    const now = Date.now();
    const othersUp = states.some((s) => s !== state && s.downUntil <= now);
    // Prefer points this worker has not just failed, when another worker could take them.
    let index = queue.findIndex((q) =>
      q.availableAt <= now && !(othersUp && q.lastWorker === state.worker.name)
    );
    if (index < 0) index = queue.findIndex((q) => q.availableAt <= now);
    return index < 0 ? undefined : queue.splice(index, 1)[0];
  }

  async function slot(state: WorkerState): Promise<void> {
    while (unfinished > 0 && !stopped()) {
      if (state.downUntil > Date.now()) {
        await sleep(Math.min(state.downUntil - Date.now(), 250));
        continue;
      }
      const item = take(state);
      if (item === undefined) {
        await sleep(IDLE_POLL_MS);
        continue;
      }
      await attempt(state, item);
    }
  }

  async function attempt(state: WorkerState, item: QueueItem): Promise<void> {
    const { point } = item;
    const name = state.worker.name;
    item.attempts++;
    emit({ type: "start", point, worker: name, attempt: item.attempts });
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal === undefined
      ? timeout
      : AbortSignal.any([timeout, options.signal]);
    const started = performance.now();
    try {
      const result = await state.worker.train(point.request, {
        signal,
        onProgress: (progress) => emit({ type: "progress", point, worker: name, progress }),
      });
      if (stopped()) return;
      const record = toRecord(point, result, name, (performance.now() - started) / 1000, {
        ...(options.requireEvalLoss ? { requireEvalLoss: true } : {}),
        ...(options.dataUnit === undefined ? {} : { dataUnit: options.dataUnit }),
      });
      await options.log.append(record);
      state.failures = 0;
      state.cooldownMs = backoffMs;
      summary.completed++;
      unfinished--;
      emit({ type: "done", point, record });
    } catch (error) {
      if (stopped()) return;
      const message = timeout.aborted
        ? `timed out after ${timeoutMs / 1000} s on ${name}`
        : errorMessage(error);
      if (error instanceof PermanentError || item.attempts > retries) {
        summary.failed.push({ key: point.key, error: message });
        unfinished--;
        emit({ type: "failed", point, error: message });
        return;
      }
      if (!(error instanceof PermanentError)) {
        state.failures++;
        if (state.failures >= failureLimit) {
          state.downUntil = Date.now() + state.cooldownMs;
          emit({
            type: "worker_down",
            worker: name,
            error: message,
            cooldown_ms: state.cooldownMs,
          });
          state.cooldownMs = Math.min(state.cooldownMs * 2, MAX_COOLDOWN_MS);
        }
      }
      const delay = backoffMs * 2 ** (item.attempts - 1);
      item.availableAt = Date.now() + delay;
      item.lastWorker = name;
      queue.push(item);
      emit({ type: "retry", point, worker: name, error: message, delay_ms: delay });
    }
  }

  await Promise.all(
    states.flatMap((state) => Array.from({ length: state.worker.concurrency }, () => slot(state))),
  );
  return summary;
}

/** Options of {@linkcode toRecord}. */
export interface RecordOptions {
  /** The sweep fits the held-out loss: an answer without a finite `eval_loss` fails. */
  requireEvalLoss?: boolean;
  /** What D counts, so an answer with `tokens` (or `images`) but no `samples` still gives D. */
  dataUnit?: "tokens" | "images" | "samples";
}

/**
 * Turn a trainer's answer into a results record, by the train contract
 * (`docs/train_contract.md`): it needs a positive finite `loss` (and `eval_loss` when the sweep
 * fits on it), the `flops` spent, and `samples` — or, for a family whose D counts tokens
 * (images), `tokens` (`images`). D = samples × the plan's units per sample. `eval_loss`, `wall_s`
 * and `backend` are recorded when present, and the whole answer (minus its loss curve) is kept
 * as `result`. N is always the plan's parameter count.
 *
 * @param point The planned point.
 * @param result The trainer's answer.
 * @param worker Who trained it.
 * @param wallS Seconds the call took.
 * @param options Which loss is fitted, what D counts.
 * @returns The record.
 * @throws {PermanentError} Naming the needed field the answer lacks (a diverged run has no loss).
 */
export function toRecord(
  point: PlannedPoint,
  result: Record<string, unknown>,
  worker: string,
  wallS: number,
  options: RecordOptions = {},
): ResultRecord {
  const num = (name: string) => {
    const v = result[name];
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  };
  const lacks = (field: string, what: string) =>
    new PermanentError(
      `${worker}'s answer for ${point.key} lacks \`${field}\` (${what}), which the sweep needs ` +
        `(docs/train_contract.md).`,
    );
  const loss = num("loss");
  if (loss === undefined || !(loss > 0)) {
    if (result.diverged === true) {
      throw new PermanentError(`${worker}'s run of ${point.key} diverged: no finite loss.`);
    }
    throw lacks("loss", "the final training loss, a positive number");
  }
  const evalLoss = num("eval_loss");
  if (options.requireEvalLoss && (evalLoss === undefined || !(evalLoss > 0))) {
    throw lacks("eval_loss", 'the held-out loss the sweep fits on; or set fit_loss: "loss"');
  }
  const flops = num("flops");
  if (flops === undefined || !(flops > 0)) throw lacks("flops", "the training FLOPs spent");
  const unitsPerSample = point.data / point.samples;
  const samples = num("samples");
  const unitField = options.dataUnit === "tokens" || options.dataUnit === "images"
    ? options.dataUnit
    : undefined;
  const units = unitField === undefined ? undefined : num(unitField);
  const D = samples !== undefined && samples > 0
    ? samples * unitsPerSample
    : units !== undefined && units > 0
    ? units
    : undefined;
  if (D === undefined) {
    throw lacks(
      "samples",
      "the training samples seen" + (unitField === undefined ? "" : `, or \`${unitField}\``),
    );
  }
  const backendField = result.backend as { name?: unknown } | string | undefined;
  const backend = typeof backendField === "string"
    ? backendField
    : typeof backendField?.name === "string"
    ? backendField.name
    : undefined;
  const { curve: _curve, ...rest } = result;
  return {
    key: point.key,
    budget_flops: point.budget_flops,
    size: point.size,
    // N is the plan's count (the sweep's chosen convention, e.g. non-embedding), from the same
    // family table the trainer builds from; the trainer's own counts stay in `result`.
    N: point.params,
    D,
    C: flops,
    loss,
    ...(evalLoss === undefined ? {} : { eval_loss: evalLoss }),
    wall_s: num("wall_s") ?? wallS,
    worker,
    ...(backend === undefined ? {} : { backend }),
    finished_at: new Date().toISOString(),
    result: rest,
  };
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
