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
import type { AppContext } from "./context.ts";
import { datasetRoutes } from "./datasets.ts";
import { mountDocs } from "./docs.ts";
import { fitRoutes } from "./fit.ts";
import { healthRoutes } from "./health.ts";
import { ProblemError, problemResponse } from "./problem.ts";
import type { DatasetResolver } from "../lib/train/plan.ts";
import { trainRoutes } from "./train.ts";

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  /** Service configuration; defaults to {@linkcode loadConfig} over the environment. */
  config?: ServiceConfig;
  /** Dataset lookup of `POST /v1/train`; defaults to the dataset registry. */
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
  const ctx: AppContext = {
    config: options.config ?? loadConfig(),
    startedAtMs: performance.now(),
  };
  const app = new OpenAPIHono();
  app.route("/", datasetRoutes(ctx));
  app.route("/", healthRoutes(ctx));
  app.route("/", trainRoutes(ctx, { resolveDataset: options.resolveDataset }));
  app.route("/", fitRoutes(ctx));
  mountDocs(app);
  app.notFound((c) =>
    problemResponse(
      c,
      new ProblemError({
        type: "about:blank",
        title: "Not found",
        status: 404,
        detail: `No route for ${c.req.method} ${c.req.path}.`,
      }),
    )
  );
  app.onError((error, c) => {
    if (!(error instanceof ProblemError) && !("getResponse" in error)) {
      console.error(JSON.stringify({ level: "error", path: c.req.path, error: String(error) }));
    }
    return problemResponse(c, error);
  });
  return app;
}
