/**
 * The worker trainer (`runTraining`: the request thread's plan, no deadline of its own) with the
 * tests' tiny datasets, for training-pool workers: a worker receives
 * only structured-cloneable options, so the dataset resolver is bound here, in the module the
 * worker imports (`createApp({ trainer: TINY_TRAINER })`).
 *
 * @module
 */
import { ensureBackend } from "../../../lib/backend/select.ts";
import type { TrainerRef } from "../../../lib/service/training_pool.ts";
import type { TrainOptions } from "../../../lib/train/train.ts";
import { runTraining } from "../../../lib/train/train.ts";
import type { TrainRequest, TrainResult } from "../../../lib/train/request.ts";
import type { DatasetResolver } from "../../../lib/train/run_plan.ts";
import { resolveTiny } from "./_tiny_data.ts";

/** This module's `trainPoint`, as a trainer reference for the pool. */
export const TINY_TRAINER: TrainerRef = {
  module: import.meta.url,
  exportName: "trainPoint",
};

/**
 * Train on the tiny datasets, on the wasm backend like the route tests.
 *
 * @param request Parsed request.
 * @param options Worker options (signal, progress, FLOP cap).
 * @returns The trainer's result.
 */
export async function trainPoint(
  request: TrainRequest,
  options: TrainOptions = {},
): Promise<TrainResult> {
  await ensureBackend({ override: "wasm" });
  return await runTraining(request, { ...options, resolveDataset: resolveTiny });
}

/**
 * The tiny datasets, plus `offline` (a tiny-text whose preparation fails as if offline), and a
 * refusal of any name with `..` in it.
 */
export const strictResolver: DatasetResolver = (name) => {
  if (name.includes("..")) throw new Error(`Path traversal in ${name}.`);
  if (name !== "offline") return resolveTiny(name);
  return {
    ...resolveTiny("tiny-text")!,
    prepare: () => Promise.reject(new Error("offline: fetch https://example.invalid/x failed")),
  };
};

/** {@linkcode trainPointStrict} as a trainer reference for the pool. */
export const STRICT_TRAINER: TrainerRef = {
  module: import.meta.url,
  exportName: "trainPointStrict",
};

/**
 * Train with {@linkcode strictResolver}.
 *
 * @param request Parsed request.
 * @param options Worker options.
 * @returns The trainer's result.
 */
export async function trainPointStrict(
  request: TrainRequest,
  options: TrainOptions = {},
): Promise<TrainResult> {
  await ensureBackend({ override: "wasm" });
  return await runTraining(request, { ...options, resolveDataset: strictResolver });
}
