/**
 * The training loop on the compiled WebGPU step (`lib/backend/webgpu/`): what `runPlan` runs
 * when the selected backend is `webgpu`. It behaves as the tfjs loop in `train.ts` — the same
 * plan, batches, schedule, micro-batching, clipping, progress and eval events, cancellation per
 * step, result fields — but each optimiser step is a fixed schedule of WGSL kernels recorded into
 * one command encoder per micro-batch, and the step's loss is read back a few steps late so the
 * GPU never waits for the host. The answer adds `dispatches_per_step` and `host_ms_per_step`.
 *
 * Initial weights are the tfjs model's own: `family.build(config, seed)` is built once and its
 * variables copied into the flat parameter buffer, in `model.variables` order.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendInfo } from "../backend/select.ts";
import {
  closeDevice,
  CompiledTrainer,
  type GpuContext,
  type ModelSpec,
  NoGpuError,
  openDevice,
  type StepStats,
  useDevice,
} from "../backend/webgpu/mod.ts";
import type { GptConfig, VitConfig } from "../../models/mod.ts";
import type { Batch } from "../../data/mod.ts";
import { evalBatches, nextBatch } from "./evaluate.ts";
import { TrainingError, TrainInputError } from "./errors.ts";
import type { TrainPlan } from "./run_plan.ts";
import type { TrainProgress, TrainRequest, TrainResult } from "./request.ts";
import { buildResult } from "./result.ts";
import { evalEvent, progressDue, progressEvent } from "./events.ts";
import { learningRate } from "./schedule.ts";
import { median } from "../stats.ts";

/** Optimiser steps the host may run ahead of the loss it has read. */
const READBACK_LAG = 3;

/** Held-out batches evaluated per submission group. */
const EVAL_CHUNK = 16;

/** What the loop needs from `TrainOptions` (structurally the same fields). */
export interface CompiledRunOptions {
  /** Aborting stops training after the current step. */
  signal?: AbortSignal;
  /** Called after steps and evaluations. */
  onProgress?: (event: TrainProgress) => void;
  /** Dataset cache directory. */
  dataDir?: string;
}

/**
 * The family and config as the compiled step knows them, or a 422 for a family it has no schedule
 * for (every registered family has one today; a new family must add its graph to
 * `lib/backend/webgpu/graph.ts`).
 * @param plan The run's plan.
 * @returns The model spec.
 * @throws {TrainInputError} On `family` when the compiled step has no schedule for it.
 */
export function compiledModelSpec(plan: TrainPlan): ModelSpec {
  const name = plan.family.name;
  if (name === "gpt") return { family: "gpt", config: plan.config as unknown as GptConfig };
  if (name === "vit") return { family: "vit", config: plan.config as unknown as VitConfig };
  throw new TrainInputError(
    "family",
    `The compiled WebGPU step has no schedule for family ${name}; use another backend.`,
  );
}

/**
 * Train one plan on the compiled WebGPU step.
 *
 * @param request The parsed request.
 * @param plan Its plan (dataset already prepared).
 * @param backend The selected backend (`webgpu`); a software adapter is accepted only when the
 *   backend was chosen explicitly (`FLOPS_FIT_BACKEND` or the `override` option).
 * @param options Signal, progress, data directory, and when training started.
 * @returns The run's result, with `dispatches_per_step` and `host_ms_per_step`.
 * @throws {TrainInputError} For an option the compiled step cannot honour (422).
 * @throws {TrainingError} When WebGPU fails.
 */
