/**
 * `trainPoint`: train one sweep point (one model size on one budget) and report what it cost and
 * what loss it reached. `runTraining` is the same without the in-process queue and `timeout_s`:
 * what a training worker runs, whose pool owns every deadline.
 *
 * The loop, per optimiser step: for each micro-batch, forward + backward with
 * `tf.variableGrads`, summing gradients; then one AdamW update with the scheduled learning rate,
 * gradients averaged over micro-batches and clipped by global norm; then progress, optional
 * held-out evaluation, and a yield to the event loop so that cancellation and streaming work.
 * Every tensor a step creates is disposed within the step.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type BackendInfo,
  ensureBackend,
  resetBackend,
  type SelectOptions,
} from "../backend/select.ts";
import { AdamW } from "./adamw.ts";
import { float32Pool } from "../backend/blas/mod.ts";
import {
  type DatasetResolver,
  type PlanData,
  planTraining,
  resolvePlan,
  type TrainPlan,
} from "./run_plan.ts";
import { explainFailure, TrainingError } from "./errors.ts";
import { evaluate, nextBatch } from "./evaluate.ts";
import { buildResult } from "./result.ts";
import type { TrainProgress, TrainRequest, TrainResult } from "./request.ts";
import { learningRate } from "./schedule.ts";
import { evalEvent, progressDue, progressEvent } from "./events.ts";
import { defaultDatasetResolver } from "./datasets.ts";
import { runCompiledPlan } from "./train_compiled.ts";

/** Options of {@linkcode trainPoint}. */
export interface TrainOptions {
  /** Aborting stops training after the current step, frees its memory and rejects. */
  signal?: AbortSignal;
  /** Called after steps and evaluations. */
  onProgress?: (event: TrainProgress) => void;
  /** Dataset lookup; defaults to the dataset registry. */
  resolveDataset?: DatasetResolver;
  /**
   * A plan made beforehand (on the request thread, by {@linkcode planTraining}): trained as it
   * is, not planned again.
   */
  plan?: PlanData;
  /** Backend selection (first use only). */
  backend?: SelectOptions;
  /** Dataset cache directory; defaults to the registry's (`FLOPS_FIT_DATA_DIR` or the user cache). */
  dataDir?: string;
}

/** Runs train one at a time: they share tfjs's engine, and timings must not interleave. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Select the backend and check a request without training: the plan for this backend.
 *
 * @param request Parsed request.
 * @param options Dataset lookup, backend selection.
 * @returns The plan and the backend.
 * @throws {TrainInputError} naming the offending field.
 */
export async function prepareTraining(
  request: TrainRequest,
  options: TrainOptions = {},
): Promise<{ plan: TrainPlan; backend: BackendInfo }> {
  const backend = await ensureBackend(options.backend);
  const resolveDataset = options.resolveDataset ?? defaultDatasetResolver;
  if (options.plan !== undefined) {
    const plan = resolvePlan(options.plan, resolveDataset);
    checkPlanFits(plan, backend);
    return { plan, backend };
  }
  const plan = planTraining(request, {
    resolveDataset,
    activationBudgetBytes: backend.activationBudgetBytes,
    backendName: backend.name,
  });
  return { plan, backend };
}

/**
 * A plan made for another backend's memory must still fit this one's: the micro-batch's
 * activations (micro · bytes per sample) within this backend's budget.
 */
function checkPlanFits(plan: TrainPlan, backend: BackendInfo): void {
  if (backend.activationBudgetBytes >= plan.activationBudgetBytes) return;
  const bytes = plan.microBatchSize * plan.family.activationBytesPerSample(plan.config);
  if (bytes <= backend.activationBudgetBytes) return;
  throw new TrainingError(
    `The run was planned for ${(plan.activationBudgetBytes / 1e9).toFixed(2)} GB of ` +
      `activations but trains on ${backend.name} (${
        (backend.activationBudgetBytes / 1e9).toFixed(2)
      } GB); retry with a smaller micro_batch_size.`,
    { status: 503 },
  );
}

/**
 * Train one point now — its plan (`options.plan`, or planned here), on this thread's backend —
 * with no queue and no deadline of its own: the caller owns them (a training worker's pool stops
 * the worker at `timeout_s` or its wall limit).
 *
 * @param request The parsed request.
 * @param options Cancellation, progress, the plan, dataset lookup, backend selection.
 * @returns The run's result.
 * @throws {TrainInputError} for a request that cannot run (before any training).
 * @throws {TrainingError} when the backend fails mid-run.
 */
export async function runTraining(
  request: TrainRequest,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const { plan, backend } = await prepareTraining(request, options);
  return await runPlan(request, plan, backend, options);
}

/**
 * Train one sweep point.
 *
 * @param request The parsed `POST /v1/train` body.
 * @param options Cancellation, progress callback, dataset lookup.
 * @returns Parameters, FLOPs, losses, curve, throughput and backend of the run.
 * @throws {TrainInputError} for a request that cannot run (before any training).
 * @throws {DOMException} `AbortError` when `signal` aborts, `TimeoutError` past `timeout_s`.
 * @throws {TrainingError} when the backend fails mid-run.
 *
 * @example
 * ```ts ignore
 * import { trainPoint } from "./train.ts";
 * const result = await trainPoint(request, { onProgress: (e) => console.log(e.step, e.loss) });
 * console.log(result.loss, result.eval_loss);
 * ```
 */
