/**
 * `POST /v1/train`: train one sweep point and answer with its parameters, FLOPs and losses —
 * as one JSON document, or as a stream of progress events (`text/event-stream` or
 * `application/x-ndjson`) whose last event is the result.
 *
 * Every check (family, config divisibility, dataset, budget cap, memory) runs before training,
 * so bad input is a 4xx problem+json and never a half-run. The run itself goes through the
 * app's training pool (`lib/service/training_pool.ts`): at most K at once (the rest 429 with
 * `Retry-After`), each in its own Web Worker so this thread keeps answering, stopped at the
 * wall-time limit; a client that goes away terminates the worker, which frees all its memory.
 *
 * @module
 */
import { createRoute, z } from "@hono/zod-openapi";
import { BackendError } from "../lib/backend/select.ts";
import { registryResolver } from "../lib/train/datasets.ts";
import type { DatasetResolver } from "../lib/train/plan.ts";
import { TrainingError, TrainInputError } from "../lib/train/errors.ts";
import { TrainRequestSchema, TrainResultSchema } from "../lib/train/request.ts";
import type { TrainRequest } from "../lib/train/request.ts";
import { prepareTraining } from "../lib/train/train.ts";
import type { TrainResult } from "../lib/train/request.ts";
import { checkTrainingLimits, limitsOf } from "../lib/service/limits.ts";
import {
  runTrainingInWorker,
  TrainingFailedError,
  type TrainingPool,
} from "../lib/service/training_pool.ts";
import { type AppContext, createRouter } from "./context.ts";
import { libraryProblem, type Problem, ProblemError, statusTitle } from "./problem.ts";

/** Media types of the streamed answers. */
const SSE = "text/event-stream";
const NDJSON = "application/x-ndjson";

/** Status of a run the client cancelled (nginx's convention; nobody reads it once gone). */
const CLIENT_CLOSED_STATUS = 499;

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

/** A thrown value as a problem document. */
function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  // The request's own timeout_s fired inside the training worker.
  const timedOut = error instanceof TrainingFailedError &&
    error.workerError.name === "TimeoutError";
  // Limits, admission, cancellation and worker failures from the training pool.
  const fromPool = timedOut ? undefined : libraryProblem(error);
  if (fromPool !== undefined) return fromPool;
  if (error instanceof TrainInputError) {
    return new ProblemError({
      type: "about:blank",
      title: statusTitle(error.status),
      status: error.status,
      detail: error.message,
      field: error.field,
      ...error.extra,
    });
  }
  if (timedOut || (error instanceof DOMException && error.name === "TimeoutError")) {
    return new ProblemError({
      type: "about:blank",
      title: statusTitle(408),
      status: 408,
      detail: "The run exceeded its timeout_s and was stopped.",
      field: "timeout_s",
    });
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return new ProblemError({
      type: "about:blank",
      title: statusTitle(CLIENT_CLOSED_STATUS),
      status: CLIENT_CLOSED_STATUS,
      detail: "The run was cancelled.",
    });
  }
  if (error instanceof BackendError) {
    return new ProblemError({
      type: "about:blank",
      title: statusTitle(503),
      status: 503,
      detail: error.message,
    });
  }
  if (error instanceof TrainingError) {
    return new ProblemError({
      type: "about:blank",
      title: statusTitle(error.status),
      status: error.status,
      detail: error.message,
    });
  }
  return new ProblemError({
    type: "about:blank",
    title: statusTitle(500),
    status: 500,
    detail: "Training failed.",
  });
}

/** One event in the chosen streaming format. */
function frame(format: "sse" | "ndjson", type: string, data: object): string {
  return format === "sse"
    ? `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`
    : `${JSON.stringify({ type, ...data })}\n`;
}

/** Stream progress events, then the result (or an error problem) last. */
function streamRun(
  request: TrainRequest,
  options: {
    format: "sse" | "ndjson";
    signal: AbortSignal;
    pool: TrainingPool;
    trainerOptions: Record<string, unknown>;
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
        onProgress: (event) => send((event as { type: string }).type, event as object),
      }).then(
        (result) => send("result", result),
        (error) => {
          const problem: Problem = toProblem(error).problem;
          send("error", { ...problem, instance });
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
 * @param ctx Shared app context (the FLOP cap comes from `config.maxTrainFlops`).
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
    // What the worker's trainer gets: plain data only (the resolver is rebuilt in the worker).
    const trainerOptions = {
      maxTrainFlops: ctx.config.maxTrainFlops,
      backend: { env: { FLOPS_FIT_BACKEND: ctx.config.backend } },
      ...(ctx.config.dataDir === undefined ? {} : { dataDir: ctx.config.dataDir }),
    };
    const trainOptions = { ...trainerOptions, resolveDataset };
    try {
      const { plan } = await prepareTraining(request, trainOptions);
      checkTrainingLimits(limitsOf(ctx.config), {
        params: plan.params.total,
        batchSize: plan.batchSize,
      });
      // Refuse now (429/503) rather than inside a 200 event stream.
      ctx.trainingPool.assertAdmissible();
    } catch (error) {
      throw toProblem(error);
    }
    const accept = c.req.header("accept") ?? "";
    const format = accept.includes(SSE) ? "sse" : accept.includes(NDJSON) ? "ndjson" : undefined;
    if (format !== undefined) {
      return streamRun(
        request,
        { format, signal, pool: ctx.trainingPool, trainerOptions },
        c.req.path,
      );
    }
    try {
      const result = await runTrainingInWorker<TrainResult>(request, {
        pool: ctx.trainingPool,
        signal,
        trainerOptions,
      });
      return c.json(result, 200);
    } catch (error) {
      throw toProblem(error);
    }
  });
}
