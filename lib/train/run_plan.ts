/**
 * Turn a parsed train request into a checked plan — family, config, dataset, steps, micro-batch —
 * before any tensor exists, so every bad input is refused up front with the field it concerns.
 *
 * @module
 */
import type { Dataset } from "../../data/mod.ts";
import {
  type AnyModelFamily,
  ConfigError,
  familyNames,
  getFamily,
  sixNFlopsPerSample,
} from "../../models/mod.ts";
import type { TrainRequest } from "./request.ts";
import { type Schedule, warmupStepsFor } from "./schedule.ts";
import { TrainInputError } from "./errors.ts";

/** Looks a dataset up by name; `undefined` (or a throw, whose message is kept) when none has it. */
export type DatasetResolver = (name: string) => Dataset | undefined;

/** Options of {@linkcode planTraining}. */
export interface PlanOptions {
  /** Dataset lookup. */
  resolveDataset: DatasetResolver;
  /** Bytes of activations one forward/backward may hold on the active backend. */
  activationBudgetBytes?: number;
  /** Backend name, for error messages. */
  backendName?: string;
}

/** A checked plan of one run. */
export interface TrainPlan {
  /** The model family. */
  family: AnyModelFamily;
  /** Its resolved config. */
  config: Record<string, unknown>;
  /** The dataset. */
  dataset: Dataset;
  /** Training split. */
  split: string;
  /** Held-out split. */
  evalSplit: string;
  /** Total and non-embedding parameters. */
  params: { total: number; nonEmbedding: number };
  /** Exact training FLOPs per sample. */
  flopsPerSample: number;
  /** 6·N·tokens estimate per sample. */
  flopsPerSample6n: number;
  /** Tokens per sample. */
  tokensPerSample: number;
  /** Which budget kind was given and its value. */
  budget: { kind: "flops" | "steps" | "samples" | "tokens"; value: number };
  /** Optimiser steps. */
  steps: number;
  /** Examples per step. */
  batchSize: number;
  /** Examples per forward/backward. */
  microBatchSize: number;
  /** Examples per eval batch (a multiple of nothing; evaluated in micro-batches). */
  evalBatchSize: number;
  /** Learning-rate schedule. */
  schedule: Schedule;
  /** Text sequence length, for text datasets. */
  context?: number;
  /** The name the dataset was looked up by (what the request gave). */
  datasetName: string;
  /** Training FLOPs the run spends: steps · batch · flops_per_sample. */
  flops: number;
  /** The request field that set the budget, e.g. `budget.steps`. */
  budgetField: string;
  /** The activation budget the micro-batch was chosen for, in bytes. */
  activationBudgetBytes: number;
}

/**
 * A plan as plain data (the family and dataset by name), so that the request thread can plan and
 * a training worker train that plan: it crosses `postMessage` by structured clone.
 */
export type PlanData = Omit<TrainPlan, "family" | "dataset"> & {
  /** The family's name. */
  family: string;
  /** The dataset's name. */
  dataset: string;
};

/**
 * A plan as plain data.
 *
 * @param plan A plan from {@linkcode planTraining}.
 * @returns The same plan with the family and dataset by name.
 */
export function planData(plan: TrainPlan): PlanData {
  return { ...plan, family: plan.family.name, dataset: plan.datasetName };
}

/**
 * The plan again from its plain data: the family and dataset looked up by name, nothing
 * re-checked (the request was checked when it was planned).
 *
 * @param data What {@linkcode planData} gave.
 * @param resolveDataset Dataset lookup.
 * @returns The plan.
 * @throws {TrainInputError} When the family or dataset is no longer known.
 */
export function resolvePlan(data: PlanData, resolveDataset: DatasetResolver): TrainPlan {
  const family = getFamily(data.family);
  if (family === undefined) throw new TrainInputError("family", `Unknown family ${data.family}.`);
  const dataset = resolveDataset(data.dataset);
  if (dataset === undefined) {
    throw new TrainInputError("dataset", `Unknown dataset ${data.dataset}.`);
  }
  return { ...data, family, dataset };
}

/**
 * Slack when flooring samples / batch into steps, so that a budget of exactly k steps' FLOPs is
 * not lost to float rounding in flops / flops_per_sample.
 */
const STEP_FLOOR_SLACK = 1e-9;

/**
 * The whole optimiser steps a sample count buys: ⌊samples / batch + 10⁻⁹⌋ (the slack keeps a budget
 * of exactly k steps from losing one to float rounding). The sweep planner plans with this too.
 *
 * @param samples Samples wanted (fractional: budget / FLOPs per sample).
 * @param batchSize Samples per step.
 * @returns Steps (may be 0).
 */
export function wholeSteps(samples: number, batchSize: number): number {
  return Math.floor(samples / batchSize + STEP_FLOOR_SLACK);
}

/** Held-out split names tried in order when the request names none. */
const EVAL_SPLITS = ["validation", "val", "test"];

/**
 * Check a request and work out the run.
 *
 * @param request Parsed `POST /v1/train` body.
 * @param options Dataset lookup, memory budget. (The server's FLOP cap is a service limit,
 *   checked on the plan's `flops` by `checkTrainingLimits`.)
 * @returns The plan.
 * @throws {TrainInputError} naming the field of the first problem found.
 */
