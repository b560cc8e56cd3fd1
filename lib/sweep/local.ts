/**
 * The in-process worker: `trainPoint` from `lib/train`, on the dataset registry.
 * Loaded on first use, so `--mock` and `--workers` sweeps never start TensorFlow.js.
 *
 * @module
 */
import { PermanentError, statusError, type Worker } from "./worker.ts";

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
        throw error;
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
 * @returns e.g. `backend: blas (chosen automatically; webgpu: no GPU device …) · native kernels:
 *   built now in 3.1 s`.
 */
export async function describeLocalBackend(): Promise<string> {
  const before = nativeBuilds();
  const t0 = performance.now();
  const { ensureBackend } = await import("../backend/select.ts");
  const info = await ensureBackend();
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
