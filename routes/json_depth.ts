/**
 * A bound on how deeply a JSON request body nests, checked before any handler parses it.
 *
 * `JSON.parse` copes with any depth, but the code after it need not: a `hyper` nested 3,700
 * levels deep overflowed the stack of `POST /v1/plan`'s recursive key hashing (a 500), where the
 * same nesting in a validated field was a 422. No request of this API needs more than a few
 * levels, so a body nested past {@linkcode MAX_JSON_DEPTH} is a 422 naming the top-level field
 * it is under, whatever the route.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { problem } from "./problem.ts";

/** Deepest nesting of arrays and objects accepted in a JSON body. */
export const MAX_JSON_DEPTH = 64;

/** Where a JSON text first nests past a depth. */
export interface DepthExcess {
  /** The top-level member it is under (`""` when the body itself is an array). */
  field: string;
  /** The depth reached (`maxDepth + 1`: scanning stops there). */
  depth: number;
}

/**
 * Scan JSON text for nesting deeper than `maxDepth`, without parsing it (and without recursion).
 *
 * @param text JSON text (need not be valid: the parser judges that later).
 * @param maxDepth Deepest nesting allowed.
 * @returns Where it went too deep, or undefined.
 *
 * @example
 * ```ts
 * import { jsonDepthExcess } from "./json_depth.ts";
 * if (jsonDepthExcess('{"a": [[1]]}', 3) !== undefined) throw new Error("unexpected");
 * if (jsonDepthExcess('{"hyper": {"x": [[1]]}}', 3)?.field !== "hyper") throw new Error("unexpected");
 * ```
 */
export function jsonDepthExcess(text: string, maxDepth: number): DepthExcess | undefined {
  let depth = 0;
  let inString = false;
  let stringStart = -1;
  let lastTopString: [number, number] | undefined;
  let field = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) {
        inString = false;
        if (depth === 1) lastTopString = [stringStart, i + 1];
      }
      continue;
    }
    if (ch === 0x22) {
      inString = true;
      stringStart = i;
    } else if (ch === 0x7b || ch === 0x5b) {
      depth++;
      if (depth > maxDepth) return { field, depth };
    } else if (ch === 0x7d || ch === 0x5d) {
      depth--;
    } else if (ch === 0x3a && depth === 1 && lastTopString !== undefined) {
      try {
        field = String(JSON.parse(text.slice(lastTopString[0], lastTopString[1])));
      } catch {
        field = "";
      }
    }
  }
  return undefined;
}

/**
 * Middleware refusing JSON bodies nested deeper than `maxDepth` with a 422 naming the field.
 * Mount it after the body has been read (`readBodyFirst`).
 *
 * @param maxDepth Deepest nesting allowed. @default MAX_JSON_DEPTH
 * @returns Hono middleware.
 */
export function jsonDepthLimit(maxDepth: number = MAX_JSON_DEPTH): MiddlewareHandler {
  return async function jsonDepthLimitMiddleware(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (c.req.raw.body !== null && /json/i.test(type)) {
      const excess = jsonDepthExcess(await c.req.text(), maxDepth);
      if (excess !== undefined) {
        const field = excess.field === "" ? "body" : excess.field;
        throw problem(
          422,
          `${field} nests arrays and objects more than ${maxDepth} levels deep; at most ` +
            `${maxDepth} are accepted.`,
          { field, limit: { name: "max_json_depth", value: maxDepth, actual: excess.depth } },
        );
      }
    }
    await next();
  };
}
