/**
 * `POST /v1/plan`: IsoFLOP grids for a family and budgets, and — given results so far — the
 * adaptive plan (re-centred curves and the next budget that most shrinks N_opt's uncertainty).
 *
 * Every part of the work is bounded: the grids are planned here (cheap); the adaptive plan — a
 * bootstrap of fits over up to 10,000 results — runs on the fit workers like `/v1/fit`, under
 * `max_fit_wall_s` and the fit queue's bound, and is cancelled when the client leaves. `hyper`
 * and `model` are copied into every planned point's request, so their size times the number of
 * points is bounded by {@linkcode MAX_PLAN_COPY_BYTES} (413 naming the field).
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  type AdaptiveJobInput,
  type AdaptivePlan,
  FamilyDescriptionSchema,
  familyForSweep,
  planSweep,
} from "../lib/plan/mod.ts";
import { ADAPTIVE_PLAN_MODULE } from "../lib/service/job_pool.ts";
import { ConfigError } from "../models/mod.ts";
import { type AppContext, createRouter } from "./context.ts";
import { problem } from "./problem.ts";

const Flops = z.number().positive().finite();

/**
 * Most bytes of `hyper` and `model` (as JSON) times the points they are copied into: one
 * answer's copies stay under 4 MiB (a 1 KiB `hyper` over 64 budgets × 25 sizes is 1.6 MiB).
 */
export const MAX_PLAN_COPY_BYTES = 4 * 1024 * 1024;

/** Body of `POST /v1/plan`. */
export const PlanRequestSchema = z.object({
  family: z.union([z.string().min(1), FamilyDescriptionSchema]).openapi({
    description: "A registry family's name, or a whole FamilyDescription table (the answer of a " +
      "trainer's `GET /v1/families/{name}`) for a family flops-fit does not have.",
    example: "gpt",
  }),
  dataset: z.string().min(1).default("synthetic-text"),
  budgets: z.array(Flops).min(1).max(64).optional().openapi({ example: [3e11, 1e12, 3e12] }),
  sizes_per_budget: z.number().int().min(3).max(25).default(5),
  width: z.number().min(1.5).max(10_000).default(16),
  data_per_param: z.number().positive().default(20),
  prior: z.object({ k: z.number().positive().finite(), a: z.number().positive().max(1) })
    .optional().openapi({
      description: "A prior fit N_opt = k·C^a (e.g. fit.json's isoflop.N_opt.k and isoflop.a).",
    }),
  params: z.enum(["non_embedding", "total"]).default("non_embedding"),
  model: z.record(z.string(), z.unknown()).optional().openapi({
    description: 'Family config fields fixed for every size, e.g. {"context": 64}.',
  }),
  hyper: z.record(z.string(), z.unknown()).default({}),
  seed: z.number().int().nonnegative().default(0),
  adaptive: z.object({
    results: z.array(z.object({
      N: z.number().positive().finite(),
      D: z.number().positive().finite(),
      loss: z.number().positive().finite(),
      C: Flops.openapi({ description: "The point's budget label (planned FLOPs)." }),
    })).min(1).max(10_000),
    target_budget: Flops,
    candidates: z.array(Flops).min(1).max(32).optional(),
    bootstrap: z.number().int().min(10).max(2000).default(200),
  }).optional().openapi({
    description: "Results so far: re-centre edges, propose the next budget.",
  }),
}).openapi("PlanRequest");

