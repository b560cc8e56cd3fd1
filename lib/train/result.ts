/**
 * The result of one run: the final loss over a window of the last steps, the binned loss curve,
 * throughput and the backend it ran on.
 *
 * @module
 */
import type { BackendInfo } from "../backend/select.ts";
import { median } from "../stats.ts";
import type { TrainPlan } from "./run_plan.ts";
import type { TrainRequest, TrainResult } from "./request.ts";

/** Steps averaged into the reported final train loss: at most this many… */
const LOSS_WINDOW_MAX_STEPS = 20;
/** …and at most this fraction of the run, so short runs are not averaged over their start. */
const LOSS_WINDOW_FRACTION = 0.1;

/** What one run measured, as {@linkcode buildResult} needs it. */
export interface ReportInput {
  request: TrainRequest;
  plan: TrainPlan;
  backend: BackendInfo;
  losses: Float64Array;
  lrs: Float64Array;
  stepMs: number[];
  trainMs: number;
  wallMs: number;
  evals: TrainResult["evals"];
  evalSamples: number;
  diverged: boolean;
}

/**
 * Assemble the result of one run: the final train loss is the mean of the last
 * w = max(1, min(20, ⌈steps/10⌉)) steps' losses; FLOPs = steps · batch · flops_per_sample.
 *
 * @param input The plan, the per-step losses and learning rates, timings and evaluations.
 * @returns The `POST /v1/train` answer.
 */
export function buildResult(input: ReportInput): TrainResult {
  const { request, plan, backend, losses, lrs } = input;
  const steps = losses.length;
  const samples = steps * plan.batchSize;
  const flops = samples * plan.flopsPerSample;
  const window = Math.max(
    1,
    Math.min(LOSS_WINDOW_MAX_STEPS, Math.ceil(steps * LOSS_WINDOW_FRACTION), steps),
  );
  let tail = 0;
  for (let i = steps - window; i < steps; i++) tail += losses[i]!;
  const finalLoss = tail / window;
  const last = input.evals.at(-1);
  const trainS = input.trainMs / 1000;
  const result: TrainResult = {
    family: plan.family.name,
    config: plan.config,
    dataset: { name: plan.dataset.info.name, split: plan.split, eval_split: plan.evalSplit },
    seed: request.seed,
    params: plan.params.total,
    non_embedding_params: plan.params.nonEmbedding,
    flops_per_sample: plan.flopsPerSample,
    flops_per_sample_6n: plan.flopsPerSample6n,
    tokens_per_sample: plan.tokensPerSample,
    budget: plan.budget,
    steps,
    batch_size: plan.batchSize,
    micro_batch_size: plan.microBatchSize,
    samples,
    tokens: samples * plan.tokensPerSample,
    flops,
    lr: {
      peak: plan.schedule.peak,
      min: plan.schedule.min,
      warmup_steps: plan.schedule.warmupSteps,
    },
    loss: Number.isFinite(finalLoss) ? finalLoss : null,
    loss_window_steps: window,
    diverged: input.diverged,
    eval_loss: last?.loss ?? null,
    eval_samples: input.evalSamples,
    curve: curve(losses, lrs, plan, request.curve_points),
    evals: input.evals,
    wall_s: input.wallMs / 1000,
    train_s: trainS,
    step_ms_median: steps > 0 ? median(input.stepMs) : 0,
    samples_per_s: trainS > 0 ? samples / trainS : 0,
    tokens_per_s: trainS > 0 ? (samples * plan.tokensPerSample) / trainS : 0,
    model_flops_per_s: trainS > 0 ? flops / trainS : 0,
    backend: {
      name: backend.name,
      kind: backend.kind,
      description: backend.description,
      ...(backend.adapter === undefined ? {} : { adapter: backend.adapter }),
    },
  };
  if (last?.accuracy !== undefined) result.eval_accuracy = last.accuracy;
  return result;
}

/**
 * The loss curve: every step when the run has at most `points` steps, else the steps averaged in
 * `ceil(steps / points)`-step bins, each point at its bin's last step.
 */
function curve(
  losses: Float64Array,
  lrs: Float64Array,
  plan: TrainPlan,
  points: number,
): TrainResult["curve"] {
  const bin = Math.max(1, Math.ceil(losses.length / points));
  const out: TrainResult["curve"] = [];
  for (let start = 0; start < losses.length; start += bin) {
    const end = Math.min(losses.length, start + bin);
    let sum = 0;
    for (let i = start; i < end; i++) sum += losses[i]!;
    const mean = sum / (end - start);
    const samples = end * plan.batchSize;
    out.push({
      step: end,
      samples,
      flops: samples * plan.flopsPerSample,
      loss: Number.isFinite(mean) ? mean : null,
      lr: lrs[end - 1]!,
    });
  }
  return out;
}
