/**
 * `GET /healthz`: liveness plus what a caller needs to know about this process.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { ensureBackend } from "../lib/backend/select.ts";
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
  backend: z.object({
    name: z.string().optional(),
    kind: z.enum(["gpu", "cpu"]).optional(),
    description: z.string().optional(),
    chosen_by: z.string().optional(),
    adapter: z.object({
      vendor: z.string(),
      architecture: z.string(),
      device: z.string(),
      description: z.string(),
      fallback: z.boolean(),
    }).optional(),
    error: z.string().optional(),
  }).openapi({ description: "The tfjs backend training runs on, and the GPU adapter seen." }),
}).openapi("Health");

/** The training backend as `/healthz` reports it (selecting it on first use). */
async function backendReport(
  ctx: AppContext,
): Promise<z.infer<typeof HealthSchema>["backend"]> {
  try {
    const b = await ensureBackend({ env: { FLOPS_FIT_BACKEND: ctx.config.backend } });
    return {
      name: b.name,
      kind: b.kind,
      description: b.description,
      chosen_by: b.chosenBy,
      ...(b.adapter === undefined ? {} : { adapter: b.adapter }),
    };
  } catch (error) {
    return { error: String(error instanceof Error ? error.message : error) };
  }
}

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
  return createRouter().openapi(route, async (c) =>
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
      backend: await backendReport(ctx),
    }, 200));
}
