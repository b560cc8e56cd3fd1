/**
 * The server's configuration, read once from the environment.
 *
 * Its settings are fields of the one settings schema (`lib/config/`), where each has its default
 * and meaning; {@linkcode loadConfig} reads them. Routes and library code receive the parsed
 * object, never the environment; the backend choice arrives parsed ({@linkcode BackendChoice}).
 *
 * @module
 */
import {
  type BackendChoice,
  backendChoiceOf,
  ENV_VARS,
  loadSettings,
  processEnvironment,
  type Settings,
} from "../config/mod.ts";

export { ENV_VARS };

/** The settings the server reads. */
const SERVER_FIELDS = [
  "port",
  "hostname",
  "maxBodyBytes",
  "maxFitPoints",
  "maxBootstrap",
  "maxTrainFlops",
  "maxModelParams",
  "maxBatchSize",
  "maxTrainWallS",
  "maxConcurrentTrainings",
  "fitWorkers",
  "maxQueuedFits",
  "maxFitWallS",
  "retryAfterS",
  "shutdownGraceS",
  "headerTimeoutS",
  "bodyTimeoutS",
  "logRequests",
  "token",
  "corsOrigins",
  "backend",
  "webgpuAllowSoftware",
  "dataDir",
] as const;

/** Parsed service configuration; `backend` is the parsed choice. */
export type ServiceConfig =
  & Omit<Pick<Settings, typeof SERVER_FIELDS[number]>, "backend" | "webgpuAllowSoftware">
  & {
    /** Which backend trains (`FLOPS_FIT_BACKEND`, `FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE`). */
    backend: BackendChoice;
  };

/**
 * Build the configuration from environment variables (see {@linkcode ENV_VARS}).
 *
 * @param env Variables to read; defaults to the process environment.
 * @returns The validated configuration with defaults filled in.
 * @throws {TypeError} When a variable is set to an invalid value (an unknown backend name
 *   included); the message names it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ PORT: "9000" });
 * if (config.port !== 9000) throw new Error("unexpected");
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined> = processEnvironment(),
): ServiceConfig {
  const { backend, webgpuAllowSoftware, ...rest } = loadSettings(SERVER_FIELDS, env);
  return { ...rest, backend: backendChoiceOf({ backend, webgpuAllowSoftware }) };
}
