/**
 * Running planned points: in-process, or across a pool of HTTP workers speaking `POST /v1/train`
 * (flops-fit's or any other server's), with per-worker concurrency, retries with exponential
 * back-off, a per-point timeout and fail-over when a worker dies.
 *
 * Every finished point is appended to the results log before the next is counted, so a sweep
 * killed at any moment loses at most the points in flight; points already in the log are skipped.
 * A point is handed to one worker at a time, and the log refuses duplicate keys, so every point
 * appears exactly once.
 *
 * @module
 */
import type { PlannedPoint, TrainRequest } from "../plan/plan.ts";
import type { ResultRecord, ResultsLog } from "./results.ts";

/** Progress reported while a point trains. */
export interface TrainProgress {
  /** Optimiser step done. */
  step?: number;
  /** Steps the run will take. */
  steps?: number;
  /** Latest (smoothed) training loss. */
  loss?: number;
}

/** Options every trainer receives. */
export interface TrainCallOptions {
  /** Aborted on timeout or when the sweep stops. */
  signal: AbortSignal;
  /** Called as training advances. */
  onProgress?: (progress: TrainProgress) => void;
}

/** Anything that trains one point: `trainPoint`, an HTTP worker, the mock. */
export type TrainFn = (
  request: TrainRequest,
  options: TrainCallOptions,
) => Promise<Record<string, unknown>>;

/** A place points can run. */
export interface Worker {
  /** Shown in progress and stored in the results (`in-process`, `mock`, a URL). */
  name: string;
  /** Points in flight at once. */
  concurrency: number;
  /** Trains one point. */
  train: TrainFn;
}

/** An error that retrying cannot fix (the request itself is wrong): a 4xx other than 408/429. */
export class PermanentError extends Error {
  /** HTTP status, when the error came from one. */
  readonly status?: number;
  /**
   * @param message What went wrong.
   * @param status HTTP status, when there is one.
   */
  constructor(message: string, status?: number) {
    super(message);
    this.name = "PermanentError";
    if (status !== undefined) this.status = status;
  }
}

/** What the runner reports as it goes. */
export type RunEvent =
  | { type: "start"; point: PlannedPoint; worker: string; attempt: number }
  | { type: "progress"; point: PlannedPoint; worker: string; progress: TrainProgress }
  | { type: "done"; point: PlannedPoint; record: ResultRecord }
  | { type: "retry"; point: PlannedPoint; worker: string; error: string; delay_ms: number }
  | { type: "failed"; point: PlannedPoint; error: string }
  | { type: "worker_down"; worker: string; error: string; cooldown_ms: number };

