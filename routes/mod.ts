/**
 * The flops-fit HTTP app, built in one place.
 *
 * `createApp` mounts one sub-app per resource, then the OpenAPI document and docs,
 * and routes every error — thrown problems, validation failures, unknown routes —
 * through one `onError` / `notFound` pair that answers RFC 9457 problem+json.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { loadConfig, type ServiceConfig } from "../lib/service/config.ts";
import { fitPoolFromConfig, type JobPool } from "../lib/service/job_pool.ts";
import {
  type TrainerRef,
  type TrainingPool,
  trainingPoolFromConfig,
} from "../lib/service/training_pool.ts";
import type { AppContext } from "./context.ts";
import { datasetRoutes } from "./datasets.ts";
import { familyRoutes } from "./families.ts";
import { mountDocs } from "./docs.ts";
import { fitRoutes } from "./fit.ts";
import {
  bearerToken,
  bodySizeLimit,
  corsFor,
  methodNotAllowedProblem,
  readBodyFirst,
} from "./guards.ts";
import { healthRoutes } from "./health.ts";
import { asProblem, isClientDisconnect, problem, problemResponse } from "./problem.ts";
import { HTTPException } from "hono/http-exception";
import { requestLog } from "./request_log.ts";
import { watchClient } from "./client_gone.ts";
import { jsonDepthLimit } from "./json_depth.ts";
import { ConnectionWatch } from "../lib/service/connection_watch.ts";

import { planRoutes } from "./plan.ts";
import type { DatasetResolver } from "../lib/train/mod.ts";
import { trainRoutes } from "./train.ts";

/** Paths that need the bearer token when `FLOPS_FIT_TOKEN` is set: training and dataset preparation. */
export const PROTECTED_PATHS: readonly string[] = [
  "/v1/train",
  "/v1/train/*",
  "/v1/datasets/:name/prepare",
];

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  /** Service configuration; defaults to {@linkcode loadConfig} over the environment. */
  config?: ServiceConfig;
  /** Training pool; defaults to one sized from `config` running `trainer`. */
  trainingPool?: TrainingPool;
  /** Fit workers; defaults to a pool sized from `config`. */
  fitPool?: JobPool;
  /**
   * Module and export the default pool's workers train with (tests point it at a wrapper
   * that injects their own datasets, since functions cannot cross into a worker).
   * @default DEFAULT_TRAINER (`trainPoint` of `lib/train/mod.ts`)
   */
  trainer?: TrainerRef;
  /**
   * Which connections have a request in flight, and notices clients that leave; share it with
   * `startServer` so its slow-client reaper knows them. @default a new one
   */
  connectionWatch?: ConnectionWatch;
  /** Where access-log lines go when logging is on. @default console.log */
  log?: (line: string) => void;
  /**
   * Dataset lookup of `POST /v1/train`'s validation and planning on the request thread; defaults
   * to the dataset registry. The training itself runs in a worker, which a function cannot
   * reach: give a `trainer` (or a `trainingPool`) whose worker module resolves the same datasets,
   * else `createApp` throws rather than accept requests its workers would fail.
   */
  resolveDataset?: DatasetResolver;
}

/**
 * Build the app. Tests call `app.request(...)` on it directly; `main.ts` serves it.
 *
 * @param options Configuration overrides.
 * @returns The Hono app.
 *
 * @example
 * ```ts
 * import { createApp } from "./mod.ts";
 * const app = createApp();
 * const res = await app.request("/healthz");
 * if (res.status !== 200) throw new Error("unhealthy");
 * ```
 */
export function createApp(options: AppOptions = {}): OpenAPIHono {
  if (
    options.resolveDataset !== undefined && options.trainer === undefined &&
    options.trainingPool === undefined
  ) {
    throw new TypeError(
      "createApp({ resolveDataset }) also needs `trainer` (or `trainingPool`): trainings run in " +
        "a worker, which resolves datasets with its own module, not with this function.",
    );
  }
  const config = options.config ?? loadConfig();
  const ctx: AppContext = {
    config,
    startedAtMs: performance.now(),
    trainingPool: options.trainingPool ?? trainingPoolFromConfig(config, options.trainer),
    fitPool: options.fitPool ?? fitPoolFromConfig(config),
  };
  const log = options.log ?? ((line: string) => console.log(line));
  const app = new OpenAPIHono();
  // Guards, outermost first: request id + access log, client watch, CORS, 405, auth, body size,
  // body read, JSON nesting depth.
  app.use(requestLog({ enabled: config.logRequests, write: log }));
  // Before anything reads the body or the signal: a client that leaves aborts c.req.raw.signal.
  const watch = options.connectionWatch ?? new ConnectionWatch();
  app.use(watchClient(watch));
  const cors = corsFor(config.corsOrigins);
  if (cors !== undefined) app.use(cors);
  app.use(methodNotAllowedProblem(app));
  const auth = bearerToken(config.token);
  for (const path of PROTECTED_PATHS) app.use(path, auth);
  app.use(bodySizeLimit(config.maxBodyBytes));
  app.use(readBodyFirst({
    timeoutS: config.bodyTimeoutS,
    // The 408 is written, then the reaper (startServer) shuts the connection down.
    onTimeout: (c) => watch.requestClose((c.env as Deno.ServeHandlerInfo | undefined)?.remoteAddr),
  }));
  app.use(jsonDepthLimit());
  app.route("/", datasetRoutes(ctx));
  app.route("/", healthRoutes(ctx));
  app.route("/", fitRoutes(ctx));
  app.route("/", planRoutes(ctx));
  app.route("/", familyRoutes(ctx));
  app.route("/", trainRoutes(ctx, { resolveDataset: options.resolveDataset }));
  mountDocs(app);
  app.notFound((c) =>
    problemResponse(
      c,
      problem(404, `No route for ${c.req.method} ${c.req.path}.`),
    )
  );
  app.onError((error, c) => {
    const expected = asProblem(error) !== undefined || error instanceof HTTPException ||
      isClientDisconnect(error);
    if (!expected && config.logRequests) {
      // The error's class and first line only: no stack, no request data.
      log(JSON.stringify({
        level: "error",
        path: c.req.path,
        request_id: c.get("requestId" as never),
        error: `${error.name}: ${String(error.message).split("\n")[0]}`,
      }));
    }
    return problemResponse(c, error);
  });
  return app;
}
