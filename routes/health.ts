/**
 * `GET /healthz`: liveness plus what a caller needs to know about this process.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { probeBackend } from "../lib/backend/select.ts";
import { limitsOf } from "../lib/service/limits.ts";
import { AdapterReportSchema } from "../lib/train/mod.ts";
import { type AppContext, createRouter } from "./context.ts";

/** Version reported by `/healthz` and the OpenAPI document. */
export const SERVICE_VERSION = "0.1.0";

/** Response body of `GET /healthz`. */
export const HealthSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
  uptime_s: z.number(),
  deno: z.string(),
  limits: z.record(z.string(), z.number()).openapi({
    description: "Every limit by name (see the README's limits table); requests past one get " +
      "413/422 problem+json whose `limit` member names it.",
  }),
  training: z.object({
    active: z.number().int(),
    max_concurrent: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    rejected: z.number().int(),
  }).openapi({ description: "Trainings running now and counters since start." }),
  fits: z.object({
    workers: z.number().int(),
    running: z.number().int(),
    queued: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    rejected: z.number().int(),
  }).openapi({ description: "Fit workers alive, fits running and waiting, counters since start." }),
  auth: z.object({ token_required: z.boolean() }),
  backend: z.object({
    name: z.string().optional(),
    kind: z.enum(["gpu", "cpu"]).optional(),
    description: z.string().optional(),
    chosen_by: z.string().optional(),
    adapter: AdapterReportSchema.optional(),
    error: z.string().optional(),
  }).openapi({ description: "The tfjs backend training runs on, and the GPU adapter seen." }),
}).openapi("Health");

/**
 * The training backend as `/healthz` reports it: the one training workers select, found by a
 * probe that starts nothing on this thread (no OpenBLAS load, no kernel build, no tfjs backend).
 */
async function backendReport(
  ctx: AppContext,
): Promise<z.infer<typeof HealthSchema>["backend"]> {
  try {
    const b = await probeBackend({ choice: ctx.config.backend });
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
      limits: limitsOf(ctx.config),
      training: ctx.trainingPool.stats(),
      fits: ctx.fitPool.stats(),
      auth: { token_required: ctx.config.token !== undefined },
      backend: await backendReport(ctx),
    }, 200));
}
