/**
 * The queue worker's configuration (`deno task worker`), read once from the environment: its
 * fields of the one settings schema (`lib/config/`).
 *
 * @module
 */
import {
  type BackendChoice,
  backendChoiceOf,
  loadSettings,
  processEnvironment,
} from "../config/mod.ts";

/** What the queue worker reads from the environment. */
export interface QueueWorkerConfig {
  /** The queue's connection string when `--queue` is not given (`FLOPS_FIT_QUEUE`). */
  queue?: string;
  /** Bearer token for a `--trainer` URL (`FLOPS_FIT_TOKEN`). */
  token?: string;
  /** Which backend the in-process trainer uses. */
  backend: BackendChoice;
  /** Dataset cache directory of the in-process trainer (`FLOPS_FIT_DATA_DIR`). */
  dataDir?: string;
}

/**
 * Build the queue worker's configuration from environment variables.
 *
 * @param env Variables to read; defaults to the process environment.
 * @returns The configuration.
 * @throws {TypeError} When a variable is invalid (an unknown backend name included), naming it.
 *
 * @example
 * ```ts
 * import { loadQueueWorkerConfig } from "./worker_config.ts";
 * const config = loadQueueWorkerConfig({ FLOPS_FIT_QUEUE: "postgres://h/d" });
 * if (config.queue !== "postgres://h/d" || config.backend.mode !== "auto") {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function loadQueueWorkerConfig(
  env: Record<string, string | undefined> = processEnvironment(),
): QueueWorkerConfig {
  const { queue, token, dataDir, ...choice } = loadSettings(
    ["queue", "token", "dataDir", "backend", "webgpuAllowSoftware"],
    env,
  );
  return {
    backend: backendChoiceOf(choice),
    ...(queue === undefined ? {} : { queue }),
    ...(token === undefined ? {} : { token }),
    ...(dataDir === undefined ? {} : { dataDir }),
  };
}