export function planTraining(request: TrainRequest, options: PlanOptions): TrainPlan {
  const family = getFamily(request.family);
  if (family === undefined) {
    throw new TrainInputError(
      "family",
      `Unknown model family ${request.family}; known: ${familyNames().join(", ")}.`,
    );
  }
  const datasetName = typeof request.dataset === "string" ? request.dataset : request.dataset.name;
  const split = typeof request.dataset === "string" ? "train" : request.dataset.split;
  const datasetField = typeof request.dataset === "string" ? "dataset" : "dataset.name";
  let dataset: Dataset | undefined;
  try {
    dataset = options.resolveDataset(datasetName);
  } catch (error) {
    // The registry refuses the name (unknown, or a local path it will not read).
    throw new TrainInputError(datasetField, error instanceof Error ? error.message : String(error));
  }
  if (dataset === undefined) {
    throw new TrainInputError(datasetField, `Unknown dataset ${datasetName}.`);
  }
  const info = dataset.info;
  if (info.modality !== family.modality) {
    throw new TrainInputError(
      datasetField,
      `Family ${family.name} trains on ${family.modality} data; ${info.name} is ${info.modality}.`,
    );
  }
  if (!Object.hasOwn(info.splits, split)) {
    throw new TrainInputError(
      "dataset.split",
      `Dataset ${info.name} has no split ${split}; it has ${Object.keys(info.splits).join(", ")}.`,
    );
  }
  const evalSplit = request.eval.split ?? EVAL_SPLITS.find((s) => Object.hasOwn(info.splits, s));
  if (evalSplit === undefined || !Object.hasOwn(info.splits, evalSplit)) {
    throw new TrainInputError(
      "eval.split",
      `Dataset ${info.name} has no held-out split ${evalSplit ?? "(validation/val/test)"}.`,
    );
  }

  let config: Record<string, unknown>;
  try {
    config = family.resolveConfig({ size: request.size, config: request.config, data: info });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const field = error.field === "size" || error.field === "dataset"
      ? error.field
      : `config.${error.field}`;
    throw new TrainInputError(field, error.message);
  }

  const params = family.countParams(config);
  const flopsPerSample = family.trainingFlopsPerSample(config);
  const tokensPerSample = family.tokensPerSample(config);
  const batchSize = request.batch_size;
  const budget = budgetOf(request);
  const samplesWanted = budget.kind === "flops"
    ? budget.value / flopsPerSample
    : budget.kind === "steps"
    ? budget.value * batchSize
    : budget.kind === "samples"
    ? budget.value
    : budget.value / tokensPerSample;
  const steps = wholeSteps(samplesWanted, batchSize);
  if (steps < 1) {
    throw new TrainInputError(
      `budget.${budget.kind}`,
      `The budget buys less than one step of ${batchSize} samples ` +
        `(${(flopsPerSample * batchSize).toExponential(3)} FLOPs per step).`,
    );
  }
  const flops = steps * batchSize * flopsPerSample;

  const microBatchSize = chooseMicroBatch(request, family, config, options);
  const schedule: Schedule = {
    peak: request.lr,
    min: request.lr * request.min_lr_ratio,
    warmupSteps: warmupStepsFor(steps, {
      steps: request.warmup_steps,
      fraction: request.warmup_fraction,
    }),
    totalSteps: steps,
  };
  const plan: TrainPlan = {
    family,
    config,
    dataset,
    split,
    evalSplit,
    params,
    flopsPerSample,
    flopsPerSample6n: sixNFlopsPerSample(params, tokensPerSample),
    tokensPerSample,
    budget,
    steps,
    batchSize,
    microBatchSize,
    evalBatchSize: request.eval.batch_size ?? batchSize,
    schedule,
    datasetName,
    flops,
    budgetField: `budget.${budget.kind}`,
    activationBudgetBytes: options.activationBudgetBytes ?? Number.POSITIVE_INFINITY,
  };
  if (family.modality === "text") plan.context = tokensPerSample;
  return plan;
}

/** Which budget kind the request gives, and its value. */
function budgetOf(request: TrainRequest): TrainPlan["budget"] {
  for (const kind of ["flops", "steps", "samples", "tokens"] as const) {
    const value = request.budget[kind];
    if (value !== undefined) return { kind, value };
  }
  throw new TrainInputError("budget", "Give exactly one of flops, steps, samples or tokens.");
}

/**
 * The micro-batch: the request's, checked to divide the batch and fit the backend's memory, or
 * the largest divisor of the batch that fits.
 */
function chooseMicroBatch(
  request: TrainRequest,
  family: AnyModelFamily,
  config: Record<string, unknown>,
  options: PlanOptions,
): number {
  const batch = request.batch_size;
  const perSample = family.activationBytesPerSample(config);
  const budget = options.activationBudgetBytes ?? Number.POSITIVE_INFINITY;
  const backend = options.backendName ?? "this backend";
  const fits = (n: number) => n * perSample <= budget;
  if (!fits(1)) {
    throw new TrainInputError(
      "size",
      `One sample needs about ${(perSample / 1e9).toFixed(2)} GB of activations, more than ` +
        `${backend} can hold (${(budget / 1e9).toFixed(2)} GB).`,
    );
  }
  const requested = request.micro_batch_size;
  if (requested !== undefined) {
    if (batch % requested !== 0) {
      throw new TrainInputError(
        "micro_batch_size",
        `micro_batch_size ${requested} does not divide batch_size ${batch}.`,
      );
    }
    if (!fits(requested)) {
      throw new TrainInputError(
        "micro_batch_size",
        `micro_batch_size ${requested} needs about ${
          (requested * perSample / 1e9).toFixed(2)
        } GB ` +
          `of activations, more than ${backend} can hold (${(budget / 1e9).toFixed(2)} GB).`,
      );
    }
    return requested;
  }
  for (let n = batch; n >= 1; n--) if (batch % n === 0 && fits(n)) return n;
  return 1;
}