const route = createRoute({
  method: "post",
  path: "/v1/plan",
  tags: ["sweep"],
  summary: "Plan IsoFLOP grids (and, given results, the next budget)",
  request: {
    body: { content: { "application/json": { schema: PlanRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: "Grids per budget; each point carries its `POST /v1/train` request.",
      content: { "application/json": { schema: z.object({}).passthrough().openapi("Plan") } },
    },
    413: {
      description: "`hyper`/`model` would be copied into too many points (`max_plan_copy_bytes`).",
    },
    422: { description: "Invalid request, or the adaptive planning ran past `max_fit_wall_s`." },
    429: { description: "Every fit worker is busy and the fit queue is full." },
  },
});

/** The most points one answer can hold: the grids asked for, plus the adaptive plan's. */
function mostPoints(body: z.infer<typeof PlanRequestSchema>): number {
  const curves = body.adaptive === undefined
    ? 0
    : new Set(body.adaptive.results.map((r) => r.C)).size + 1;
  return ((body.budgets?.length ?? 0) + curves) * body.sizes_per_budget;
}

/** Refuse (413 naming `hyper` or `model`) what would be copied into too many points. */
function checkCopies(body: z.infer<typeof PlanRequestSchema>): void {
  const sizes = {
    hyper: JSON.stringify(body.hyper).length,
    model: body.model === undefined ? 0 : JSON.stringify(body.model).length,
  };
  const points = mostPoints(body);
  const copied = (sizes.hyper + sizes.model) * points;
  if (copied <= MAX_PLAN_COPY_BYTES) return;
  const field = sizes.hyper >= sizes.model ? "hyper" : "model";
  throw problem(
    413,
    `${field} (${sizes[field]} bytes as JSON, with ${
      field === "hyper" ? "model" : "hyper"
    }) would be copied into up to ${points} planned points (${copied} bytes); at most ` +
      `${MAX_PLAN_COPY_BYTES} bytes of copies are answered. Send fewer budgets or sizes, or a ` +
      `smaller ${field}.`,
    {
      field,
      limit: { name: "max_plan_copy_bytes", value: MAX_PLAN_COPY_BYTES, actual: copied },
    },
  );
}

/**
 * Routes for `/v1/plan`.
 *
 * @param ctx Shared app context (its fit pool runs the adaptive planning).
 * @returns The router.
 */
export function planRoutes(ctx: AppContext) {
  return createRouter().openapi(route, async (c) => {
    const body = c.req.valid("json");
    if (body.budgets === undefined && body.adaptive === undefined) {
      throw problem(422, "Give budgets, adaptive results, or both.", { field: "budgets" });
    }
    let family;
    try {
      // A foreign family's table (validated by the schema: ascending sizes, positive counts) is
      // planned from exactly as a registry family's.
      family = familyForSweep(body.family, {
        params: body.params,
        ...(body.model === undefined ? {} : { model: body.model }),
      });
    } catch (error) {
      const field = error instanceof ConfigError ? `model.${error.field}` : "family";
      throw problem(422, (error as Error).message, { field });
    }
    checkCopies(body);
    const template = {
      family,
      dataset: body.dataset,
      seed: body.seed,
      hyper: body.hyper,
      ...(body.model === undefined ? {} : { model: body.model }),
    };
    const grids = body.budgets === undefined ? [] : planSweep({
      ...template,
      budgets: body.budgets,
      sizesPerBudget: body.sizes_per_budget,
      width: body.width,
      dataPerParam: body.data_per_param,
      ...(body.prior === undefined ? {} : { prior: body.prior }),
    });
    let adaptive: AdaptivePlan | undefined;
    if (body.adaptive !== undefined) {
      // Plain data only: the worker rebuilds the family from its name or table.
      const input: AdaptiveJobInput = {
        family: body.family,
        params: body.params,
        dataset: body.dataset,
        seed: body.seed,
        hyper: body.hyper,
        ...(body.model === undefined ? {} : { model: body.model }),
        results: body.adaptive.results,
        targetBudget: body.adaptive.target_budget,
        sizesPerBudget: body.sizes_per_budget,
        width: body.width,
        bootstrap: body.adaptive.bootstrap,
        ...(body.adaptive.candidates === undefined ? {} : { candidates: body.adaptive.candidates }),
      };
      adaptive = await ctx.fitPool.run<AdaptivePlan>("planAdaptiveJob", [input], {
        signal: c.req.raw.signal,
        module: ADAPTIVE_PLAN_MODULE,
      });
    }
    return c.json({
      family: family.name,
      size_parameter: family.sizeParam,
      data_unit: family.dataUnit,
      units_per_sample: family.unitsPerSample,
      grids,
      ...(adaptive === undefined ? {} : { adaptive }),
    }, 200);
  });
}
