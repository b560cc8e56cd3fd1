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
import { fieldPath, FlopsFitError, LimitExceededError, summarizeIssues } from "../lib/errors.ts";
import {
  BusyError,
  CancelledError,
  UnavailableError,
  WorkerFailedError,
} from "../lib/service/pool_errors.ts";

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
    : `${where === "body" ? "" : `${where} `}${summarizeIssues(issues).detail}`;
  return problem(422, detail, { ...(first === undefined ? {} : { field: first.field }), errors });
}

/**
 * A problem document (by default `type: about:blank` and the status's standard title) — what
 * handlers throw for a bad request that no library error describes.
 *
 * @param status HTTP status.
 * @param detail What is wrong, naming the field.
 * @param members Extension members (`field`, `limit`, …), or a `type`/`title` of its own.
 * @param headers Extra response headers, e.g. `Retry-After`.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import { problem } from "./problem.ts";
 * const err = problem(422, "offset 9 is past the end.", { field: "offset" });
 * if (err.problem.title !== "Invalid request") throw new Error("unexpected");
 * ```
 */
export function problem(
  status: number,
  detail: string,
  members: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ProblemError {
  return new ProblemError(
    { type: "about:blank", title: statusTitle(status), ...members, status, detail },
    headers,
  );
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
 * The one table from the library's errors to problem documents: by error class name, the
 * problem type and title (absent: `about:blank` and the status's title). Status, detail,
 * `field`, `limit` and `Retry-After` come from the error itself ({@linkcode FlopsFitError}).
 */
const PROBLEM_TABLE: readonly [
  abstract new (...args: never[]) => FlopsFitError,
  { type: string; title?: string },
][] = [
  [LimitExceededError, { type: PROBLEM_TYPES.limit, title: "Limit exceeded" }],
  [BusyError, { type: PROBLEM_TYPES.busy }],
  [UnavailableError, { type: PROBLEM_TYPES.unavailable }],
  [CancelledError, { type: PROBLEM_TYPES.cancelled }],
];

/** Types and titles of a worker failure, by kind (a training's; a job's crash is a plain 500). */
const WORKER_FAILURES = {
  "out-of-memory": { type: PROBLEM_TYPES["out-of-memory"], title: "Training ran out of memory" },
  invalid: { type: PROBLEM_TYPES.invalid, title: "Training request rejected" },
  crashed: { type: PROBLEM_TYPES.crashed, title: "Training crashed" },
} as const;

/**
 * The problem document and headers for the library's own errors (every
 * {@linkcode FlopsFitError}: input errors, limits, admission, cancellation, worker failures),
 * or `undefined` for anything else.
 *
 * @param error The thrown value.
 * @returns The problem+json error, or undefined.
 */
export function libraryProblem(error: unknown): ProblemError | undefined {
  if (!(error instanceof FlopsFitError)) return undefined;
  let entry = PROBLEM_TABLE.find(([errorClass]) => error instanceof errorClass)?.[1];
  if (error instanceof WorkerFailedError) {
    // A job that fails by its own refusal is a plain 4xx; a training's failures have types.
    entry = error.subject === "training" ? WORKER_FAILURES[error.kind] : undefined;
  }
  const status = error.status;
  const title = status === 413 ? statusTitle(413) : entry?.title ?? statusTitle(status);
  return new ProblemError(
    {
      // Extra members first, so they can never override the standard ones.
      ...error.extra,
      type: entry?.type ?? "about:blank",
      title,
      status,
      detail: error.message,
      ...(error.field === undefined ? {} : { field: error.field }),
      ...(error.limit === undefined ? {} : { limit: error.limit }),
    },
    error.retryAfterS === undefined ? {} : { "retry-after": String(error.retryAfterS) },
  );
}

/**
 * The problem a thrown value states, when it states one: a {@linkcode ProblemError} as it is,
 * one of the library's errors through {@linkcode libraryProblem}; `undefined` for anything else
 * (a bug, a disconnect, a framework error: {@linkcode problemResponse} decides).
 *
 * @param error The thrown value.
 * @returns The problem+json error, or undefined.
 */
export function asProblem(error: unknown): ProblemError | undefined {
  return error instanceof ProblemError ? error : libraryProblem(error);
}

/** Status of a request whose client went away (nginx's convention; nobody reads it once gone). */
export const CLIENT_CLOSED_STATUS = 499;

/**
 * Whether a thrown value says the client disconnected while its body was being read: Deno's
 * `BadResource: Cannot read body` / `Http: connection closed`, or an abort of the request signal.
 *
 * @param error The thrown value.
 * @returns True for a client disconnect.
 */
export function isClientDisconnect(error: unknown): boolean {
  if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
    return true;
  }
  if (error instanceof Deno.errors.Http || error instanceof Deno.errors.ConnectionReset) {
    return /connection|body|closed|reset/i.test(error.message);
  }
  if (error instanceof DOMException && error.name === "AbortError") return true;
  // Hono wraps a failed body read in an HTTPException (400 "Malformed JSON…") with the cause.
  if (error instanceof HTTPException && error.cause !== undefined) {
    return isClientDisconnect(error.cause);
  }
  if (error instanceof Error && error.name === "BadResource") return true;
  return error instanceof TypeError &&
    /cannot read body|body.*(closed|aborted)/i.test(error.message);
}

/**
 * Build the problem+json response for any thrown value.
 *
 * - {@linkcode ProblemError}: its own document and headers.
 * - The library's errors ({@linkcode FlopsFitError}): see {@linkcode libraryProblem}.
 * - A client that disconnected while sending its body: 499.
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
  const known = asProblem(error);
  if (known !== undefined) {
    problem = known.problem;
    headers = known.headers;
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
  } else if (isClientDisconnect(error) || c.req.raw.signal.aborted) {
    // The client went away while sending its body: its doing, not a server error.
    problem = {
      type: PROBLEM_TYPES.cancelled,
      title: statusTitle(CLIENT_CLOSED_STATUS),
      status: CLIENT_CLOSED_STATUS,
      detail: "The client closed the connection before the request body arrived.",
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
  const instance = c.req.path;
  const body = JSON.stringify({ ...problem, instance });
  return new Response(body, {
    status: problem.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...headers },
  });
}
