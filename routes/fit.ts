/**
 * `POST /v1/fit`: scaling laws from posted (N, D, loss) points, as JSON or CSV.
 *
 * The route only validates and translates: size limits first (body bytes, point
 * count — both 413 naming the limit, before any per-point validation), then the zod
 * schema (422 naming the field) — the one validation of the request — then
 * {@linkcode fitParsed} on a fit worker with the parsed options, whose `FitInputError`s become
 * problem+json. `?format=markdown` or
 * `Accept: text/markdown` answers the compute-optimal table as markdown.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import {
  type FitOptions,
  fitParsed,
  FitRequestSchema,
  FitResultSchema,
  parsePointsCsv,
} from "../lib/fit/mod.ts";
import { type AppContext, createRouter } from "./context.ts";
import { problem, validationProblem } from "./problem.ts";
import { LimitExceededError } from "../lib/errors.ts";
import { fitOptionsFromQuery, FitQuerySchema, unknownFitQueryParameter } from "./fit_query.ts";

export { FitQuerySchema };

/** Media type of CSV bodies. */
const CSV = "text/csv";
/** Media type of the markdown answer. */
const MARKDOWN = "text/markdown; charset=utf-8";

const route = createRoute({
  method: "post",
  path: "/v1/fit",
  tags: ["fit"],
  summary: "Fit Chinchilla Approaches 2 and 3 to trained runs",
  description: "Post (N, D, loss) of trained runs as JSON or as CSV (header `N,D,loss[,C]`); " +
    "get IsoFLOP parabolas and power laws, the parametric law, bootstrap intervals, " +
    "the compute-optimal table and warnings.",
  request: {
    query: FitQuerySchema,
    body: {
      required: false,
      content: {
        "application/json": { schema: FitRequestSchema },
        [CSV]: {
          schema: z.string().openapi({ example: "N,D,loss\n1.2e8,2.4e9,3.1\n" }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "The fit (JSON), or its table (markdown).",
      content: {
        "application/json": { schema: FitResultSchema },
        "text/markdown": { schema: z.string() },
      },
    },
    413: { description: "Body or point count over the configured limit." },
    415: { description: "Neither JSON nor CSV." },
    422: { description: "Invalid points or options; `field` names the culprit." },
  },
});

/**
 * Count JSON points before zod looks at each one. (Body bytes are limited by the app's
 * `bodySizeLimit` guard before this runs.)
 */
function limitBody(ctx: AppContext): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (!/json/i.test(type)) return await next();
    const text = await c.req.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw problem(400, "The request body is not valid JSON.", { field: "(body)" });
    }
    const points = (body as { points?: unknown } | null)?.points;
    const maxPoints = ctx.config.maxFitPoints;
    if (Array.isArray(points) && points.length > maxPoints) {
      throw new LimitExceededError({
        name: "max_fit_points",
        value: maxPoints,
        actual: points.length,
        field: "points",
        status: 413,
        message:
          `${points.length} points exceed the limit of ${maxPoints} per fit (FLOPS_FIT_MAX_FIT_POINTS)`,
      });
    }
    // Hand the parsed body to the validator so it is not parsed twice.
    c.req.bodyCache.json = Promise.resolve(body);
    await next();
  };
}

/** Build the request object from a CSV body and the query's options. */
function csvRequest(
  text: string,
  query: Record<string, string | undefined>,
  maxPoints: number,
) {
  const { points, lines } = parsePointsCsv(text, maxPoints);
  const body: Record<string, unknown> = { ...fitOptionsFromQuery(query), points };
  const parsed = FitRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [head, index, column] = issue.path;
    if (head === "points" && typeof index === "number") {
      // Points came from CSV: name the line and column rather than an array index.
      const where = `csv line ${lines[index]}` +
        (column === undefined ? "" : ` column ${String(column)}`);
      throw problem(422, `${where}: ${issue.message}`, { field: where });
    }
    throw validationProblem(parsed.error.issues, "query");
  }
  return parsed.data;
}

function wantsMarkdown(c: Context, format: string | undefined): boolean {
  if (format !== undefined) return format === "markdown";
  return /text\/markdown/i.test(c.req.header("accept") ?? "");
}

/**
 * Routes for `/v1/fit`.
 *
 * @param ctx Shared app context (limits come from its configuration).
 * @returns The router.
 */
export function fitRoutes(ctx: AppContext) {
  return createRouter().openapi({ ...route, middleware: [limitBody(ctx)] }, async (c) => {
    const query = c.req.valid("query") as Record<string, string | undefined>;
    const unknown = unknownFitQueryParameter(Object.keys(c.req.queries()));
    if (unknown !== undefined) {
      throw problem(422, `query ${unknown}: unknown parameter`, { field: `query.${unknown}` });
    }
    const type = c.req.header("content-type") ?? "";
    let request: FitOptions;
    if (/text\/csv/i.test(type)) {
      request = csvRequest(await c.req.text(), query, ctx.config.maxFitPoints);
    } else {
      const optionKeys = Object.keys(query).filter((k) => k !== "format");
      if (optionKeys.length > 0) {
        throw problem(
          422,
          `query ${optionKeys[0]}: with a JSON body, put options in the body`,
          { field: `query.${optionKeys[0]}` },
        );
      }
      // Parsed once by the route's zod validator; an omitted `bootstrap` stays undefined, so
      // the fitter can lower a default count and refuse an explicit one.
      const body: unknown = c.req.valid("json");
      if (typeof body !== "object" || body === null || !("points" in body)) {
        throw problem(415, "Send the points as application/json or text/csv.");
      }
      request = body as FitOptions;
    }
    // On a fit worker, so this thread keeps answering while the fit runs (job_pool.ts); its
    // FitInputError maps to problem+json like every library error (routes/problem.ts).
    const result = await ctx.fitPool.run<ReturnType<typeof fitParsed>>("fitParsed", [
      request,
      { maxPoints: ctx.config.maxFitPoints, maxBootstrap: ctx.config.maxBootstrap },
    ], { signal: c.req.raw.signal });
    if (wantsMarkdown(c, query.format)) {
      return c.body(result.markdown, 200, { "content-type": MARKDOWN });
    }
    return c.json(result, 200);
  });
}
