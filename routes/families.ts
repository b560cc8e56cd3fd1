/**
 * `GET /v1/families` and `GET /v1/families/{name}`: the train contract's family tables — every
 * buildable size of a model family with the parameter count the law uses and the exact training
 * FLOPs per sample. flops-fit answers them from `models/` (`describeFamily`), with the numbers
 * its own `POST /v1/train` reports; a foreign trainer serves the same shape for its own models
 * (see `docs/train_contract.md`).
 *
 * The table depends on what is fixed for every size: `config` (a JSON object, e.g.
 * `{"context":16}`) and the `dataset` (vocabulary, image shape), both optional query parameters
 * the sweep sends.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type DatasetInfo, getDataset } from "../data/mod.ts";
import { describeFamily, FamilyDescriptionSchema, FamilyListSchema } from "../lib/plan/mod.ts";
import { ConfigError, familyNames, getFamily } from "../models/mod.ts";
import { type AppContext, createRouter } from "./context.ts";
import { problem } from "./problem.ts";

const problemContent = { "application/problem+json": { schema: z.object({}).passthrough() } };

const TableQuery = z.object({
  dataset: z.string().min(1).max(1024).optional().openapi({
    description: "Dataset the sizes are built for (vocabulary, image shape).",
    example: "synthetic-text",
  }),
  config: z.string().max(10_000).optional().openapi({
    description: "Config fields fixed for every size, as a JSON object (the sweep's `model`).",
    example: '{"context":16}',
  }),
});

const NameParam = z.object({
  name: z.string().min(1).max(64).openapi({
    param: { name: "name", in: "path" },
    example: "gpt",
  }),
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/families",
  tags: ["train"],
  summary: "Every model family this trainer builds, with its size table",
  request: { query: TableQuery },
  responses: {
    200: {
      description: "One FamilyDescription per family (default config when none is given).",
      content: { "application/json": { schema: FamilyListSchema } },
    },
    422: { description: "Malformed `config` or unknown `dataset`.", content: problemContent },
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/families/{name}",
  tags: ["train"],
  summary: "One model family's buildable sizes, parameter and FLOP counts",
  description: "`sizes` ascend in `size` and `params`; `params` is every trainable parameter, " +
    "`non_embedding_params` Kaplan's N, `flops_per_sample` 3 × 2 × the matmul multiply-adds " +
    "of one sample's forward pass — the same numbers `POST /v1/train` reports.",
  request: { params: NameParam, query: TableQuery },
  responses: {
    200: {
      description: "The family's table.",
      content: { "application/json": { schema: FamilyDescriptionSchema } },
    },
    404: { description: "No family of that name.", content: problemContent },
    422: {
      description: "Malformed `config`, a config field the family rejects, or unknown `dataset`.",
      content: problemContent,
    },
  },
});

/** The fixed config and dataset metadata of a table request. */
function tableOptions(
  query: { dataset?: string | undefined; config?: string | undefined },
  dataDir: string | undefined,
): { model?: Record<string, unknown>; data?: DatasetInfo } {
  let model: Record<string, unknown> | undefined;
  if (query.config !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.config);
    } catch (error) {
      throw problem(422, `config is not JSON: ${(error as Error).message}`, { field: "config" });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw problem(422, "config must be a JSON object of config fields.", { field: "config" });
    }
    model = parsed as Record<string, unknown>;
  }
  let data: DatasetInfo | undefined;
  if (query.dataset !== undefined) {
    try {
      data = getDataset(query.dataset, {
        ...(dataDir === undefined ? {} : { dataDir }),
        allowAbsolutePaths: false,
      }).info;
    } catch (error) {
      throw problem(422, (error as Error).message, { field: "dataset" });
    }
  }
  return { ...(model === undefined ? {} : { model }), ...(data === undefined ? {} : { data }) };
}

/** The table, with the family's config and dataset errors as 422s naming the field. */
function describe(name: string, options: ReturnType<typeof tableOptions>) {
  try {
    return describeFamily(name, options);
  } catch (error) {
    if (error instanceof ConfigError) {
      const field = error.field === "dataset" ? "dataset" : `config.${error.field}`;
      throw problem(422, error.message, { field });
    }
    throw error;
  }
}

/**
 * Routes for `/v1/families`.
 *
 * @param ctx Shared app context (its `config.dataDir` locates local datasets).
 * @returns The router.
 */
export function familyRoutes(ctx: AppContext) {
  const dataDir = ctx.config.dataDir;
  return createRouter()
    .openapi(listRoute, (c) => {
      const options = tableOptions(c.req.valid("query"), dataDir);
      const families = familyNames()
        // A dataset fixes one modality: list the families that can train on it.
        .filter((name) =>
          options.data === undefined || getFamily(name)!.modality === options.data.modality
        )
        .map((name) => describe(name, options));
      return c.json({ families }, 200);
    })
    .openapi(getRoute, (c) => {
      const { name } = c.req.valid("param");
      const family = getFamily(name);
      if (family === undefined) {
        throw problem(
          404,
          `Unknown model family ${name}; known: ${familyNames().join(", ")}.`,
          { field: "name" },
        );
      }
      const options = tableOptions(c.req.valid("query"), dataDir);
      if (options.data !== undefined && options.data.modality !== family.modality) {
        throw problem(
          422,
          `Family ${name} trains on ${family.modality} data; ${options.data.name} is ` +
            `${options.data.modality}.`,
          { field: "dataset" },
        );
      }
      return c.json(describe(name, options), 200);
    });
}
