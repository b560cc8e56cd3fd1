/**
 * Every setting flops-fit reads from the environment, in one zod schema: each field's `.default`
 * is its default and its `.describe()` its meaning (the README's configuration table is generated
 * from them, `deno task docs`). Each program takes the fields it uses through
 * {@linkcode loadSettings}: the server (`lib/service/config.ts`), the sweep CLI
 * (`lib/sweep/cli_config.ts`), the queue worker (`lib/queue/worker_config.ts`) and the native
 * library's loader ({@linkcode loadNativeSettings}, read in whichever thread loads OpenBLAS).
 *
 * @module
 */
import { z } from "zod";
import { BACKEND_NAMES, type BackendChoice, parseBackendChoice } from "./backend_choice.ts";
import { processEnvironment } from "./environment.ts";
import { summarizeIssues } from "../errors.ts";

/** Environment variable → setting, documented in the README's (generated) configuration table. */
export const ENV_VARS = {
  port: "PORT",
  hostname: "HOST",
  maxBodyBytes: "FLOPS_FIT_MAX_BODY_BYTES",
  maxFitPoints: "FLOPS_FIT_MAX_FIT_POINTS",
  maxBootstrap: "FLOPS_FIT_MAX_BOOTSTRAP",
  maxTrainFlops: "FLOPS_FIT_MAX_TRAIN_FLOPS",
  maxModelParams: "FLOPS_FIT_MAX_MODEL_PARAMS",
  maxBatchSize: "FLOPS_FIT_MAX_BATCH_SIZE",
  maxTrainWallS: "FLOPS_FIT_MAX_TRAIN_WALL_S",
  maxConcurrentTrainings: "FLOPS_FIT_MAX_CONCURRENT_TRAININGS",
  fitWorkers: "FLOPS_FIT_FIT_WORKERS",
  maxQueuedFits: "FLOPS_FIT_MAX_QUEUED_FITS",
  maxFitWallS: "FLOPS_FIT_MAX_FIT_WALL_S",
  retryAfterS: "FLOPS_FIT_RETRY_AFTER_S",
  shutdownGraceS: "FLOPS_FIT_SHUTDOWN_GRACE_S",
  headerTimeoutS: "FLOPS_FIT_HEADER_TIMEOUT_S",
  bodyTimeoutS: "FLOPS_FIT_BODY_TIMEOUT_S",
  logRequests: "FLOPS_FIT_LOG_REQUESTS",
  token: "FLOPS_FIT_TOKEN",
  corsOrigins: "FLOPS_FIT_CORS_ORIGINS",
  backend: "FLOPS_FIT_BACKEND",
  dataDir: "FLOPS_FIT_DATA_DIR",
  webgpuAllowSoftware: "FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE",
  queue: "FLOPS_FIT_QUEUE",
  openblas: "FLOPS_FIT_OPENBLAS",
  poolMb: "FLOPS_FIT_POOL_MB",
  native: "FLOPS_FIT_NATIVE",
  compiler: "CC",
} as const;

/** A setting's name (a field of {@linkcode SettingsSchema}). */
export type SettingName = keyof typeof ENV_VARS;

/** A yes/no variable: `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`, any case. */
function flag(fallback: boolean) {
  return z.preprocess((v) => {
    if (typeof v !== "string") return v;
    const text = v.trim().toLowerCase();
    if (/^(true|1|yes|on)$/.test(text)) return true;
    if (/^(false|0|no|off)$/.test(text)) return false;
    return v;
  }, z.boolean()).default(fallback);
}