export function trainPoint(
  request: TrainRequest,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const previous = queue;
  const signals = [
    ...(options.signal === undefined ? [] : [options.signal]),
    ...(request.timeout_s === undefined ? [] : [AbortSignal.timeout(request.timeout_s * 1000)]),
  ];
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const runOptions = { ...options, signal };
  const run = (async () => {
    await untilDoneOrAborted(previous, signal);
    return await runTraining(request, runOptions);
  })();
  // The next run starts once this one has settled and the one before it has finished: a request
  // cancelled while queued leaves at once without letting the next jump ahead of a running one.
  queue = Promise.all([previous, run.catch(() => undefined)]);
  return run;
}

/** Wait for `previous`, or reject with the abort reason as soon as `signal` aborts. */
function untilDoneOrAborted(previous: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  if (signal === undefined) return previous.then(() => undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    previous.then(() => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    });
  });
}

/** Wait for a macrotask: lets the server notice a gone client and flush streamed events. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Sum `grads` into `acc` (disposing the addends), or adopt them on the first micro-batch. */
function accumulate(acc: tf.Tensor[] | undefined, grads: tf.Tensor[]): tf.Tensor[] {
  if (acc === undefined) return grads;
  const summed = acc.map((a, i) => tf.add(a, grads[i]!));
  tf.dispose([...acc, ...grads]);
  return summed;
}

async function runPlan(
  request: TrainRequest,
  plan: TrainPlan,
  backend: BackendInfo,
  options: TrainOptions,
): Promise<TrainResult> {
  const { signal, onProgress } = options;
  const started = performance.now();
  try {
    // A no-op when the data is already local; otherwise download and verify it now.
    await plan.dataset.prepare({
      signal,
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && ["AbortError", "TimeoutError"].includes(error.name)) {
      throw error;
    }
    throw new TrainingError(
      `Dataset ${plan.dataset.info.name} is not available: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error, status: 503 },
    );
  }
  // On WebGPU the step is compiled once into WGSL kernels (lib/backend/webgpu/), not run op by op.
  if (backend.name === "webgpu") {
    return await runCompiledPlan(request, plan, backend, { ...options, started });
  }
  const microSteps = plan.batchSize / plan.microBatchSize;
  const progressEvery = request.progress_every ?? Math.max(1, Math.floor(plan.steps / 100));
  const model = plan.family.build(plan.config, request.seed);
  const vars = model.variables.map((v) => v.variable);
  const optimizer = new AdamW(model.variables, {
    beta1: request.beta1,
    beta2: request.beta2,
    eps: request.eps,
    weightDecay: request.weight_decay,
  });
  const batches = plan.dataset.batches({
    split: plan.split,
    batchSize: plan.microBatchSize,
    seed: request.seed,
    context: plan.context,
    augment: request.augment,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const losses = new Float64Array(plan.steps);
  const lrs = new Float64Array(plan.steps);
  const stepMs: number[] = [];
  const evals: TrainResult["evals"] = [];
  let diverged = false;
  let stepsDone = 0;
  let trainMs = 0;
  try {
    for (let step = 0; step < plan.steps; step++) {
      signal?.throwIfAborted();
      const stepStart = performance.now();
      const lr = learningRate(step, plan.schedule);
      let acc: tf.Tensor[] | undefined;
      let lossSum = tf.scalar(0);
      for (let micro = 0; micro < microSteps; micro++) {
        const batch = await nextBatch(batches);
        const { value, grads } = tf.variableGrads(
          () => model.loss(batch, { labelSmoothing: request.label_smoothing }),
          vars,
        );
        acc = accumulate(acc, vars.map((v) => grads[v.name]!));
        const summed = tf.add(lossSum, value);
        tf.dispose([lossSum, value]);
        lossSum = summed as tf.Scalar;
      }
      const norm = optimizer.step(acc!, {
        lr,
        gradScale: 1 / microSteps,
        clipNorm: request.grad_clip,
      });
      const [lossValue, normValue] = await Promise.all([lossSum.data(), norm.data()]);
      tf.dispose([lossSum, norm]);
      const loss = lossValue[0]! / microSteps;
      losses[step] = loss;
      lrs[step] = lr;
      stepsDone = step + 1;
      const ms = performance.now() - stepStart;
      stepMs.push(ms);
      trainMs += ms;
      if (!Number.isFinite(loss)) {
        diverged = true;
        break;
      }
      const at = { plan, stepsDone, lr, started };
      if (onProgress !== undefined && progressDue(stepsDone, progressEvery, plan.steps)) {
        onProgress(progressEvent(at, { loss, gradNorm: normValue[0]! }));
      }
      const every = request.eval.every_steps;
      if (every > 0 && stepsDone % every === 0 && stepsDone < plan.steps) {
        const e = await evaluate(model, plan, request, options);
        evals.push({ step: stepsDone, ...e.point });
        onProgress?.(evalEvent(at, e.point));
      }
      await yieldToEventLoop();
    }
    const final = diverged ? undefined : await evaluate(model, plan, request, options);
    if (final !== undefined) evals.push({ step: stepsDone, ...final.point });
    return buildResult({
      request,
      plan,
      backend,
      losses: losses.subarray(0, stepsDone),
      lrs: lrs.subarray(0, stepsDone),
      stepMs,
      trainMs,
      wallMs: performance.now() - started,
      evals,
      evalSamples: final?.samples ?? 0,
      diverged,
    });
  } catch (error) {
    const explained = explainFailure(error, backend, plan);
    if (explained instanceof TrainingError && explained.crashed) {
      // The backend instance is dead (wasm abort): drop it and start a fresh one, so the
      // service keeps training the next request.
      await resetBackend();
    }
    throw explained;
  } finally {
    await batches.return?.(undefined);
    try {
      model.dispose();
      optimizer.dispose();
    } catch {
      // After a backend crash its tensors cannot be freed one by one; resetBackend() dropped them.
    }
    // Buffers kept for this model's shapes would only hold memory the next training cannot use.
    float32Pool.clear();
  }
}
