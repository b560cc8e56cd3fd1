/**
 * Messages between the training pool and its workers, and how a thrown value
 * crosses the worker boundary without its stack.
 *
 * @module
 */
import { isOutOfMemoryText, type LimitInfo } from "../errors.ts";

/** Parent → worker. */
export type WorkerRequest =
  | {
    type: "run";
    module: string;
    exportName: string;
    request: unknown;
    /** Extra, structured-cloneable options merged into the trainer's options object. */
    options?: Record<string, unknown>;
  }
  | { type: "abort" };

/** A thrown value, reduced to what may leave the worker. */
export interface WorkerError {
  /** The error's class name, e.g. `RuntimeError`, `RangeError`, `LimitExceededError`. */
  name: string;
  /** Its message's first line, at most {@linkcode MAX_ERROR_MESSAGE_CHARS} characters. */
  message: string;
  /** The limit the thrown value reported (`FlopsFitError.limit`). */
  limit?: LimitInfo;
  /** An HTTP status the thrown value declared (e.g. the trainer's input errors, 4xx or 5xx). */
  status?: number;
  /** The request field the thrown value named. */
  field?: string;
  /** Extra problem members the thrown value carried (JSON-safe only). */
  extra?: Record<string, unknown>;
}

/** Worker → parent. */
export type WorkerResponse =
  | { type: "progress"; event: unknown }
  | { type: "result"; result: unknown }
  | { type: "error"; error: WorkerError };

/** Longest error message passed on to a client: enough to say what failed, never a dump. */
export const MAX_ERROR_MESSAGE_CHARS = 300;

/**
 * Reduce any thrown value to a {@linkcode WorkerError}: name, first message line, limit fields.
 *
 * @param error The thrown value (an `Error`, a string, anything).
 * @returns A structured-cloneable description with no stack trace.
 *
 * @example
 * ```ts
 * import { describeError } from "./worker_protocol.ts";
 * const d = describeError(new RangeError("batch too big\n    at f (x.ts:1:1)"));
 * if (d.message !== "batch too big" || d.name !== "RangeError") throw new Error("unexpected");
 * ```
 */
export function describeError(error: unknown): WorkerError {
  let name = "Error";
  let message: string;
  if (error instanceof Error) {
    name = error.name || error.constructor?.name || "Error";
    message = error.message;
  } else if (typeof error === "string") {
    message = error;
  } else {
    message = String(error);
  }
  const firstLine = (message.split("\n").find((line) => line.trim() !== "") ?? "").trim();
  const out: WorkerError = { name, message: firstLine.slice(0, MAX_ERROR_MESSAGE_CHARS) };
  if (error instanceof Error) {
    // The members of the error vocabulary (lib/errors.ts), read structurally so that a trainer
    // module with its own classes can declare them too.
    const e = error as Error & {
      status?: unknown;
      field?: unknown;
      extra?: unknown;
      limit?: unknown;
    };
    if (typeof e.status === "number" && e.status >= 400 && e.status < 600) out.status = e.status;
    if (typeof e.field === "string") out.field = e.field.slice(0, MAX_ERROR_MESSAGE_CHARS);
    if (typeof e.extra === "object" && e.extra !== null && Object.keys(e.extra).length > 0) {
      try {
        out.extra = JSON.parse(JSON.stringify(e.extra));
      } catch {
        // Not JSON-safe: leave it out rather than fail the error report.
      }
    }
    const limit = e.limit as Partial<LimitInfo> | undefined;
    if (
      typeof limit === "object" && limit !== null && typeof limit.name === "string" &&
      typeof limit.value === "number"
    ) {
      out.limit = {
        name: limit.name.slice(0, MAX_ERROR_MESSAGE_CHARS),
        value: limit.value,
        ...(typeof limit.actual === "number" ? { actual: limit.actual } : {}),
      };
    }
  }
  return out;
}

/**
 * Whether a worker error says the training ran out of memory.
 *
 * @param error The worker's error.
 * @returns True for wasm aborts, heap exhaustion and allocation failures.
 *
 * @example
 * ```ts
 * import { isOutOfMemory } from "./worker_protocol.ts";
 * if (!isOutOfMemory({ name: "RuntimeError", message: "Aborted(). Build with -sASSERTIONS" })) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function isOutOfMemory(error: WorkerError): boolean {
  return isOutOfMemoryText(`${error.name}: ${error.message}`);
}
