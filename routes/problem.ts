/**
 * RFC 9457 problem details: the one shape every error response takes.
 *
 * Handlers and library code throw; the app's `onError` turns the throw into an
 * `application/problem+json` response with {@linkcode problemResponse}. Nothing
 * else writes error bodies, and no stack trace ever leaves the process.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { z } from "zod";
import {
  JobCancelledError,
  JobFailedError,
  JobQueueFullError,
  JobRejectedError,
} from "../lib/service/job_pool.ts";
import { LimitExceededError } from "../lib/service/limits.ts";
import {
  TrainingBusyError,
  TrainingCancelledError,
  TrainingFailedError,
  TrainingUnavailableError,
} from "../lib/service/training_pool.ts";

/** Media type of every error body. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** One offending field: a JSON pointer into the request and a sentence about it. */
export interface FieldError {
  /** RFC 6901 pointer into the request body or query, e.g. `#/points/3/N`. */
  pointer: string;
  /** The same location written as a path, e.g. `points[3].N`. */
  field: string;
  /** What is wrong with it. */
  detail: string;
}

/** The members of a problem document (RFC 9457 §3.1) plus flops-fit's extensions. */
export interface Problem {
  /** URI naming the problem type; `about:blank` when the status says it all. */
  type?: string;
  /** Short, human-readable summary of the problem type. */
  title: string;
  /** HTTP status code. */
  status: number;
  /** Explanation specific to this occurrence, naming the field when there is one. */
  detail?: string;
  /** The first offending field's path (extension member). */
  field?: string;
  /** Every offending field (extension member). */
  errors?: FieldError[];
  /** Extra members, e.g. `limit` for a limit that was exceeded. */
  [extension: string]: unknown;
}

/**
 * An error that becomes a problem+json response when thrown from a handler.
 *
 * @example
 * ```ts
 * import { ProblemError } from "./problem.ts";
 * const err = new ProblemError({ status: 422, title: "Invalid request", detail: "points is empty", field: "points" });
 * if (err.problem.status !== 422) throw new Error("unexpected");
 * ```
 */
export class ProblemError extends Error {
  /** The problem document sent to the client. */
  readonly problem: Problem;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;

  /**
   * @param problem The problem document.
   * @param headers Extra response headers.
   */
  constructor(problem: Problem, headers: Record<string, string> = {}) {
    super(problem.detail ?? problem.title);
    this.name = "ProblemError";
    this.problem = problem;
    this.headers = headers;
  }
}

/** Status → title for the statuses this service answers with. */
const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not found",
  405: "Method not allowed",
  408: "Request timeout",
  409: "Conflict",
  413: "Content too large",
  415: "Unsupported media type",
  422: "Invalid request",
  429: "Too many requests",
  499: "Client closed request",
  500: "Internal server error",
  503: "Service unavailable",
  504: "Gateway timeout",
};

/**
 * The standard title for an HTTP status.
 *
 * @param status HTTP status code.
 * @returns A short title, or "Error" for statuses this service does not use.
 */
export function statusTitle(status: number): string {
  return TITLES[status] ?? "Error";
}

/**
 * Write a JSON pointer path as a readable field path: `["points", 3, "N"]` → `points[3].N`.
 *
 * @param path Path segments as zod reports them.
 * @returns The dotted path, or `(body)` for the root.
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(body)" : out;
}

/**
 * Write path segments as an RFC 6901 JSON pointer fragment: `["points", 3]` → `#/points/3`.
 *
 * @param path Path segments.
 * @returns The pointer, `#` for the root.
 */
export function jsonPointer(path: readonly PropertyKey[]): string {
  return "#" +
    path.map((k) => "/" + String(k).replaceAll("~", "~0").replaceAll("/", "~1")).join("");
}

