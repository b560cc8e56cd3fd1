/**
 * Guards in front of the routes: the request body limit, the optional bearer token, CORS,
 * and 405 for a known path with the wrong method. Each one answers problem+json.
 *
 * @module
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { LimitExceededError } from "../lib/errors.ts";
import {
  CLIENT_CLOSED_STATUS,
  isClientDisconnect,
  problem,
  PROBLEM_TYPES,
  problemResponse,
} from "./problem.ts";

/**
 * Refuse bodies over `maxBytes` with a 413 naming `max_body_bytes`.
 *
 * A `Content-Length` over the limit is refused before a byte is read; a chunked body is
 * counted as it streams in and refused as soon as it passes the limit, so at most
 * `maxBytes` are ever buffered.
 *
 * @param maxBytes The limit (`FLOPS_FIT_MAX_BODY_BYTES`).
 * @returns Hono middleware.
 */
export function bodySizeLimit(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      const declared = Number(c.req.header("content-length"));
      throw new LimitExceededError({
        name: "max_body_bytes",
        value: maxBytes,
        ...(Number.isFinite(declared) && declared > maxBytes ? { actual: declared } : {}),
        field: "(body)",
        status: 413,
      });
    },
  });
}

/** Options of {@linkcode readBodyFirst}. */
export interface ReadBodyOptions {
  /**
   * Longest the whole body may take to arrive, in seconds (`FLOPS_FIT_BODY_TIMEOUT_S`): past it
   * the answer is a 408 with `Connection: close`, which ends the connection. Unset: no limit.
   */
  timeoutS?: number;
  /** Called when a body times out, before the 408 (e.g. to have its connection closed). */
  onTimeout?: (c: Context) => void;
}

/**
 * Read a request's body before any handler does, so that a client that disconnects while
 * sending it gets a 499 (its doing) rather than a 400 "malformed JSON" or a 500 from whichever
 * handler read first (Deno's `BadResource: Cannot read body`), and a client that sends it too
 * slowly gets a 408 and its connection closed. Handlers then read the cached body.
 *
 * @param options The body read timeout.
 * @returns Hono middleware.
 */
export function readBodyFirst(options: ReadBodyOptions = {}): MiddlewareHandler {
  const timeoutMs = options.timeoutS === undefined ? undefined : options.timeoutS * 1000;
  return async function readBodyFirstMiddleware(c, next) {
    const body = c.req.raw.body;
    if (body !== null && !["GET", "HEAD", "OPTIONS"].includes(c.req.method)) {
      // Read here, holding the reader, so that a body past its deadline can be cancelled: only
      // then does the server let go of the connection after the 408.
      const reader = body.getReader();
      let timedOut = false;
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        timedOut = true;
        reader.cancel().catch(() => {});
      }, timeoutMs);
      let bytes: Uint8Array;
      let cutShort = false;
      try {
        bytes = await readAll(reader);
      } catch (error) {
        if (!timedOut && !isClientDisconnect(error) && !c.req.raw.signal.aborted) throw error;
        bytes = new Uint8Array();
        cutShort = true;
      } finally {
        clearTimeout(timer);
      }
      if (timedOut) {
        options.onTimeout?.(c);
        throw problem(
          408,
          `The request body did not arrive within ${options.timeoutS} s; the connection is closed.`,
          { field: "(body)", limit: { name: "body_timeout_s", value: options.timeoutS } },
          { connection: "close" },
        );
      }
      if (cutShort || c.req.raw.signal.aborted) {
        throw problem(
          CLIENT_CLOSED_STATUS,
          "The client closed the connection before the request body arrived.",
          { type: PROBLEM_TYPES.cancelled },
        );
      }
      // Handlers read the body from Hono's cache, as if they had read it first.
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      (c.req.bodyCache as Record<string, unknown>).arrayBuffer = Promise.resolve(buffer);
    }
    await next();
  };
}

/** Every chunk of a body reader, joined (a cancel makes the read fail or end early). */
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Compare two strings in time that depends only on their SHA-256 digests' length (fixed),
 * never on where they first differ or on the secret's length.
 *
 * @param given What the client sent.
 * @param expected The secret.
 * @returns Whether they are equal.
 *
 * @example
 * ```ts
 * import { constantTimeEqual } from "./guards.ts";
 * if (!(await constantTimeEqual("s3cret", "s3cret"))) throw new Error("unexpected");
 * if (await constantTimeEqual("s3creT", "s3cret")) throw new Error("unexpected");
 * ```
 */
export async function constantTimeEqual(given: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** `Authorization: Bearer <token>`, RFC 6750 §2.1 (token68 characters). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Require `Authorization: Bearer <token>` when a token is configured; pass everything when not.
 *
 * A missing or wrong token gets a 401 problem+json with `WWW-Authenticate: Bearer`
 * (RFC 6750 §3). The token is never logged or echoed.
 *
 * @param token The configured token (`FLOPS_FIT_TOKEN`), or undefined for no auth.
 * @returns Hono middleware.
 */
export function bearerToken(token: string | undefined): MiddlewareHandler {
  return async function bearerTokenMiddleware(c, next) {
    if (token === undefined || c.req.method === "OPTIONS") return await next();
    const header = c.req.header("authorization");
    const match = header === undefined ? null : BEARER.exec(header);
    if (match === null) {
      throw problem(
        401,
        "This endpoint needs an Authorization: Bearer <token> header (FLOPS_FIT_TOKEN).",
        { type: PROBLEM_TYPES.unauthorized, field: "authorization" },
        { "www-authenticate": 'Bearer realm="flops-fit"' },
      );
    }
    if (!(await constantTimeEqual(match[1]!, token))) {
      throw problem(
        401,
        "The bearer token is not valid.",
        { type: PROBLEM_TYPES.unauthorized, field: "authorization" },
        { "www-authenticate": 'Bearer realm="flops-fit", error="invalid_token"' },
      );
    }
    await next();
  };
}

/**
 * CORS for the configured origins (`FLOPS_FIT_CORS_ORIGINS`: comma-separated, `*` for any).
 *
 * @param origins The configured value; empty means no CORS headers at all.
 * @returns Hono middleware, or undefined when CORS is off.
 */
export function corsFor(origins: string): MiddlewareHandler | undefined {
  const list = origins.split(",").map((o) => o.trim()).filter((o) => o !== "");
  if (list.length === 0) return undefined;
  return cors({
    origin: list.includes("*") ? "*" : list,
    allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Accept", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "WWW-Authenticate"],
    maxAge: 600,
  });
}

/**
 * 405 problem+json with `Allow` for a path that exists under other methods.
 *
 * @param app The root app (its routes are read on first use, after all are mounted).
 * @returns Hono middleware.
 */
export function methodNotAllowedProblem(app: { routes: Hono["routes"] }): MiddlewareHandler {
  return methodNotAllowed({
    app: app as Hono,
    onMethodNotAllowed: (c: Context, methods: string[]) => {
      const allow = methods.join(", ");
      return problemResponse(
        c,
        problem(
          405,
          `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}.`,
          {},
          { allow },
        ),
      );
    },
  });
}
