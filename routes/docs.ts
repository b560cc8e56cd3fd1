/**
 * `GET /openapi.json` and `GET /docs`: the API described from the same zod schemas
 * that validate requests, and a Swagger UI page served from the `swagger-ui-dist`
 * package itself, so the docs work offline.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import swaggerUiDist from "swagger-ui-dist";
import { SERVICE_VERSION } from "./health.ts";
import { problem } from "./problem.ts";

/** Swagger UI files served under `/docs/`, with their media types. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
};

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>flops-fit API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/docs-init.js"></script>
</body>
</html>
`;

const INIT_JS = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });\n`;

/**
 * Add the OpenAPI document and the docs page to an app whose routes are all mounted.
 *
 * @param app The root app (its registered routes make up the document).
 */
export function mountDocs(app: OpenAPIHono): void {
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "flops-fit",
      version: SERVICE_VERSION,
      description:
        "Plan IsoFLOP sweeps, train sweep points and fit compute-optimal scaling laws. " +
        "Every error is an RFC 9457 application/problem+json document naming the offending field.",
    },
  });
  const cache = new Map<string, Uint8Array>();
  app.get("/docs", (c) => c.html(DOCS_HTML));
  app.get(
    "/docs/docs-init.js",
    (c) => c.body(INIT_JS, 200, { "content-type": ASSETS["swagger-ui-bundle.js"]! }),
  );
  app.get("/docs/:asset", async (c) => {
    const name = c.req.param("asset");
    const type = ASSETS[name];
    if (type === undefined) {
      throw problem(404, `No docs asset named ${name}.`);
    }
    let bytes = cache.get(name);
    if (bytes === undefined) {
      bytes = await Deno.readFile(`${swaggerUiDist.getAbsoluteFSPath()}/${name}`);
      cache.set(name, bytes);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": type,
      "cache-control": "public, max-age=86400",
    });
  });
}
