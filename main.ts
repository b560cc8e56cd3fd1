/**
 * Entry point of `deno task start`: serve the app on `PORT` (default 8000) and shut down
 * gracefully on SIGTERM or SIGINT (see `lib/service/server.ts`), then end the process without
 * native exit handlers (`lib/service/exit.ts`).
 *
 * @module
 */
import { loadConfig } from "./lib/service/config.ts";
import { ConnectionWatch } from "./lib/service/connection_watch.ts";
import { fitPoolFromConfig } from "./lib/service/job_pool.ts";
import { armExitDeadline, exitProcess, prepareExit } from "./lib/service/exit.ts";
import { SHUTDOWN_SLACK_S, startServer } from "./lib/service/server.ts";
import { trainingPoolFromConfig } from "./lib/service/training_pool.ts";
import { createApp } from "./routes/mod.ts";

if (import.meta.main) {
  const config = loadConfig();
  // libc's _exit, loaded now: nothing is left to load once a shutdown has begun.
  prepareExit();
  const pool = trainingPoolFromConfig(config);
  const fitPool = fitPoolFromConfig(config);
  const connectionWatch = new ConnectionWatch();
  const app = createApp({ config, trainingPool: pool, fitPool, connectionWatch });
  const server = startServer({
    port: config.port,
    hostname: config.hostname,
    fetch: app.fetch,
    pool,
    fitPool,
    graceS: config.shutdownGraceS,
    log: (line) => console.log(line),
    idle: { timeoutS: config.headerTimeoutS, watch: connectionWatch },
  });
  // A stray rejected promise must not take every in-flight request down with the process.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const reason = event.reason instanceof Error
      ? `${event.reason.name}: ${event.reason.message.split("\n")[0]}`
      : String(event.reason).split("\n")[0];
    console.error(JSON.stringify({ level: "error", event: "unhandled_rejection", reason }));
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // A hard deadline whatever the shutdown gets stuck in: SIGKILL at grace + 5 s.
    armExitDeadline({ seconds: config.shutdownGraceS + SHUTDOWN_SLACK_S });
    const report = await server.shutdown();
    // Not Deno.exit: libc's exit() can hang in OpenBLAS's destructor after a terminated
    // training (see lib/service/exit.ts).
    exitProcess(report.drained ? 0 : 1);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
