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

/**
 * Messages that mean a training ran out of memory: emscripten's abort when the wasm heap cannot
 * grow past its cap, out-of-bounds accesses after a failed allocation, V8's failure to allocate
 * an ArrayBuffer, WebGPU's out-of-memory. The one list, for the trainer and the pools.
 */
const OUT_OF_MEMORY_PATTERN =
  /Aborted\(|out of memory|\bOOM\b|memory access out of bounds|Cannot enlarge memory|could not allocate|Array buffer allocation failed|Invalid typed array length|WebAssembly\.Memory/i;

/**
 * Whether an error's text says the training ran out of memory.
 *
 * @param text The error's name and message (or any text about it).
 * @returns True for wasm aborts, heap exhaustion and allocation failures.
 *
 * @example
 * ```ts
 * import { isOutOfMemoryText } from "./errors.ts";
 * if (!isOutOfMemoryText("RuntimeError: Aborted(). Build with -sASSERTIONS")) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function isOutOfMemoryText(text: string): boolean {
  return OUT_OF_MEMORY_PATTERN.test(text);
}

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

/** What a validation error is about: its first issue's field, message, and how many follow. */
export interface IssueSummary {
  /** The first issue's field, as {@linkcode fieldPath} writes it (`root` for the root). */
  field: string;
  /** The first issue's message. */
  message: string;
  /** `field: message`, with ` (and N more)` when there are more issues. */
  detail: string;
}

/**
 * The one formatter of zod issues: the first issue's field path and message, and how many more
 * there are — what every validation error of the library says.
 *
 * @param issues The issues (zod's `error.issues`).
 * @param root What to call the root when the first issue has no path. @default "(body)"
 * @returns The field, the message and a one-line detail.
 *
 * @example
 * ```ts
 * import { summarizeIssues } from "./errors.ts";
 * const s = summarizeIssues([{ path: ["points", 0, "N"], message: "must be > 0" }]);
 * if (s.detail !== "points[0].N: must be > 0") throw new Error("unexpected");
 * ```
 */
export function summarizeIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  root = "(body)",
): IssueSummary {
  const first = issues[0];
  if (first === undefined) return { field: root, message: "invalid", detail: `${root}: invalid` };
  const field = first.path.length === 0 ? root : fieldPath(first.path);
  const more = issues.length - 1;
  return {
    field,
    message: first.message,
    detail: `${field}: ${first.message}` + (more > 0 ? ` (and ${more} more)` : ""),
  };
}