/**
 * Turn zod issues into a 422 problem naming every offending field.
 *
 * @param issues The issues of a failed `safeParse`.
 * @param where Prefix naming what was validated ("body" or "query"), used in pointers.
 * @returns A {@linkcode ProblemError} with status 422.
 */
export function validationProblem(
  issues: readonly z.core.$ZodIssue[],
  where: "body" | "query" | "param" | "header" = "body",
): ProblemError {
  const errors: FieldError[] = issues.slice(0, 50).map((issue) => ({
    pointer: jsonPointer(issue.path),
    field: fieldPath(issue.path),
    detail: issue.message,
  }));
  const first = errors[0];
  const detail = first === undefined
    ? `The request ${where} is invalid.`
    : `${where === "body" ? "" : `${where} `}${first.field}: ${first.detail}` +
      (errors.length > 1 ? ` (and ${issues.length - 1} more)` : "");
  return new ProblemError({
    type: "about:blank",
    title: statusTitle(422),
    status: 422,
    detail,
    ...(first === undefined ? {} : { field: first.field }),
    errors,
  });
}

/** Problem type URIs of the service's own failure classes (RFC 9457 §3.1.1). */
export const PROBLEM_TYPES = {
  limit: "urn:flops-fit:problem:limit-exceeded",
  busy: "urn:flops-fit:problem:busy",
  unavailable: "urn:flops-fit:problem:unavailable",
  cancelled: "urn:flops-fit:problem:cancelled",
  "out-of-memory": "urn:flops-fit:problem:training-out-of-memory",
  invalid: "urn:flops-fit:problem:training-rejected",
  crashed: "urn:flops-fit:problem:training-crashed",
  unauthorized: "urn:flops-fit:problem:unauthorized",
} as const;

/**
 * The problem document and headers for the library's own errors (limits, admission,
 * training failures), or `undefined` for anything else.
 *
 * @param error The thrown value.
 * @returns The problem+json error, or undefined.
 */
export function libraryProblem(error: unknown): ProblemError | undefined {
  if (error instanceof LimitExceededError) {
    return new ProblemError({
      type: PROBLEM_TYPES.limit,
      title: error.status === 413 ? statusTitle(413) : "Limit exceeded",
      status: error.status,
      detail: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      limit: {
        name: error.limitName,
        value: error.value,
        ...(error.actual === undefined ? {} : { actual: error.actual }),
      },
    });
  }
  if (error instanceof JobQueueFullError) {
    return new ProblemError({
      type: PROBLEM_TYPES.busy,
      title: statusTitle(429),
      status: 429,
      detail: error.message,
      limit: { name: "max_queued_fits", value: error.queued },
    }, { "retry-after": String(error.retryAfterS) });
  }
  if (error instanceof JobRejectedError) {
    return new ProblemError({
      // The job's extra members first, so they can never override the standard ones.
      ...error.extra,
      type: "about:blank",
      title: statusTitle(error.status),
      status: error.status,
      detail: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
    });
  }
  if (error instanceof JobCancelledError) {
    return new ProblemError({
      type: PROBLEM_TYPES.cancelled,
      title: statusTitle(499),
      status: 499,
      detail: error.message,
    });
  }
  if (error instanceof JobFailedError) {
    // A bug in the job, not the request: say so without internals.
    return new ProblemError({
      type: "about:blank",
      title: statusTitle(500),
      status: 500,
      detail: "The computation failed unexpectedly; the server is unaffected.",
    });
  }
  if (error instanceof TrainingBusyError) {
    return new ProblemError({
      type: PROBLEM_TYPES.busy,
      title: statusTitle(429),
      status: 429,
      detail: error.message,
      limit: { name: "max_concurrent_trainings", value: error.active },
    }, { "retry-after": String(error.retryAfterS) });
  }
  if (error instanceof TrainingUnavailableError) {
    return new ProblemError({
      type: PROBLEM_TYPES.unavailable,
      title: statusTitle(503),
      status: 503,
      detail: error.message,
    }, { "retry-after": String(error.retryAfterS) });
  }
  if (error instanceof TrainingCancelledError) {
    return new ProblemError({
      type: PROBLEM_TYPES.cancelled,
      title: statusTitle(499),
      status: 499,
      detail: error.message,
    });
  }
  if (error instanceof TrainingFailedError) {
    return new ProblemError({
      // The trainer's extra members first, so they can never override the standard ones.
      ...(error.workerError.extra ?? {}),
      type: PROBLEM_TYPES[error.kind],
      title: error.kind === "out-of-memory"
        ? "Training ran out of memory"
        : error.kind === "invalid"
        ? "Training request rejected"
        : "Training crashed",
      status: error.status,
      detail: error.message,
      ...(error.workerError.field === undefined ? {} : { field: error.workerError.field }),
    });
  }
  return undefined;
}

