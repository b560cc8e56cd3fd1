/**
 * `POST /v1/train`: train one sweep point and answer with its parameters, FLOPs and losses —
 * as one JSON document, or as a stream of progress events (`text/event-stream` or
 * `application/x-ndjson`) whose last event is the result.
 *
 * The request is planned once, on this thread — family, config divisibility, dataset, steps,
 * micro-batch for the backend's memory, then the service's limits on the plan's exact cost — so
 * bad input is a 4xx problem+json and never a half-run. The training worker trains that plan
 * (`lib/service/train_entry.ts`). The run goes through the app's training pool
 * (`lib/service/training_pool.ts`), which owns every deadline: at most K at once (the rest 429
 * with `Retry-After`), each in its own Web Worker so this thread keeps answering, stopped at
 * `timeout_s` (408) or the wall-time limit (422 `max_train_wall_s`); a client that goes away
 * terminates the worker, which frees all its memory.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { probeBackend } from "../lib/backend/select.ts";
import { registryResolver } from "../lib/train/datasets.ts";
import { type DatasetResolver, planData, planTraining } from "../lib/train/run_plan.ts";
import { TrainRequestSchema, TrainResultSchema } from "../lib/train/request.ts";
import type { TrainRequest, TrainResult } from "../lib/train/request.ts";
import { checkTrainingLimits, limitsOf } from "../lib/service/limits.ts";
import { runTrainingInWorker, type TrainingPool } from "../lib/service/training_pool.ts";
import { type AppContext, createRouter } from "./context.ts";
import { asProblem, type Problem, problem } from "./problem.ts";

/** Media types of the streamed answers. */
const SSE = "text/event-stream";
const NDJSON = "application/x-ndjson";

const route = createRoute({
  method: "post",
  path: "/v1/train",
  tags: ["train"],
  summary: "Train one sweep point (one model size on one budget)",
  description: "Trains a model of the named family on the dataset for the given budget. " +
    "With `Accept: text/event-stream` or `application/x-ndjson`, progress events stream during " +
    "training and the result is the last event (`result`, or `error` with a problem document).",
  request: {
    body: { required: true, content: { "application/json": { schema: TrainRequestSchema } } },
  },
  responses: {
    200: {
      description: "The finished run (or, when asked, its event stream).",
      content: {
        "application/json": { schema: TrainResultSchema },
        [SSE]: { schema: z.string() },
        [NDJSON]: { schema: z.string() },
      },
    },
    422: { description: "Invalid request (the problem names the field)." },
  },
});

/** Options of {@linkcode trainRoutes}. */
export interface TrainRouteOptions {
  /** Dataset lookup; defaults to the trainer's default registry. */
  resolveDataset?: DatasetResolver;
}

/** What a training failure that states no problem of its own answers: a 500. */
const TRAINING_FAILED = "Training failed.";

/**
 * One event in the chosen streaming format. An NDJSON event's `type` is the event's (`progress`,
 * `result`, `error`), never a field of the data: an error event carries the problem's members at
 * the top (`status`, `detail`, … as docs/train_contract.md reads them) and the problem document
 * whole, its own `type` URI included, under `problem`. An SSE event names its type on the
 * `event:` line and sends the data (the problem document, for an error) as it is.
 */
export function frame(format: "sse" | "ndjson", type: string, data: object): string {
  if (format === "sse") return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const { type: _own, ...rest } = data as Record<string, unknown>;
  return `${JSON.stringify({ type, ...rest, ...(type === "error" ? { problem: data } : {}) })}\n`;
}

