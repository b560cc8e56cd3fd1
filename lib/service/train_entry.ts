/**
 * What a training worker runs by default: the trainer's `trainPoint`, with the dataset
 * registry rebuilt inside the worker from plain options (a resolver function cannot be sent
 * to a worker). Names come from clients, so absolute paths stay refused, as on the route.
 *
 * @module
 */
import { registryResolver } from "../train/datasets.ts";
import type { TrainRequest, TrainResult } from "../train/request.ts";
import { type TrainOptions, trainPoint as runTrainPoint } from "../train/train.ts";

/**
 * Train one point inside a worker.
 *
 * @param request The validated request.
 * @param options Signal, progress callback, FLOP cap, backend selection and `dataDir`
 *   (all structured-cloneable except the two callbacks the worker makes itself).
 * @returns The trainer's result.
 */
export function trainPoint(
  request: TrainRequest,
  options: Omit<TrainOptions, "resolveDataset"> = {},
): Promise<TrainResult> {
  return runTrainPoint(request, {
    ...options,
    resolveDataset: registryResolver({ dataDir: options.dataDir, allowAbsolutePaths: false }),
  });
}
