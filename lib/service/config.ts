/**
 * Service configuration, read once from the environment.
 *
 * One zod schema holds every setting's default and meaning; {@linkcode loadConfig}
 * is the only place that reads `Deno.env`. Routes and library code receive the
 * parsed object, never the environment.
 *
 * @module
 */
import { z } from "zod";

/** Environment variable → config field, documented in the README's (generated) configuration table. */
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
} as const;

/**
 * Schema of the service configuration: each field's `.default` is its default and its
 * `.describe()` its meaning — the README's configuration table is generated from them
 * (`deno task docs`).
 */
export const ServiceConfigSchema = z.object({
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
  backend: z.string().min(1).optional().describe(
    "tfjs backend for training (`webgpu`, `blas`, `wasm`, `cpu`); unset chooses automatically.",
  ),
  dataDir: z.string().min(1).optional().describe(
    "Dataset cache directory (unset: `$XDG_CACHE_HOME/flops-fit`, else `~/.cache/flops-fit`).",
  ),
});

/** Parsed service configuration. */
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/**
 * Build the configuration from environment variables (see {@linkcode ENV_VARS}).
 *
 * @param env Variables to read; defaults to `Deno.env.toObject()`.
 * @returns The validated configuration with defaults filled in.
 * @throws {TypeError} When a variable is set to an invalid value; the message names it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./config.ts";
 * const config = loadConfig({ PORT: "9000" });
 * if (config.port !== 9000) throw new Error("unexpected");
 * ```
 */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): ServiceConfig {
  const raw: Record<string, string> = {};
  for (const [field, name] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== "") raw[field] = value;
  }
  const parsed = ServiceConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0]) as keyof typeof ENV_VARS;
    throw new TypeError(`Invalid environment variable ${ENV_VARS[field]}: ${issue.message}`);
  }
  return parsed.data;
}
