/**
 * The in-process worker: `trainPoint` from `lib/train`, on the dataset registry.
 * Loaded on first use, so `--mock` and `--workers` sweeps never start TensorFlow.js.
 *
 * @module
 */
import { PermanentError, permanentIfInvalid, statusError, type Worker } from "./worker.ts";

/**
 * Create the in-process worker (one point at a time: tfjs runs one engine per process).
 *
 * @returns The worker, named `in-process`.
 */
export async function localWorker(): Promise<Worker> {
  const train = await import("../train/mod.ts");
  return {
    name: "in-process",
    concurrency: 1,
    async train(request, { signal, onProgress }) {
      const parsed = train.TrainRequestSchema.safeParse(request);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new PermanentError(
          `Invalid training request at ${issue.path.join(".") || "(body)"}: ${issue.message}`,
          422,
        );
      }
      try {
        const result = await train.trainPoint(parsed.data, {
          signal,
          onProgress: (event) => {
            if (event.type !== "progress") return;
            onProgress?.({
              step: event.step,
              steps: event.steps,
              ...(event.loss === null ? {} : { loss: event.loss }),
            });
          },
        });
        return result as unknown as Record<string, unknown>;
      } catch (error) {
        if (error instanceof train.TrainInputError) {
          throw statusError(error.status, `${error.field}: ${error.message}`);
        }
        // An input error (e.g. a text file with no tokens) fails the same way every time.
        throw permanentIfInvalid(error);
      }
    },
  };
}
