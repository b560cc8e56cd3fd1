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

/** Environment variable → config field, documented in the README's configuration table. */
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
  logRequests: "FLOPS_FIT_LOG_REQUESTS",
  token: "FLOPS_FIT_TOKEN",
  corsOrigins: "FLOPS_FIT_CORS_ORIGINS",
  backend: "FLOPS_FIT_BACKEND",
  dataDir: "FLOPS_FIT_DATA_DIR",
} as const;

/** Schema of the service configuration; each field's `.default` is the documented default. */
export const ServiceConfigSchema = z.object({
  /** TCP port to serve on. @default 8000 */
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Interface to bind. @default "0.0.0.0" */
  hostname: z.string().min(1).default("0.0.0.0"),
  /** Largest request body accepted, in bytes (larger → 413). @default 16 MiB */
  maxBodyBytes: z.coerce.number().int().positive().default(16 * 1024 * 1024),
  /** Most (N, D, loss) points one `/v1/fit` request may carry (more → 413). @default 20,000 */
  maxFitPoints: z.coerce.number().int().positive().default(20_000),
  /** Largest bootstrap resample count one fit may ask for (more → 422). @default 10,000 */
  maxBootstrap: z.coerce.number().int().nonnegative().default(10_000),
  /** Largest training budget one `/v1/train` request may ask for, in FLOPs. @default 1e15 */
  maxTrainFlops: z.coerce.number().positive().default(1e15),
  /** Largest model one `/v1/train` request may build, in parameters (more → 422). @default 50e6 */
  maxModelParams: z.coerce.number().int().positive().default(50_000_000),
  /** Largest batch size one `/v1/train` request may ask for, in samples (more → 422). @default 4096 */
  maxBatchSize: z.coerce.number().int().positive().default(4096),
  /** Longest wall time one training may run before it is stopped, in seconds (past it → 422). @default 3600 */
  maxTrainWallS: z.coerce.number().positive().default(3600),
  /** Trainings run at once by this process; the rest are answered 429 with `Retry-After`. @default 1 */
  maxConcurrentTrainings: z.coerce.number().int().positive().default(1),
  /** Workers that run fits off the request thread (started on demand, stopped when idle). @default 1 */
  fitWorkers: z.coerce.number().int().positive().default(1),
  /** Fits that may wait for a worker; one more is answered 429 with `Retry-After`. @default 64 */
  maxQueuedFits: z.coerce.number().int().nonnegative().default(64),
  /** Longest one fit may run before its worker is stopped, in seconds (past it → 422). @default 120 */
  maxFitWallS: z.coerce.number().positive().default(120),
  /** `Retry-After` seconds sent with a 429 when every training slot is taken. @default 30 */
  retryAfterS: z.coerce.number().int().positive().default(30),
  /** On SIGTERM, how long in-flight requests may run before trainings are cancelled, in seconds. @default 30 */
  shutdownGraceS: z.coerce.number().nonnegative().default(30),
  /** One JSON line per request on stdout ("false" or "0" silences it, e.g. in tests). @default true */
  logRequests: z.preprocess(
    (v) => typeof v === "string" ? !/^(false|0|no|off)$/i.test(v.trim()) : v,
    z.boolean(),
  ).default(true),
  /** Bearer token required for training and dataset preparation when set. @default unset */
  token: z.string().min(1).optional(),
  /** Comma-separated CORS origins ("*" for any); empty disables CORS headers. @default "" */
  corsOrigins: z.string().default(""),
  /** tfjs backend for training (`webgpu`, `blas`, `wasm`, `cpu`); unset chooses automatically. */
  backend: z.string().min(1).optional(),
  /** Dataset cache directory. @default $XDG_CACHE_HOME/flops-fit, else ~/.cache/flops-fit */
  dataDir: z.string().min(1).optional(),
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