/** The schema of every setting; see {@linkcode ENV_VARS} for the variables. */
export const SettingsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8000).describe(
    "TCP port to serve on.",
  ),
  hostname: z.string().min(1).default("0.0.0.0").describe(
    "Interface to bind.",
  ),
  maxBodyBytes: z.coerce.number().int().positive().default(16 * 1024 * 1024).describe(
    "Largest request body accepted, in bytes (larger → 413).",
  ),
  maxFitPoints: z.coerce.number().int().positive().default(20_000).describe(
    "Most (N, D, loss) points one `/v1/fit` request may carry (more → 413).",
  ),
  maxBootstrap: z.coerce.number().int().nonnegative().default(10_000).describe(
    "Largest bootstrap resample count one fit may ask for (more → 422).",
  ),
  maxTrainFlops: z.coerce.number().positive().default(1e15).describe(
    "Largest training budget one `/v1/train` request may ask for, in FLOPs.",
  ),
  maxModelParams: z.coerce.number().int().positive().default(50_000_000).describe(
    "Largest model one `/v1/train` request may build, in parameters (more → 422).",
  ),
  maxBatchSize: z.coerce.number().int().positive().default(4096).describe(
    "Largest batch size one `/v1/train` request may ask for, in samples (more → 422).",
  ),
  maxTrainWallS: z.coerce.number().positive().default(3600).describe(
    "Longest wall time one training may run before it is stopped, in seconds (past it → 422).",
  ),
  maxConcurrentTrainings: z.coerce.number().int().positive().default(1).describe(
    "Trainings run at once by this process; the rest are answered 429 with `Retry-After`.",
  ),
  fitWorkers: z.coerce.number().int().positive().default(1).describe(
    "Workers that run fits off the request thread (started on demand, stopped when idle).",
  ),
  maxQueuedFits: z.coerce.number().int().nonnegative().default(64).describe(
    "Fits that may wait for a worker; one more is answered 429 with `Retry-After`.",
  ),
  maxFitWallS: z.coerce.number().positive().default(120).describe(
    "Longest one fit may run before its worker is stopped, in seconds (past it → 422).",
  ),
  retryAfterS: z.coerce.number().int().positive().default(30).describe(
    "`Retry-After` seconds sent with a 429 when every training slot is taken.",
  ),
  shutdownGraceS: z.coerce.number().nonnegative().default(30).describe(
    "On SIGTERM, how long in-flight requests may run before trainings are cancelled, in seconds.",
  ),
  headerTimeoutS: z.coerce.number().positive().default(30).describe(
    "Seconds a connection may go with no request in flight (slow headers, idle) before closing.",
  ),
  bodyTimeoutS: z.coerce.number().positive().default(60).describe(
    "Longest a request's body may take to arrive, in seconds (past it → 408, connection closed).",
  ),
  logRequests: z.preprocess(
    (v) => typeof v === "string" ? !/^(false|0|no|off)$/i.test(v.trim()) : v,
    z.boolean(),
  ).default(true).describe(
    'One JSON line per request on stdout ("false" or "0" silences it, e.g. in tests).',
  ),
  token: z.string().min(1).optional().describe(
    "Bearer token required for training and dataset preparation when set.",
  ),
  corsOrigins: z.string().default("").describe(
    'Comma-separated CORS origins ("*" for any); empty disables CORS headers.',
  ),
  backend: z.enum(BACKEND_NAMES, {
    error: (issue) =>
      `unknown backend ${JSON.stringify(issue.input)}; known: ${BACKEND_NAMES.join(", ")} ` +
      "(unset: automatic)",
  }).optional().describe(
    "tfjs backend for training (`webgpu`, `blas`, `wasm`, `cpu`); unset chooses automatically.",
  ),
  dataDir: z.string().min(1).optional().describe(
    "Dataset cache directory (unset: `$XDG_CACHE_HOME/flops-fit`, else `~/.cache/flops-fit`).",
  ),
  webgpuAllowSoftware: flag(false).describe(
    "Lets a software WebGPU adapter (llvmpipe) train where `FLOPS_FIT_BACKEND=webgpu` names it (tests only); the automatic choice always refuses one.",
  ),
  queue: z.string().min(1).optional().describe(
    "Postgres URL of the queue (`deno task worker` without `--queue`).",
  ),
  openblas: z.string().min(1).optional().describe(
    "Path of `libopenblas.so.0` for the `blas` backend (unset: the usual library paths).",
  ),
  poolMb: z.coerce.number().nonnegative().optional().describe(
    "MiB of arrays the `blas` backend keeps for reuse (`0`: no reuse; unset: 1 GiB).",
  ),
  native: flag(true).describe(
    "Whether the `blas` backend uses its native C kernels (`0`: its JavaScript ones).",
  ),
  compiler: z.string().min(1).default("cc").describe(
    "C compiler that builds the native kernels (`deno task native`, or the first `blas` use).",
  ),
});