export async function runCompiledPlan(
  request: TrainRequest,
  plan: TrainPlan,
  backend: BackendInfo,
  options: CompiledRunOptions & { started: number },
): Promise<TrainResult> {
  const { signal, onProgress, started } = options;
  const spec = compiledModelSpec(plan);
  const microSteps = plan.batchSize / plan.microBatchSize;
  // The tfjs-webgpu backend's device when it is the active one, else a device of our own. One
  // device per training worker: with a second one, the server died of SIGSEGV when stopped after
  // a training in 11 of 45 shutdowns on lavapipe (destroying it, even waiting until it was lost,
  // did not help); sharing tfjs's, 0 of 16.
  const shared = tf.getBackend() === "webgpu"
    ? (tf.backend() as unknown as { device?: GPUDevice }).device
    : undefined;
  let gpu: GpuContext;
  try {
    gpu = shared !== undefined
      ? useDevice(shared, {
        description: backend.adapter?.description ?? "",
        vendor: backend.adapter?.vendor,
        software: backend.adapter?.fallback ?? false,
      })
      : await openDevice({ allowSoftware: backend.chosenBy !== "auto" });
  } catch (error) {
    if (error instanceof NoGpuError) {
      throw new TrainingError(`WebGPU is not available: ${error.message}`, { status: 503 });
    }
    throw error;
  }
  let trainer: CompiledTrainer | undefined;
  const batches = plan.dataset.batches({
    split: plan.split,
    batchSize: plan.microBatchSize,
    seed: request.seed,
    context: plan.context,
    augment: request.augment,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  try {
    const model = plan.family.build(plan.config, request.seed);
    // data(), not dataSync(): tfjs-webgpu reads back asynchronously only.
    const variables = await Promise.all(model.variables.map(async (v) => ({
      name: v.name,
      shape: v.variable.shape,
      decay: v.decay,
      values: Float32Array.from(await v.variable.data() as Float32Array),
    })));
    model.dispose();
    try {
      trainer = await CompiledTrainer.create({
        gpu,
        model: spec,
        variables,
        microBatch: plan.microBatchSize,
        microSteps,
        labelSmoothing: request.label_smoothing,
        optimizer: {
          beta1: request.beta1,
          beta2: request.beta2,
          eps: request.eps,
          weightDecay: request.weight_decay,
          clipNorm: request.grad_clip,
        },
        ring: READBACK_LAG + 1,
      });
    } catch (error) {
      if (error instanceof RangeError) {
        throw new TrainInputError(
          "micro_batch_size",
          `The compiled WebGPU step does not fit ${gpu.description}: ${error.message}; ` +
            "retry with a smaller micro_batch_size.",
        );
      }
      throw error;
    }
    const compiled = trainer;
    const progressEvery = request.progress_every ?? Math.max(1, Math.floor(plan.steps / 100));
    const losses = new Float64Array(plan.steps);
    const lrs = new Float64Array(plan.steps);
    const stepMs: number[] = [];
    const hostMs: number[] = [];
    const evals: TrainResult["evals"] = [];
    const pending: { step: number; lr: number; stats: Promise<StepStats> }[] = [];
    let diverged = false;
    let stepsDone = 0;
    let trainMs = 0;
    let lastDone = performance.now();

    /** Take the oldest submitted step's stats: its loss, progress event and divergence. */
    const settleOldest = async (): Promise<void> => {
      const next = pending.shift()!;
      const { loss, gradNorm } = await next.stats;
      if (diverged) return; // steps submitted after a diverged one are not reported
      const now = performance.now();
      const ms = now - lastDone;
      lastDone = now;
      stepMs.push(ms);
      trainMs += ms;
      losses[next.step] = loss;
      lrs[next.step] = next.lr;
      stepsDone = next.step + 1;
      if (!Number.isFinite(loss)) {
        diverged = true;
        return;
      }
      if (onProgress !== undefined && progressDue(stepsDone, progressEvery, plan.steps)) {
        onProgress(progressEvent({ plan, stepsDone, lr: next.lr, started }, { loss, gradNorm }));
      }
    };

    const every = request.eval.every_steps;
    for (let step = 0; step < plan.steps && !diverged; step++) {
      signal?.throwIfAborted();
      const lr = learningRate(step, plan.schedule);
      const micros: Batch[] = [];
      for (let k = 0; k < microSteps; k++) micros.push(await nextBatch(batches));
      const { stats } = await compiled.submitStep(micros, lr);
      hostMs.push(compiled.encodeMs + compiled.submitMs);
      pending.push({ step, lr, stats });
      const evalDue = every > 0 && (step + 1) % every === 0 && step + 1 < plan.steps;
      while (pending.length > (evalDue ? 0 : READBACK_LAG) && !diverged) await settleOldest();
      if (evalDue && !diverged) {
        const e = await evaluateCompiled(compiled, plan, request, options);
        lastDone = performance.now();
        evals.push({ step: stepsDone, ...e.point });
        onProgress?.(evalEvent({ plan, stepsDone, lr, started }, e.point));
      }
      await yieldToEventLoop();
    }
    while (pending.length > 0) await settleOldest();
    const final = diverged ? undefined : await evaluateCompiled(compiled, plan, request, options);
    if (final !== undefined) evals.push({ step: stepsDone, ...final.point });
    const result = buildResult({
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
    result.dispatches_per_step = compiled.dispatchesPerStep;
    result.host_ms_per_step = hostMs.length > 0 ? median(hostMs) : 0;
    return result;
  } catch (error) {
    if (
      error instanceof TrainInputError || error instanceof TrainingError ||
      (error instanceof DOMException && ["AbortError", "TimeoutError"].includes(error.name))
    ) {
      throw error;
    }
    throw new TrainingError(`Training failed on the compiled WebGPU step: ${String(error)}`, {
      cause: error,
    });
  } finally {
    await batches.return?.(undefined);
    try {
      await trainer?.drain();
    } catch {
      // A failed readback has nothing left to free.
    }
    trainer?.destroy();
    // A device of our own is closed; tfjs's stays with tfjs.
    if (shared === undefined) await closeDevice(gpu);
  }
}

/**
 * Held-out loss (and accuracy) over `eval.batches` batches, in micro-batches, as
 * `lib/train/evaluate.ts` but forward-only on the compiled graph.
 */
async function evaluateCompiled(
  trainer: CompiledTrainer,
  plan: TrainPlan,
  request: TrainRequest,
  options: CompiledRunOptions,
): Promise<{ point: { loss: number | null; accuracy?: number }; samples: number }> {
  const { batches, passes } = evalBatches(plan, request, options);
  let lossSum = 0;
  let accSum = 0;
  let hasAccuracy = false;
  let samples = 0;
  try {
    for (let i = 0; i < passes; i += EVAL_CHUNK) {
      options.signal?.throwIfAborted();
      const chunk: Batch[] = [];
      for (let k = i; k < Math.min(passes, i + EVAL_CHUNK); k++) {
        chunk.push(await nextBatch(batches));
      }
      const e = await trainer.evaluate(chunk);
      lossSum += e.loss * e.samples;
      if (e.accuracy !== undefined) {
        hasAccuracy = true;
        accSum += e.accuracy * e.samples;
      }
      samples += e.samples;
    }
  } finally {
    await batches.return?.(undefined);
  }
  const loss = lossSum / samples;
  return {
    point: {
      loss: Number.isFinite(loss) ? loss : null,
      ...(hasAccuracy ? { accuracy: accSum / samples } : {}),
    },
    samples,
  };
}

/** Wait for a macrotask: lets the server notice a gone client and flush streamed events. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
