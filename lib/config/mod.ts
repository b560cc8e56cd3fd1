/**
 * Configuration: every setting read from the environment (one schema), the backend choice, and
 * the only code that touches `Deno.env`. Each program's configuration module takes its fields
 * from here: the server's `lib/service/config.ts`, the sweep CLI's `lib/sweep/cli_config.ts`,
 * the queue worker's `lib/queue/worker_config.ts`.
 *
 * @module
 */
export {
  AUTO_BACKEND,
  BACKEND_NAMES,
  type BackendChoice,
  type BackendName,
  isBackendName,
  parseBackendChoice,
} from "./backend_choice.ts";
export { processEnvironment, withEnvDefaults } from "./environment.ts";
export {
  backendChoiceOf,
  ENV_VARS,
  loadNativeSettings,
  loadSettings,
  type NativeSettings,
  resolveDataDir,
  type SettingName,
  type Settings,
  SettingsSchema,
} from "./settings.ts";
