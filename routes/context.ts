/**
 * What every route module receives: the parsed configuration and shared services.
 *
 * Kept apart from `mod.ts` so route modules can import the type without a cycle.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { ServiceConfig } from "../lib/service/config.ts";
import type { JobPool } from "../lib/service/job_pool.ts";
import type { TrainingPool } from "../lib/service/training_pool.ts";
import { validationProblem } from "./problem.ts";

/** Dependencies shared by all routes of one app instance. */
export interface AppContext {
  /** Validated service configuration. */
  config: ServiceConfig;
  /** `performance.now()` when the app was built, for uptime. */
  startedAtMs: number;
  /**
   * Runs trainings off the request thread, at most `maxConcurrentTrainings` at once:
   * the train route calls `runTrainingInWorker(request, { pool: ctx.trainingPool, signal, onProgress })`.
   */
  trainingPool: TrainingPool;
  /** Runs fits off the request thread: `ctx.fitPool.run("fitScalingLaws", [request, limits])`. */
  fitPool: JobPool;
}

/**
 * A sub-app whose zod validation failures become 422 problem+json naming the field.
 *
 * Every route module builds its router with this, so there is one place that
 * formats validation errors.
 *
 * @returns A fresh `OpenAPIHono` router.
 */
export function createRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === "json" || result.target === "form" ? "body" : result.target;
        throw validationProblem(
          result.error.issues,
          where === "query" || where === "param" || where === "header" ? where : "body",
        );
      }
    },
  });
}