/** Every setting, parsed. */
export type Settings = z.infer<typeof SettingsSchema>;

/**
 * Read the named settings from environment variables (see {@linkcode ENV_VARS}); an unset or
 * empty variable takes the default.
 *
 * @param fields The settings to read.
 * @param env Variables to read; defaults to the process environment.
 * @returns Those settings, validated, defaults filled in.
 * @throws {TypeError} When a variable is set to an invalid value; the message names it.
 *
 * @example
 * ```ts
 * import { loadSettings } from "./settings.ts";
 * const { port } = loadSettings(["port"], { PORT: "9000" });
 * if (port !== 9000) throw new Error("unexpected");
 * ```
 */
export function loadSettings<K extends SettingName>(
  fields: readonly K[],
  env: Record<string, string | undefined> = processEnvironment(),
): Pick<Settings, K> {
  const raw: Record<string, string> = {};
  const mask: Record<string, true> = {};
  for (const field of fields) {
    mask[field] = true;
    const value = env[ENV_VARS[field]];
    if (value !== undefined && value !== "") raw[field] = value;
  }
  const schema = SettingsSchema.pick(mask as Record<SettingName, true>) as z.ZodType<unknown>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { field, message } = summarizeIssues(parsed.error.issues);
    throw new TypeError(
      `Invalid environment variable ${ENV_VARS[field as SettingName]}: ${message}`,
    );
  }
  return parsed.data as Pick<Settings, K>;
}

/**
 * The backend choice the settings state: `FLOPS_FIT_BACKEND` (already checked against the
 * names) and `FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE`.
 *
 * @param settings The two settings.
 * @returns The choice, passed down to whatever trains.
 */
export function backendChoiceOf(
  settings: Pick<Settings, "backend" | "webgpuAllowSoftware">,
): BackendChoice {
  return parseBackendChoice(settings.backend, settings.webgpuAllowSoftware);
}

/** What the native library's loader reads (`lib/backend/blas/`). */
export type NativeSettings = Pick<Settings, "openblas" | "poolMb" | "native" | "compiler">;

/**
 * The native library's settings. Read where OpenBLAS is loaded — whichever thread trains on the
 * `blas` backend (a training Web Worker, the sweep's process, `deno task native`) — since a
 * native library's settings are the process's, not one request's.
 *
 * @param env Variables to read; defaults to the process environment.
 * @returns The settings.
 * @throws {TypeError} When a variable is invalid, naming it.
 */
export function loadNativeSettings(
  env: Record<string, string | undefined> = processEnvironment(),
): NativeSettings {
  return loadSettings(["openblas", "poolMb", "native", "compiler"], env);
}

/**
 * The dataset cache directory: `FLOPS_FIT_DATA_DIR` when set, else `$XDG_CACHE_HOME/flops-fit`,
 * else `~/.cache/flops-fit`.
 *
 * @param override Directory given explicitly (wins when set).
 * @param env Environment to read; defaults to the process environment.
 * @returns An absolute or home-relative path; not created.
 */
export function resolveDataDir(
  override?: string,
  env: Record<string, string | undefined> = processEnvironment(),
): string {
  if (override !== undefined && override !== "") return override;
  const explicit = env[ENV_VARS.dataDir];
  if (explicit !== undefined && explicit !== "") return explicit;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== "") return `${xdg}/flops-fit`;
  const home = env.HOME ?? env.USERPROFILE;
  if (home !== undefined && home !== "") return `${home}/.cache/flops-fit`;
  return ".cache/flops-fit";
}
