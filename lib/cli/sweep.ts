/**
 * `deno task sweep`: the sweep's command line, plain (`lib/sweep/`) or with its points on a
 * Postgres queue (`lib/queue/`, loaded only when `--queue` or `--status` asks for it, so plain
 * sweeps never load pg-boss). The one module that knows both folders: the sweep lends the queue
 * command its parser and registries through here, and neither imports the other.
 *
 * @module
 */
import { loadSweepCliConfig, type SweepCliConfig, sweepCliParts, sweepMain } from "../sweep/mod.ts";

/**
 * Whether a command line asks for queue mode.
 *
 * @param args Command-line arguments.
 * @returns `true` when `--queue` or `--status` is present.
 */
export function wantsQueueMode(args: readonly string[]): boolean {
  return args.some((a) => a === "--queue" || a.startsWith("--queue=") || a === "--status");
}

/**
 * The command: the configuration from the environment, then a plain or a queued sweep.
 *
 * @param args Command-line arguments.
 * @returns The exit status (0 ok, 1 failed points or checks, 2 usage error).
 */
export async function main(args: string[]): Promise<number> {
  let settings: SweepCliConfig;
  try {
    settings = loadSweepCliConfig();
  } catch (error) {
    console.error(`sweep: ${(error as Error).message}`);
    return 2;
  }
  if (wantsQueueMode(args)) {
    const { queuedSweepMain } = await import("../queue/mod.ts");
    return await queuedSweepMain(args, sweepCliParts(settings));
  }
  return await sweepMain(args, settings);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
