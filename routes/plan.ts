/**
 * `POST /v1/plan`: IsoFLOP grids for a family and budgets, and — given results so far — the
 * adaptive plan (re-centred curves and the next budget that most shrinks N_opt's uncertainty).
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { planAdaptive } from "../lib/plan/adaptive.ts";
import { planSweep } from "../lib/plan/grids.ts";
import { FamilyDescriptionSchema } from "../lib/plan/family_description.ts";
import { familyForSweep } from "../lib/plan/study.ts";
import { ConfigError } from "../models/mod.ts";
import { type AppContext, createRouter } from "./context.ts";
import { problem } from "./problem.ts";

const Flops = z.number().positive().finite();

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
  },
});

/**
 * Routes for `/v1/plan`.
 *
 * @param _ctx Shared app context.
 * @returns The router.
 */
export function planRoutes(_ctx: AppContext) {
  return createRouter().openapi(route, (c) => {
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
    const adaptive = body.adaptive === undefined ? undefined : planAdaptive({
      ...template,
      results: body.adaptive.results,
      targetBudget: body.adaptive.target_budget,
      sizesPerBudget: body.sizes_per_budget,
      width: body.width,
      bootstrap: body.adaptive.bootstrap,
      ...(body.adaptive.candidates === undefined ? {} : { candidates: body.adaptive.candidates }),
    });
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