/** Limit names by the request field a bare numeric `limit` member was raised for. */
const LIMIT_NAME_BY_FIELD: Record<string, string> = {
  body: "max_body_bytes",
  "(body)": "max_body_bytes",
  points: "max_fit_points",
  bootstrap: "max_bootstrap",
  budget: "max_train_flops",
  "budget.flops": "max_train_flops",
  batch_size: "max_batch_size",
};

/**
 * Give a bare numeric `limit` member (`"limit": 20000`) its name, so every problem carries
 * `limit: { name, value }`: the name comes from the field (`points` → `max_fit_points`), or is
 * `<field>_limit` for a limit that is not configurable.
 *
 * @param problem A problem whose `limit` is a number.
 * @returns The `{ name, value }` member.
 */
export function namedLimit(problem: Problem): { name: string; value: number } {
  const field = typeof problem.field === "string" ? problem.field : "request";
  return {
    name: LIMIT_NAME_BY_FIELD[field] ?? `${field.replace(/\W+/g, "_")}_limit`,
    value: problem.limit as number,
  };
}

/**
 * Build the problem+json response for any thrown value.
 *
 * - {@linkcode ProblemError}: its own document and headers.
 * - The library's limit, admission and training errors: see {@linkcode libraryProblem}.
 * - A JSON `SyntaxError` from reading a request body: 400.
 * - Hono's `HTTPException` (malformed JSON, body limit…): its status, with its message.
 * - Anything else: a bare 500 whose detail holds no internals.
 *
 * @param c Hono context of the failed request.
 * @param error The thrown value.
 * @returns The response to send.
 */
export function problemResponse(c: Context, error: unknown): Response {
  let problem: Problem;
  let headers: Record<string, string> = {};
  const fromLibrary = libraryProblem(error);
  if (fromLibrary !== undefined) {
    problem = fromLibrary.problem;
    headers = fromLibrary.headers;
  } else if (error instanceof ProblemError) {
    problem = error.problem;
    headers = error.headers;
  } else if (
    error instanceof SyntaxError && /JSON/i.test(error.message) &&
    !["GET", "HEAD", "OPTIONS"].includes(c.req.method)
  ) {
    // A handler read the body with `c.req.json()` and the client sent something else.
    problem = {
      type: "about:blank",
      title: statusTitle(400),
      status: 400,
      detail: "The request body is not valid JSON.",
      field: "(body)",
    };
  } else if (error instanceof HTTPException) {
    const status = error.status;
    const detail = /json/i.test(error.message) && status === 400
      ? "The request body is not valid JSON."
      : error.message || statusTitle(status);
    problem = { type: "about:blank", title: statusTitle(status), status, detail };
  } else {
    problem = {
      type: "about:blank",
      title: statusTitle(500),
      status: 500,
      detail: "The server failed to handle this request.",
    };
  }
  if (typeof problem.limit === "number") problem = { ...problem, limit: namedLimit(problem) };
  const instance = c.req.path;
  const body = JSON.stringify({ ...problem, instance });
  return new Response(body, {
    status: problem.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
  });
}
