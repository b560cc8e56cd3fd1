/**
 * The server the load bench drives, in its own process: the real app with its real trainer,
 * on a free loopback port. Until the dataset registry provides `synthetic-text`, trainings use
 * the tests' tiny text source (same trainer and model code, a smaller data source).
 * Prints one JSON line `{"event":"listening","port":…,"dataset":…}` and serves until SIGTERM.
 *
 * @module
 */
import { loadConfig } from "../../lib/service/config.ts";
import { startServer } from "../../lib/service/server.ts";
import { trainingPoolFromConfig } from "../../lib/service/training_pool.ts";
import { defaultDatasetResolver } from "../../lib/train/datasets.ts";
import { createApp } from "../../routes/mod.ts";
import { resolveTiny } from "../lib/train/_tiny_data.ts";
import { TINY_TRAINER } from "../lib/train/_tiny_trainer.ts";

if (import.meta.main) {
  const config = loadConfig({ ...Deno.env.toObject(), PORT: "0", HOST: "127.0.0.1" });
  const registry = defaultDatasetResolver("synthetic-text") !== undefined;
  const pool = trainingPoolFromConfig(config, registry ? undefined : TINY_TRAINER);
  const app = createApp({
    config,
    trainingPool: pool,
    ...(registry ? {} : { resolveDataset: resolveTiny }),
  });
  const dataset = registry ? "synthetic-text" : "tiny-text";
  const server = startServer({
    port: 0,
    hostname: "127.0.0.1",
    fetch: app.fetch,
    pool,
    graceS: 1,
    log: (line) =>
      console.log(
        line.includes('"listening"') ? line.replace("}", `,"dataset":"${dataset}"}`) : line,
      ),
  });
  Deno.addSignalListener("SIGTERM", async () => {
    await server.shutdown();
    Deno.exit(0);
  });
}
