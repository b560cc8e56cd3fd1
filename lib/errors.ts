/**
 * The one error vocabulary of the library: every error it throws for a request carries an HTTP
 * `status`, the request `field` at fault (when there is one) and, for a limit, `limit: { name,
 * value, actual }`. Library code has no HTTP in it; one table in `routes/problem.ts` turns any
 * {@linkcode FlopsFitError} into problem+json, and the worker pools pass the same members across
 * the worker boundary.
 *
 * @module
 */

/**
 * `Retry-After`, in seconds, when no training backend can start (or a resource the work needs is
 * unavailable): long enough for an operator to look.
 */
export const BACKEND_RETRY_AFTER_S = 60;

/** A limit a request went past: its public name, configured value and what was asked for. */
export interface LimitInfo {
  /** Public name, e.g. `max_train_flops` (as `/healthz` lists it). */
  name: string;
  /** The configured (or built-in) value. */
  value: number;
  /** What the request asked for or reached, when known. */
  actual?: number;
}

/** Options of {@linkcode FlopsFitError}. */
export interface FlopsFitErrorOptions {
  /** HTTP status the service answers with. @default 422 */
  status?: number;
  /** The offending request field as a path, e.g. `budget.steps`, `points[3].N`. */
  field?: string;
  /** The limit that was exceeded. */
  limit?: LimitInfo;
  /** Suggested wait before retrying, in seconds (sent as `Retry-After`). */
  retryAfterS?: number;
  /** Extra JSON-safe problem members, e.g. a dataset's download URL. */
  extra?: Record<string, unknown>;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The base of every error the library throws on purpose.
 *
 * @example
 * ```ts
 * import { FlopsFitError } from "./errors.ts";
 * const e = new FlopsFitError("batch_size must divide by 8.", { field: "batch_size" });
 * if (e.status !== 422 || e.field !== "batch_size") throw new Error("unexpected");
 * ```
 */
export class FlopsFitError extends Error {
  /** HTTP status the service answers with. */
  readonly status: number;
  /** The offending request field, when there is one. */
  readonly field: string | undefined;
  /** The limit that was exceeded, when one was. */
  readonly limit: LimitInfo | undefined;
  /** Suggested wait before retrying, in seconds. */
  readonly retryAfterS: number | undefined;
  /** Extra JSON-safe problem members. */
  readonly extra: Record<string, unknown>;

  /**
   * @param message What went wrong, in sentence case.
   * @param options Status, field, limit, retry hint, extra members, cause.
   */
  constructor(message: string, options: FlopsFitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FlopsFitError";
    this.status = options.status ?? 422;
    this.field = options.field;
    this.limit = options.limit;
    this.retryAfterS = options.retryAfterS;
    this.extra = options.extra ?? {};
  }
}

/**
 * A request went past one of the service's limits (413 for sizes, 422 for the rest).
 *
 * @example
 * ```ts
 * import { LimitExceededError } from "./errors.ts";
 * const err = new LimitExceededError({ name: "max_batch_size", value: 64, actual: 128, field: "batch_size" });
 * if (err.status !== 422 || err.limit?.name !== "max_batch_size") throw new Error("unexpected");
 * ```
 */
export class LimitExceededError extends FlopsFitError {
  /** The limit's public name (= `limit.name`). */
  readonly limitName: string;
  /** The configured value (= `limit.value`). */
  readonly value: number;
  /** What the request asked for, when known (= `limit.actual`). */
  readonly actual: number | undefined;

  /** @param options The limit, what was asked for, the field and the status (default 422). */
  constructor(
    options: LimitInfo & { field?: string; status?: 413 | 422; message?: string },
  ) {
    const asked = options.actual === undefined ? "" : ` (got ${options.actual})`;
    const where = options.field === undefined ? "" : `${options.field}: `;
    super(options.message ?? `${where}over the limit ${options.name} = ${options.value}${asked}.`, {
      status: options.status ?? 422,
      ...(options.field === undefined ? {} : { field: options.field }),
      limit: {
        name: options.name,
        value: options.value,
        ...(options.actual === undefined ? {} : { actual: options.actual }),
      },
    });
    this.name = "LimitExceededError";
    this.limitName = options.name;
    this.value = options.value;
    this.actual = options.actual;
  }
}

/**
 * Write path segments as a readable field path: `["points", 3, "N"]` → `points[3].N`.
 *
 * @param path Path segments as zod reports them.
 * @returns The dotted path, or `(body)` for the root.
 *
 * @example
 * ```ts
 * import { fieldPath } from "./errors.ts";
 * if (fieldPath(["points", 3, "N"]) !== "points[3].N") throw new Error("unexpected");
 * ```
 */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(body)" : out;
}
