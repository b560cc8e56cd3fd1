/**
 * Entry point of `deno task start`: serve the app on `PORT` (default 8000).
 *
 * @module
 */
import { loadConfig } from "./lib/service/config.ts";
import { createApp } from "./routes/mod.ts";

if (import.meta.main) {
  const config = loadConfig();
  const app = createApp({ config });
  Deno.serve({ port: config.port, hostname: config.hostname }, app.fetch);
}
