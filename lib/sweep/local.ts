/**
 * The in-process trainer: `trainPoint` from `lib/train`, on the dataset registry.
 * Loaded on first use, so `--mock` and `--workers` sweeps never start TensorFlow.js.
 *
 * @module
 */
import type { BackendChoice } from "../config/mod.ts";
import { summarizeIssues } from "../errors.ts";
import { PermanentError, permanentIfInvalid, statusError, type Trainer } from "./trainer.ts";

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
        // An input error (e.g. a text file with no tokens) fails the same way every time.
        throw permanentIfInvalid(error);
      }
    },
  };
}

/** Where the native kernels are built (`lib/backend/blas/native.ts`). */
const NATIVE_CACHE = new URL("../../.cache/native/", import.meta.url);

/**
 * Start the in-process trainer's backend and say, in one line, which it is and why, and whether
 * the native kernels were built now, found built, or are not used.
 *
 * @param options The backend choice the in-process trainer will use (from the configuration).
 * @returns e.g. `backend: blas (chosen automatically; webgpu: no GPU device …) · native kernels:
 *   built now in 3.1 s`.
 */
export async function describeLocalBackend(
  options: Pick<LocalTrainerOptions, "backend"> = {},
): Promise<string> {
  const before = nativeBuilds();
  const t0 = performance.now();
  const { ensureBackend } = await import("../backend/select.ts");
  const info = await ensureBackend(
    options.backend === undefined ? {} : { choice: options.backend },
  );
  const seconds = (performance.now() - t0) / 1000;
  const passedOver = info.candidates.filter((c) => !c.usable && c.name !== info.name)
    .map((c) => `${c.name}: ${c.reason ?? "unusable"}`);
  const why = info.chosenBy === "auto"
    ? "chosen automatically" +
      (passedOver.length > 0 ? `; passed over ${passedOver.join("; ")}` : "")
    : `named by ${info.chosenBy === "env" ? "FLOPS_FIT_BACKEND" : "the caller"}`;
  let native = `not used by ${info.name}`;
  if (info.name === "blas") {
    const { blasBackendInfo } = await import("../backend/blas/mod.ts");
    const blas = blasBackendInfo();
    const loaded = blas.native !== undefined && !blas.native.startsWith("unavailable");
    const built = nativeBuilds().filter((f) => !before.includes(f));
    native = !loaded
      ? (blas.native ?? "unavailable; JavaScript kernels")
      : built.length > 0
      ? `built now (${seconds.toFixed(1)} s with the backend's start)`
      : "already built";
  }
  return `backend: ${info.name} — ${info.description} (${why}) · native kernels: ${native}`;
}

function nativeBuilds(): string[] {
  try {
    return [...Deno.readDirSync(NATIVE_CACHE)].map((e) => e.name).filter((n) => n.endsWith(".so"));
  } catch {
    return [];
  }
}
