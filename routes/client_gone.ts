/**
 * Middleware that makes `c.req.raw.signal` abort when the client closes its connection, at any
 * body size (Deno's own signal misses it once a body of ~500 bytes was read: see
 * `lib/service/connection_watch.ts`). Routes, the body reader and the access log keep reading
 * `c.req.raw.signal`; this middleware swaps in a request whose signal also follows the watch.
 * Requests that did not come through `Deno.serve` (`app.request()` in tests) are left as they are.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { ConnectionWatch } from "../lib/service/connection_watch.ts";

/** What `Deno.serve` passes as the handler's second argument (Hono's `c.env`). */
type ServeInfo = Partial<Deno.ServeHandlerInfo<Deno.Addr>> | undefined;

/**
 * Watch each request's connection until its answer is delivered.
 *
 * @param watch The app's connection watch.
 * @returns Hono middleware; mount it before anything reads the body or the signal.
 */
export function watchClient(watch: ConnectionWatch): MiddlewareHandler {
  return async function watchClientMiddleware(c, next) {
    const info = c.env as ServeInfo;
    const remote = info?.remoteAddr;
    if (remote === undefined || typeof remote !== "object") return await next();
    const watched = watch.watch(remote);
    const raw = c.req.raw;
    c.req.raw = new Request(raw, { signal: AbortSignal.any([raw.signal, watched.signal]) });
    // Until the answer is delivered: a streamed body outlives the handler.
    const completed = info?.completed;
    if (completed instanceof Promise) {
      completed.then(watched.release, watched.release);
      await next();
      return;
    }
    try {
      await next();
    } finally {
      watched.release();
    }
  };
}
