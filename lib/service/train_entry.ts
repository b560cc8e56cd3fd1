/**
 * What a training worker runs by default: the plan the request thread made, trained by the
 * trainer's `runTraining` — no second planning, no queue, no deadline of its own (the training
 * pool owns `timeout_s` and the wall-time limit). The dataset registry is rebuilt inside the
 * worker from plain options (a resolver function cannot be sent to a worker), only to look the
 * planned dataset up by name; names come from clients, so absolute paths stay refused.
 *
 * @module
 */
import {
  registryResolver,
  runTraining,
  type TrainOptions,
  type TrainRequest,
  type TrainResult,
} from "../train/mod.ts";

/**
 * Train one point inside a worker.
 *
 * @param request The validated request.
 * @param options Signal, progress callback, the plan (`PlanData`), backend selection and
 *   `dataDir` (all structured-cloneable except the two callbacks the worker makes itself).
 * @returns The trainer's result.
 */
export function trainPoint(
  request: TrainRequest,
  options: Omit<TrainOptions, "resolveDataset"> = {},
): Promise<TrainResult> {
  return runTraining(request, {
    ...options,
    resolveDataset: registryResolver({ dataDir: options.dataDir, allowAbsolutePaths: false }),
  });
}
