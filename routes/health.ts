/**
 * `GET /healthz`: liveness plus what a caller needs to know about this process.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type AppContext, createRouter } from "./context.ts";

/** Version reported by `/healthz` and the OpenAPI document. */
export const SERVICE_VERSION = "0.1.0";

/** Response body of `GET /healthz`. */
export const HealthSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
  uptime_s: z.number(),
  deno: z.string(),
  limits: z.record(z.string(), z.number()),
}).openapi("Health");

const route = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["service"],
  summary: "Liveness, version and limits",
  responses: {
    200: {
      description: "The service is up.",
      content: { "application/json": { schema: HealthSchema } },
    },
  },
});

/**
 * Routes for `/healthz`.
 *
 * @param ctx Shared app context.
 * @returns The router.
 */
export function healthRoutes(ctx: AppContext) {
  return createRouter().openapi(route, (c) =>
    c.json({
      status: "ok" as const,
      version: SERVICE_VERSION,
      uptime_s: (performance.now() - ctx.startedAtMs) / 1000,
      deno: Deno.version.deno,
      limits: {
        max_body_bytes: ctx.config.maxBodyBytes,
        max_fit_points: ctx.config.maxFitPoints,
        max_bootstrap: ctx.config.maxBootstrap,
        max_train_flops: ctx.config.maxTrainFlops,
      },
    }, 200));
}
