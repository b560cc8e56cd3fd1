/**
 * Held-out evaluation of a model during and after training.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch, Dataset } from "../../data/mod.ts";
import type { Model } from "../../models/mod.ts";
import { TrainingError } from "./errors.ts";
import type { TrainPlan } from "./run_plan.ts";
import type { TrainRequest } from "./request.ts";

/**
 * The next batch of an endless iterator.
 *
 * @param batches The dataset's batches.
 * @returns The next batch.
 * @throws {TrainingError} When the iterator ends.
 */
export async function nextBatch(batches: AsyncIterableIterator<Batch>): Promise<Batch> {
  const next = await batches.next();
  if (next.done) throw new TrainingError("The dataset stopped yielding batches.");
  return next.value;
}

/** The held-out batches of one evaluation: a fresh stream and how many passes to read. */
export interface EvalBatches {
  /**
   * The eval split's batches from `eval.seed` (the same samples at every evaluation), each the
   * training micro-batch at most.
   */
  batches: AsyncIterableIterator<Batch>;
  /** Passes that cover `eval.batches` × the eval batch size. */
  passes: number;
}

/**
 * The batches one evaluation reads: `eval.batches` × the eval batch size samples of the eval
 * split, in passes of the training micro-batch (so evaluation fits the memory training does).
 *
 * @param plan The run's plan (eval split, batch sizes, context).
 * @param request The request (eval batches and seed).
 * @param options Data directory.
 * @returns The stream and the number of passes.
 */
export function evalBatches(
  plan: TrainPlan,
  request: TrainRequest,
  options: { dataDir?: string },
): EvalBatches {
  const micro = Math.min(plan.microBatchSize, plan.evalBatchSize);
  const passes = Math.ceil((request.eval.batches * plan.evalBatchSize) / micro);
  const batches = (plan.dataset as Dataset).batches({
    split: plan.evalSplit,
    batchSize: micro,
    seed: request.eval.seed,
    context: plan.context,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  return { batches, passes };
}

/**
 * Held-out loss (and metric) over `eval.batches` batches, evaluated in micro-batches:
 * loss = Σ_batches loss_b · n_b / Σ n_b (the sample-weighted mean).
 *
 * @param model The model.
 * @param plan The run's plan (eval split, batch sizes, context).
 * @param request The request (eval batches and seed).
 * @param options Signal and data directory.
 * @returns The eval point and the samples it used.
 */
export async function evaluate(
  model: Model,
  plan: TrainPlan,
  request: TrainRequest,
  options: { signal?: AbortSignal; dataDir?: string },
): Promise<{ point: { loss: number | null; accuracy?: number }; samples: number }> {
  const signal = options.signal;
  const { batches, passes } = evalBatches(plan, request, options);
  let lossSum = 0;
  let metricSum = 0;
  let hasMetric = false;
  let samples = 0;
  try {
    for (let i = 0; i < passes; i++) {
      signal?.throwIfAborted();
      const batch = await nextBatch(batches);
      const size = batch.shape[0];
      const out = tf.tidy(() => {
        const o = model.evaluate(batch);
        return o.metric === undefined ? [o.loss] : [o.loss, o.metric];
      });
      const values = await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
      lossSum += values[0]![0]! * size;
      if (values[1] !== undefined) {
        hasMetric = true;
        metricSum += values[1][0]! * size;
      }
      samples += size;
    }
  } finally {
    await batches.return?.(undefined);
  }
  const loss = lossSum / samples;
  return {
    point: {
      loss: Number.isFinite(loss) ? loss : null,
      ...(hasMetric ? { accuracy: metricSum / samples } : {}),
    },
    samples,
  };
}
