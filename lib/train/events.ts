/**
 * The progress and eval events a training emits, built one way for every training loop (the
 * tfjs loop in `train.ts`, the compiled WebGPU loop in `train_compiled.ts`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { TrainPlan } from "./run_plan.ts";
import type { TrainProgress } from "./request.ts";

/** Where a run stands when it reports. */
export interface RunPosition {
  /** The run's plan (steps, batch size, FLOPs per sample). */
  plan: Pick<TrainPlan, "steps" | "batchSize" | "flopsPerSample">;
  /** Optimiser steps done. */
  stepsDone: number;
  /** Learning rate of the last step. */
  lr: number;
  /** `performance.now()` when the run started. */
  started: number;
}

/**
 * Whether step `stepsDone` reports progress: every `every` steps, and the last.
 *
 * @param stepsDone Optimiser steps done.
 * @param every Report period in steps.
 * @param steps Steps in the run.
 * @returns True when a progress event is due.
 *
 * @example
 * ```ts
 * import { progressDue } from "./events.ts";
 * if (!progressDue(10, 5, 12) || progressDue(11, 5, 12) || !progressDue(12, 5, 12)) throw new Error();
 * ```
 */
export function progressDue(stepsDone: number, every: number, steps: number): boolean {
  return stepsDone % every === 0 || stepsDone === steps;
}

/**
 * An event in the wire order: type, step, steps, samples, flops (= samples · FLOPs per sample),
 * loss, accuracy, lr, grad_norm, elapsed_s, num_tensors.
 */
function event(
  type: TrainProgress["type"],
  at: RunPosition,
  values: Pick<TrainProgress, "loss" | "accuracy" | "grad_norm">,
): TrainProgress {
  const samples = at.stepsDone * at.plan.batchSize;
  return {
    type,
    step: at.stepsDone,
    steps: at.plan.steps,
    samples,
    flops: samples * at.plan.flopsPerSample,
    loss: values.loss,
    ...(values.accuracy === undefined ? {} : { accuracy: values.accuracy }),
    lr: at.lr,
    ...(values.grad_norm === undefined ? {} : { grad_norm: values.grad_norm }),
    elapsed_s: (performance.now() - at.started) / 1000,
    num_tensors: tf.memory().numTensors,
  };
}

/**
 * A `progress` event after a step.
 *
 * @param at Where the run stands.
 * @param values The step's training loss and global gradient norm (before clipping).
 * @returns The event.
 */
export function progressEvent(
  at: RunPosition,
  values: { loss: number; gradNorm: number },
): TrainProgress {
  return event("progress", at, { loss: values.loss, grad_norm: values.gradNorm });
}

/**
 * An `eval` event after a held-out evaluation.
 *
 * @param at Where the run stands.
 * @param point The held-out loss (and accuracy, for classifiers).
 * @returns The event.
 */
export function evalEvent(
  at: RunPosition,
  point: { loss: number | null; accuracy?: number },
): TrainProgress {
  return event("eval", at, point);
}