/** Stream progress events, then the result (or an error problem) last. */
function streamRun(
  request: TrainRequest,
  options: {
    format: "sse" | "ndjson";
    signal: AbortSignal;
    pool: TrainingPool;
    trainerOptions: Record<string, unknown>;
    deadline?: { seconds: number; field: string };
  },
  instance: string,
): Response {
  const encoder = new TextEncoder();
  const abort = new AbortController();
  const onClientGone = () => abort.abort(new DOMException("Client went away.", "AbortError"));
  options.signal.addEventListener("abort", onClientGone, { once: true });
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (type: string, data: object) => {
        try {
          controller.enqueue(encoder.encode(frame(options.format, type, data)));
        } catch {
          // The consumer is gone; cancellation is already under way.
        }
      };
      runTrainingInWorker<TrainResult>(request, {
        pool: options.pool,
        signal: abort.signal,
        trainerOptions: options.trainerOptions,
        ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
        onProgress: (event) => send((event as { type: string }).type, event as object),
      }).then(
        (result) => send("result", result),
        (error) => {
          const stated: Problem = (asProblem(error) ?? problem(500, TRAINING_FAILED)).problem;
          send("error", { ...stated, instance });
        },
      ).finally(() => {
        options.signal.removeEventListener("abort", onClientGone);
        try {
          controller.close();
        } catch {
          // Already closed by a cancel.
        }
      });
    },
    cancel() {
      onClientGone();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": options.format === "sse" ? SSE : NDJSON,
      "cache-control": "no-cache",
    },
  });
}

/**
 * Routes for `/v1/train`.
 *
 * @param ctx Shared app context (limits from its configuration, the training pool).
 * @param options Dataset lookup.
 * @returns The router.
 */
export function trainRoutes(ctx: AppContext, options: TrainRouteOptions = {}) {
  // Names come from clients: no absolute paths, local files only under the data directory.
  const resolveDataset = options.resolveDataset ??
    registryResolver({ dataDir: ctx.config.dataDir, allowAbsolutePaths: false });
  return createRouter().openapi(route, async (c) => {
    const request = c.req.valid("json") as TrainRequest;
    const signal = c.req.raw.signal;
    let trainerOptions: Record<string, unknown>;
    try {
      // Plan once, here: the backend's name and memory come from a probe that starts nothing
      // (no OpenBLAS load, no kernel build, no tfjs backend on this thread).
      const backendOptions = { choice: ctx.config.backend };
      const backend = await probeBackend(backendOptions);
      const plan = planTraining(request, {
        resolveDataset,
        activationBudgetBytes: backend.activationBudgetBytes,
        backendName: backend.name,
      });
      // The service's limits, on the plan's exact cost (the FLOP cap names max_train_flops
      // whatever kind of budget was given).
      checkTrainingLimits(limitsOf(ctx.config), {
        flops: plan.flops,
        budgetField: plan.budgetField,
        params: plan.params.total,
        batchSize: plan.batchSize,
      });
      // Refuse now (429/503) rather than inside a 200 event stream.
      ctx.trainingPool.assertAdmissible();
      // What the worker's trainer gets: the plan as plain data, trained as it is.
      trainerOptions = {
        plan: planData(plan),
        backend: backendOptions,
        ...(ctx.config.dataDir === undefined ? {} : { dataDir: ctx.config.dataDir }),
      };
    } catch (error) {
      throw asProblem(error) ?? problem(500, TRAINING_FAILED);
    }
    // The pool owns every deadline: the request's timeout_s and the server's wall-time limit.
    const deadline = request.timeout_s === undefined
      ? undefined
      : { seconds: request.timeout_s, field: "timeout_s" };
    const accept = c.req.header("accept") ?? "";
    const format = accept.includes(SSE) ? "sse" : accept.includes(NDJSON) ? "ndjson" : undefined;
    if (format !== undefined) {
      return streamRun(
        request,
        { format, signal, pool: ctx.trainingPool, trainerOptions, deadline },
        c.req.path,
      );
    }
    try {
      const result = await runTrainingInWorker<TrainResult>(request, {
        pool: ctx.trainingPool,
        signal,
        trainerOptions,
        ...(deadline === undefined ? {} : { deadline }),
      });
      return c.json(result, 200);
    } catch (error) {
      throw asProblem(error) ?? problem(500, TRAINING_FAILED);
    }
  });
}
