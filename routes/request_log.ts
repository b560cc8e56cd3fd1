/**
 * Request ids and access logs: one JSON line per request on stdout.
 *
 * A sane incoming `X-Request-Id` (1–128 characters of `[A-Za-z0-9._:-]`) is kept, anything
 * else replaced by a fresh UUID; either way it is echoed in the response's `X-Request-Id`.
 * The line holds method, path (never the query string, which may carry secrets), status,
 * duration and request id — never a header value.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/** Header carrying the request id both ways. */
export const REQUEST_ID_HEADER = "x-request-id";

/** What a caller may send as a request id: short, printable, no spaces or quotes. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** One access-log record. */
export interface AccessLogLine {
  /** ISO 8601 time the request arrived. */
  time: string;
  /** HTTP method. */
  method: string;
  /** Path without query string. */
  path: string;
  /**
   * Response status; 499 when the client went away first (for a streamed answer, logged when
   * the stream ends: before its last event).
   */
  status: number;
  /** Time to the response's head, in milliseconds. */
  duration_ms: number;
  /** The request id echoed in `X-Request-Id`. */
  request_id: string;
}

/** Options of {@linkcode requestLog}. */
export interface RequestLogOptions {
  /** Whether to write lines at all (`FLOPS_FIT_LOG_REQUESTS`). */
  enabled: boolean;
  /** Where lines go. @default console.log (stdout) */
  write?: (line: string) => void;
}

/**
 * The request id of a request: the incoming one when sane, else a new UUID.
 *
 * @param incoming The `X-Request-Id` header value, if any.
 * @returns The id to use.
 *
 * @example
 * ```ts
 * import { pickRequestId } from "./request_log.ts";
 * if (pickRequestId("abc-123") !== "abc-123") throw new Error("unexpected");
 * if (pickRequestId("bad id\n") === "bad id\n") throw new Error("unexpected");
 * ```
 */
export function pickRequestId(incoming: string | undefined | null): string {
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/**
 * Middleware that assigns the request id, echoes it and logs the request.
 *
 * @param options Whether and where to log.
 * @returns Hono middleware; mount it first so it sees every response, errors included.
 */
export function requestLog(options: RequestLogOptions): MiddlewareHandler {
  const write = options.write ?? ((line: string) => console.log(line));
  return async function requestLogMiddleware(c, next) {
    const startedMs = performance.now();
    const time = new Date().toISOString();
    const id = pickRequestId(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId" as never, id as never);
    await next();
    try {
      c.res.headers.set(REQUEST_ID_HEADER, id);
    } catch {
      // Immutable headers (a response passed through from fetch): copy it.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set(REQUEST_ID_HEADER, id);
    }
    if (!options.enabled) return;
    const signal = c.req.raw.signal;
    const line = (status: number): string =>
      JSON.stringify(
        {
          time,
          method: c.req.method,
          path: c.req.path,
          status,
          duration_ms,
          request_id: id,
        } satisfies AccessLogLine,
      );
    const duration_ms = Math.round((performance.now() - startedMs) * 100) / 100;
    const type = c.res.headers.get("content-type") ?? "";
    if (c.res.body === null || !STREAMED.test(type) || signal.aborted) {
      write(line(signal.aborted ? 499 : c.res.status));
      return;
    }
    // A stream's line is written when it ends: 499 when its client left before the last event.
    const status = c.res.status;
    let written = false;
    const once = (s: number) => {
      if (written) return;
      written = true;
      signal.removeEventListener("abort", onAbort);
      write(line(s));
    };
    const onAbort = () => once(499);
    signal.addEventListener("abort", onAbort, { once: true });
    c.res = new Response(
      c.res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          flush: () => once(signal.aborted ? 499 : status),
        }),
      ),
      c.res,
    );
  };
}

/** Media types of streamed answers, logged when they end rather than at their head. */
const STREAMED = /text\/event-stream|application\/x-ndjson/i;
