/**
 * `/v1/datasets`: the dataset registry over HTTP — metadata, readiness, preparation, and batches
 * as JSON or as a compact binary body.
 *
 * Binary batches (`Accept: application/octet-stream`) are the arrays of the batch, little-endian,
 * one after another in the order the `x-batch-arrays` header lists them with dtype and shape, e.g.
 * `images=float32[4,32,32,3]; labels=int32[4]`.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  type Batch,
  type Dataset,
  getDataset,
  listDatasets,
  NotPreparedError,
  PreparationTracker,
  resolveDataDir,
  takeExamples,
  UnknownSplitError,
} from "../data/mod.ts";
import { type AppContext, createRouter } from "./context.ts";
import { asProblem, type Problem, problem, ProblemError } from "./problem.ts";
import { BatchSchema, binaryResponse, jsonBody } from "./batch_encoding.ts";

/** Most examples one `…/batches` request may ask for (more → 422 naming `limit`). */
export const BATCH_LIMIT_CAP = 256;
/** Longest text context one request may ask for. */
export const BATCH_CONTEXT_CAP = 1024;
/** How long `POST …/prepare` waits before answering 202 and carrying on in the background. */
export const PREPARE_WAIT_MS = 20_000;

/** Where the routes find datasets; tests inject their own. */
export interface DatasetRegistry {
  /** Listed datasets. */
  list(): readonly Dataset[];
  /** A dataset by name (HTTP callers never get absolute local paths). */
  get(name: string, options: { dataDir?: string; allowAbsolutePaths: false }): Dataset;
}

const defaultRegistry: DatasetRegistry = { list: listDatasets, get: getDataset };

const SplitSchema = z.object({ examples: z.number().int(), tokens: z.number().int().optional() });

/** Metadata of one dataset, with local readiness. */
export const DatasetSchema = z.object({
  name: z.string(),
  description: z.string(),
  modality: z.enum(["image", "text"]),
  splits: z.record(z.string(), SplitSchema),
  image: z.object({
    height: z.number().int(),
    width: z.number().int(),
    channels: z.number().int(),
    classes: z.array(z.string()),
  }).optional(),
  text: z.object({ tokenizer: z.string(), vocab_size: z.number().int() }).optional(),
  source_url: z.string().optional(),
  license: z.string(),
  checksum: z.record(z.string(), z.string()).optional(),
  entropy_nats: z.number().optional().openapi({
    description: "Irreducible loss (nats per token or per example) when known exactly.",
  }),
  ready: z.boolean().openapi({ description: "Available locally without a download." }),
  preparing: z.boolean().optional(),
  progress: z.string().optional(),
  last_error: z.string().optional(),
}).openapi("Dataset");

const NameParam = z.object({
  name: z.string().min(1).max(1024).openapi({
    param: { name: "name", in: "path" },
    description: "Registry name, or `text-file:<path>` / `cifar-file:<path>` (URL-encoded) " +
      "relative to `<data dir>/files/`.",
    example: "synthetic-text",
  }),
});

const BatchQuery = z.object({
  split: z.string().min(1).max(64).optional().openapi({ description: "Default: first split." }),
  offset: z.coerce.number().int().min(0).default(0).openapi({
    description: "First example in the seeded order of the split.",
  }),
  limit: z.coerce.number().int().min(1).max(BATCH_LIMIT_CAP).default(16),
  seed: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  context: z.coerce.number().int().min(1).max(BATCH_CONTEXT_CAP).default(128).openapi({
    description: "Sequence length (text datasets).",
  }),
  augment: z.enum(["true", "false"]).default("false").openapi({
    description: "Random crop + flip (image datasets).",
  }),
});

const PrepareSchema = z.object({
  name: z.string(),
  ready: z.boolean(),
  elapsed_s: z.number(),
  progress: z.string().optional(),
}).openapi("Preparation");

const problemContent = { "application/problem+json": { schema: z.object({}).passthrough() } };

