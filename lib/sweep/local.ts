/**
 * The in-process trainer: `trainPoint` from `lib/train`, on the dataset registry.
 * Loaded on first use, so `--mock` and `--workers` sweeps never start TensorFlow.js.
 *
 * @module
 */
import type { BackendChoice } from "../config/mod.ts";
import { summarizeIssues } from "../errors.ts";
import { PermanentError, statusError, type Trainer } from "./trainer.ts";

/** Options of {@linkcode localTrainer}: what the program's configuration says. */
export interface LocalTrainerOptions {
  /** Which backend trains. @default automatic */
  backend?: BackendChoice;
  /** Dataset cache directory. @default the registry's */
  dataDir?: string;
}

/**
 * Create the in-process trainer (one point at a time: tfjs runs one engine per process).
 *
 * @param options Backend choice and data directory, from the program's configuration.
 * @returns The trainer, named `in-process`.
 */
export async function localTrainer(options: LocalTrainerOptions = {}): Promise<Trainer> {
  const train = await import("../train/mod.ts");
  return {
    name: "in-process",
    concurrency: 1,
    async train(request, { signal, onProgress }) {
      const parsed = train.TrainRequestSchema.safeParse(request);
      if (!parsed.success) {
        const { field, message } = summarizeIssues(parsed.error.issues);
        throw new PermanentError(`Invalid training request at ${field}: ${message}`, 422);
      }
      try {
        const result = await train.trainPoint(parsed.data, {
          signal,
          ...(options.backend === undefined ? {} : { backend: { choice: options.backend } }),
          ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
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
        throw error;
      }
    },
  };
}
