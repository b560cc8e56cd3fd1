/**
 * The sweep CLI's configuration (`deno task sweep`), read once from the environment: its fields
 * of the one settings schema (`lib/config/`).
 *
 * @module
 */
import {
  AUTO_BACKEND,
  type BackendChoice,
  backendChoiceOf,
  loadSettings,
  processEnvironment,
} from "../config/mod.ts";

/** What the sweep CLI reads from the environment. */
export interface SweepCliConfig {
  /** Bearer token sent to trainer URLs and to workers asked for a family (`FLOPS_FIT_TOKEN`). */
  token?: string;
  /** Which backend the in-process trainer uses. */
  backend: BackendChoice;
  /** Dataset cache directory of the in-process trainer (`FLOPS_FIT_DATA_DIR`). */
  dataDir?: string;
}

/** The configuration of a sweep run with nothing set: automatic backend, no token. */
export const DEFAULT_SWEEP_CLI_CONFIG: SweepCliConfig = { backend: AUTO_BACKEND };

/**
 * Build the sweep CLI's configuration from environment variables.
 *
 * @param env Variables to read; defaults to the process environment.
 * @returns The configuration.
 * @throws {TypeError} When a variable is invalid (an unknown backend name included), naming it.
 *
 * @example
 * ```ts
 * import { loadSweepCliConfig } from "./cli_config.ts";
 * const config = loadSweepCliConfig({ FLOPS_FIT_BACKEND: "cpu" });
 * if (config.backend.mode !== "named") throw new Error("unexpected");
 * ```
 */
export function loadSweepCliConfig(
  env: Record<string, string | undefined> = processEnvironment(),
): SweepCliConfig {
  const { token, dataDir, ...choice } = loadSettings(
    ["token", "dataDir", "backend", "webgpuAllowSoftware"],
    env,
  );
  return {
    backend: backendChoiceOf(choice),
    ...(token === undefined ? {} : { token }),
    ...(dataDir === undefined ? {} : { dataDir }),
  };
}