const listRoute = createRoute({
  method: "get",
  path: "/v1/datasets",
  tags: ["datasets"],
  summary: "The dataset registry",
  responses: {
    200: {
      description: "Every registered dataset with its metadata and local readiness.",
      content: { "application/json": { schema: z.object({ datasets: z.array(DatasetSchema) }) } },
    },
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/datasets/{name}",
  tags: ["datasets"],
  summary: "One dataset's metadata",
  request: { params: NameParam },
  responses: {
    200: { description: "Metadata.", content: { "application/json": { schema: DatasetSchema } } },
    400: { description: "Malformed name or path traversal.", content: problemContent },
    404: { description: "Unknown dataset.", content: problemContent },
  },
});

const batchesRoute = createRoute({
  method: "get",
  path: "/v1/datasets/{name}/batches",
  tags: ["datasets"],
  summary: "Examples in seeded order, as JSON or binary",
  description: "`Accept: application/octet-stream` gives the arrays little-endian, back to back, " +
    "described by the `x-batch-arrays` header (e.g. `images=float32[4,32,32,3]; labels=int32[4]`).",
  request: { params: NameParam, query: BatchQuery },
  responses: {
    200: {
      description: "The examples `[offset, offset + limit)` (clipped to the split).",
      content: {
        "application/json": { schema: BatchSchema },
        "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
      },
    },
    400: { description: "Malformed name or path traversal.", content: problemContent },
    404: { description: "Unknown dataset.", content: problemContent },
    409: { description: "Not prepared yet: POST …/prepare first.", content: problemContent },
    422: {
      description: "Unknown split, offset past the end, limit over the cap.",
      content: problemContent,
    },
  },
});

const prepareRoute = createRoute({
  method: "post",
  path: "/v1/datasets/{name}/prepare",
  tags: ["datasets"],
  summary: "Download and verify now",
  request: { params: NameParam },
  responses: {
    200: { description: "Ready.", content: { "application/json": { schema: PrepareSchema } } },
    202: {
      description: "Still preparing in the background; poll `GET /v1/datasets/{name}`.",
      content: { "application/json": { schema: PrepareSchema } },
    },
    401: {
      description: "FLOPS_FIT_TOKEN is set and the bearer token is missing or wrong.",
      content: problemContent,
    },
    404: {
      description: "Unknown dataset, or a local file that does not exist.",
      content: problemContent,
    },
    503: {
      description: "Download failed or checksum mismatch (names URL, checksum, path).",
      content: problemContent,
    },
  },
});

/**
 * The data parsers' plain errors as problems (std convention: `SyntaxError` for a bad file,
 * `RangeError` for bad options, `NotFound` for a missing file). The data layer's own errors are
 * library errors and go through the one table (routes/problem.ts) as they are.
 *
 * @param error What the data layer threw.
 * @returns A problem, or the error itself.
 */
function toProblem(error: unknown, hide: (text: string) => string = (t) => t): unknown {
  const known = asProblem(error);
  if (known !== undefined) {
    const { detail, manual_path: manualPath } = known.problem as Problem & {
      manual_path?: unknown;
    };
    return new ProblemError({
      ...known.problem,
      ...(detail === undefined ? {} : { detail: hide(detail) }),
      ...(typeof manualPath === "string" ? { manual_path: hide(manualPath) } : {}),
    }, known.headers);
  }
  const detail = hide(error instanceof Error ? error.message : String(error));
  if (error instanceof Deno.errors.NotFound) return problem(404, detail, { field: "name" });
  if (error instanceof SyntaxError || error instanceof RangeError) return problem(422, detail);
  return error;
}

/**
 * A function that writes `<data dir>` for the data directory (as configured and as its real
 * path) wherever it appears in a text: no answer names an absolute server path.
 *
 * @param dataDir The configured data directory, if any.
 * @returns The rewriting function.
 *
 * @example
 * ```ts
 * import { hideDataDir } from "./datasets.ts";
 * const hide = hideDataDir("/srv/data");
 * if (hide("put it at /srv/data/cifar.tgz") !== "put it at <data dir>/cifar.tgz") throw new Error();
 * ```
 */
export function hideDataDir(dataDir: string | undefined): (text: string) => string {
  const dir = resolveDataDir(dataDir).replace(/\/+$/, "");
  const dirs = new Set([dir]);
  try {
    dirs.add(Deno.realPathSync(dir));
  } catch {
    // Not there yet: only the configured spelling can appear.
  }
  const longestFirst = [...dirs].filter((d) => d.length > 1).sort((a, b) => b.length - a.length);
  return (text) => longestFirst.reduce((t, d) => t.split(d).join("<data dir>"), text);
}

/**
 * Routes for `/v1/datasets`.
 *
 * @param ctx Shared app context (its `config.dataDir` is the cache directory).
 * @param registry Where datasets come from. @default the `data/mod.ts` registry
 * @returns The router.
 */
export function datasetRoutes(ctx: AppContext, registry: DatasetRegistry = defaultRegistry) {
  const dataDir = ctx.config.dataDir;
  const hide = hideDataDir(dataDir);
  const tracker = new PreparationTracker();
  const find = (name: string) => {
    try {
      return registry.get(name, { dataDir, allowAbsolutePaths: false });
    } catch (error) {
      throw toProblem(error, hide);
    }
  };
  const isReady = async (dataset: Dataset) => {
    try {
      return await dataset.isReady({ dataDir });
    } catch (error) {
      throw toProblem(error, hide);
    }
  };
  const describe = async (dataset: Dataset) => {
    const ready = await isReady(dataset);
    const status = tracker.status(dataset.info.name, dataDir);
    return {
      ...dataset.info,
      description: hide(dataset.info.description),
      ready,
      ...(status?.running ? { preparing: true } : {}),
      ...(status?.progress === undefined ? {} : { progress: status.progress }),
      ...(status?.error === undefined ? {} : { last_error: hide(status.error) }),
    };
  };

  return createRouter()
    .openapi(listRoute, async (c) => {
      const datasets = await Promise.all(registry.list().map(describe));
      return c.json({ datasets }, 200);
    })
    .openapi(getRoute, async (c) => c.json(await describe(find(c.req.valid("param").name)), 200))
    .openapi(batchesRoute, async (c) => {
      const dataset = find(c.req.valid("param").name);
      const q = c.req.valid("query");
      const info = dataset.info;
      if (!(await isReady(dataset))) throw toProblem(new NotPreparedError(info.name), hide);
      const split = q.split ?? Object.keys(info.splits)[0]!;
      const size = info.splits[split]?.examples;
      if (size === undefined) {
        throw toProblem(new UnknownSplitError(info.name, split, Object.keys(info.splits)), hide);
      }
      if (q.offset >= size) {
        throw problem(
          422,
          `offset ${q.offset} is past the end of split ${split} (${size} examples).`,
          { field: "offset" },
        );
      }
      const count = Math.min(q.limit, size - q.offset);
      let merged: Batch;
      try {
        merged = await takeExamples(dataset, {
          split,
          seed: q.seed,
          offset: q.offset,
          count,
          context: q.context,
          augment: q.augment === "true",
          dataDir,
        });
      } catch (error) {
        throw toProblem(error, hide);
      }
      const head = { dataset: info.name, split, seed: q.seed, offset: q.offset, count };
      if ((c.req.header("accept") ?? "").includes("application/octet-stream")) {
        return binaryResponse(merged, head);
      }
      return c.json({ ...head, ...jsonBody(merged) }, 200);
    })
    .openapi(prepareRoute, async (c) => {
      // The bearer token (when FLOPS_FIT_TOKEN is set) is checked by the app's guard on this
      // path (`PROTECTED_PATHS` in routes/mod.ts), in constant time.
      const dataset = find(c.req.valid("param").name);
      const started = performance.now();
      let done: boolean;
      try {
        done = await tracker.prepare(dataset, { dataDir, waitMs: PREPARE_WAIT_MS });
      } catch (error) {
        throw toProblem(error, hide);
      }
      const progress = tracker.status(dataset.info.name, dataDir)?.progress;
      const body = {
        name: dataset.info.name,
        ready: done,
        elapsed_s: (performance.now() - started) / 1000,
        ...(progress === undefined ? {} : { progress }),
      };
      return done ? c.json(body, 200) : c.json(body, 202);
    });
}