/** Options of {@linkcode runPoints}. */
export interface RunOptions {
  /** Where points run. */
  workers: readonly Worker[];
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
  worker: Worker;
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
  if (options.workers.length === 0) throw new RangeError("runPoints needs at least one worker.");
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
  const states: WorkerState[] = options.workers.map((worker) => ({
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
      const record = toRecord(point, result, name, (performance.now() - started) / 1000);
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

/**
 * Turn a trainer's response into a results record. Field names follow `POST /v1/train`
 * (`flops`, `tokens` or `samples`, `loss`, `eval_loss`, `backend`); anything missing falls back
 * to the plan. N is always the plan's parameter count.
 *
 * @param point The planned point.
 * @param result The trainer's response.
 * @param worker Who trained it.
 * @param wallS Seconds the call took.
 * @returns The record.
 * @throws {PermanentError} When the response holds no finite loss (e.g. a diverged run).
 */
export function toRecord(
  point: PlannedPoint,
  result: Record<string, unknown>,
  worker: string,
  wallS: number,
): ResultRecord {
  const num = (...names: string[]) => {
    for (const name of names) {
      const v = result[name];
      if (typeof v === "number" && Number.isFinite(v)) return v;
    }
    return undefined;
  };
  const loss = num("loss", "final_loss", "train_loss") ?? num("eval_loss");
  if (loss === undefined || !(loss > 0)) {
    throw new PermanentError(
      `The trainer's response for ${point.key} holds no positive finite loss` +
        (result.diverged === true ? " (the run diverged)." : "."),
    );
  }
  const unitsPerSample = point.data / point.samples;
  const samples = num("samples", "samples_seen");
  const D = num("tokens", "tokens_seen", "images", "images_seen") ??
    (samples === undefined ? point.data : samples * unitsPerSample);
  const evalLoss = num("eval_loss");
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
    // N is the plan's count (the sweep's chosen convention, e.g. non-embedding), computed from
    // the same family registry the trainer builds from; the trainer's own counts stay in `result`.
    N: point.params,
    D,
    C: num("flops", "flops_spent") ?? point.flops,
    loss,
    ...(evalLoss === undefined ? {} : { eval_loss: evalLoss }),
    wall_s: num("wall_s", "wall_time_s") ?? wallS,
    worker,
    ...(backend === undefined ? {} : { backend }),
    finished_at: new Date().toISOString(),
    result: rest,
  };
}

/**
 * A worker that trains over HTTP: `POST {url}/v1/train` with the point's request as the body.
 * It asks for an NDJSON progress stream and also accepts a plain JSON answer, so any server
 * speaking the endpoint works. 4xx answers (other than 408/429) are permanent failures.
 *
 * @param url The worker's base URL, e.g. `http://10.0.0.7:8000`.
 * @param options.concurrency Points in flight on this worker. @default 1
 * @param options.token Bearer token to send, when the worker requires one.
 * @returns The worker.
 */
export function httpWorker(
  url: string,
  options: { concurrency?: number; token?: string } = {},
): Worker {
  const endpoint = new URL("v1/train", url.endsWith("/") ? url : `${url}/`).href;
  return {
    name: url,
    concurrency: options.concurrency ?? 1,
    async train(request, { signal, onProgress }) {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "application/x-ndjson, application/json;q=0.9",
      };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const response = await fetch(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify(request),
        signal,
      });
      const type = response.headers.get("content-type") ?? "";
      if (!response.ok) {
        const text = await response.text().catch(() => "");
        let detail = text.slice(0, 500);
        try {
          const problem = JSON.parse(text);
          if (typeof problem.detail === "string") detail = problem.detail;
        } catch {
          // not JSON: keep the text
        }
        const message = `${url} answered ${response.status}: ${detail}`;
        const retryable = response.status >= 500 || response.status === 408 ||
          response.status === 429;
        throw retryable ? new Error(message) : new PermanentError(message, response.status);
      }
      if (!/ndjson|event-stream/.test(type)) return await response.json();
      return await readStream(response, url, onProgress);
    },
  };
}

/** Read an NDJSON (or SSE `data:`) stream of progress events ending with the result. */
async function readStream(
  response: Response,
  url: string,
  onProgress?: (progress: TrainProgress) => void,
): Promise<Record<string, unknown>> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let result: Record<string, unknown> | undefined;
  const handle = (raw: string) => {
    const line = raw.startsWith("data:") ? raw.slice(5).trim() : raw.trim();
    if (line === "" || line.startsWith(":") || line.startsWith("event:")) return;
    const event = JSON.parse(line) as Record<string, unknown>;
    const kind = event.type ?? event.event;
    if (kind === "error" || (typeof event.status === "number" && event.status >= 400)) {
      const detail = String(event.detail ?? event.message ?? event.error ?? "training failed");
      const status = typeof event.status === "number" ? event.status : undefined;
      const message = `${url} reported${status === undefined ? "" : ` ${status}`}: ${detail}`;
      // A refusal of the request itself (4xx other than 408/429) will not change on retry.
      if (
        status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429
      ) {
        throw new PermanentError(message, status);
      }
      throw new Error(message);
    }
    if (kind === "result" || kind === "done") {
      const inner = event.result ?? event.data;
      result = (typeof inner === "object" && inner !== null ? inner : event) as Record<
        string,
        unknown
      >;
    } else if (kind === "progress" || kind === "step") {
      onProgress?.({
        ...(typeof event.step === "number" ? { step: event.step } : {}),
        ...(typeof event.steps === "number" ? { steps: event.steps } : {}),
        ...(typeof event.loss === "number" ? { loss: event.loss } : {}),
      });
    } else if (typeof event.loss === "number" && "params" in event) {
      result = event;
    }
  };
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      handle(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer.trim() !== "") handle(buffer);
  if (result === undefined) throw new Error(`${url} closed the stream without a result.`);
  return result;
}

/**
 * Parse `--workers`: comma-separated base URLs.
 *
 * @param list e.g. `http://a:8000,http://b:8000`.
 * @returns The URLs, trimmed.
 * @throws {TypeError} For anything that is not an http(s) URL.
 */
export function parseWorkerList(list: string): string[] {
  return list.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    let parsed: URL;
    try {
      parsed = new URL(s);
    } catch {
      throw new TypeError(`--workers: "${s}" is not a URL.`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`--workers: "${s}" is not an http(s) URL.`);
    }
    return s;
  });
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
