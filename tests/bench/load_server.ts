/**
 * The server the load bench drives, in its own process: the real app (every mounted route,
 * every guard) plus the test app's fixture training route, on a free loopback port.
 * Prints one JSON line `{"event":"listening","port":…}` and serves until SIGTERM.
 *
 * @module
 */
import { startServer } from "../../lib/service/server.ts";
import { testApp } from "../lib/service/fixtures/test_app.ts";

if (import.meta.main) {
  const { app, pool } = testApp(Deno.env.toObject() as Record<string, string>);
  const server = startServer({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
    pool,
    graceS: 1,
    log: (line) => console.log(line),
  });
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}
