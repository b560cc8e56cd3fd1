/**
 * `deno task worker --queue postgres://… [--concurrency N] [--trainer URL]`: pull sweep points from
 * the Postgres queue until stopped. SIGINT/SIGTERM stop fetching and give the points in flight
 * `--grace` seconds to finish (then they are released and retried elsewhere).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { QueueConnectionError } from "./db.ts";
import { QueueUrlError, redactText } from "./url.ts";
import { startQueueWorker } from "./worker.ts";
import { parseTrainerList } from "../sweep/mod.ts";
import { ENV_VARS } from "../config/mod.ts";
import { loadQueueWorkerConfig, type QueueWorkerConfig } from "./worker_config.ts";
import { armExitDeadline, exitProcess, prepareExit } from "../service/exit.ts";
import { SHUTDOWN_SLACK_S } from "../service/server.ts";

/** The usage text of `deno task worker --help`. */
export const WORKER_USAGE = `deno task worker --queue URL [options]

Pulls points of every queued study (deno task sweep --queue URL) from Postgres, trains them,
heartbeats while they run, and records each result in the transaction that completes its job.

  --queue URL             postgres://user:password@host:port/db (or FLOPS_FIT_QUEUE)
  --concurrency N         points in flight (default 1; the in-process trainer runs one at a time)
  --trainer URL           forward points to a server speaking POST /v1/train (token:
                          FLOPS_FIT_TOKEN) instead of training in-process
  --supervise-interval S  seconds between lease checks this worker runs (default 10)
  --grace S               seconds to let points in flight finish on SIGTERM (default 30)
  -h, --help              this text
`;

/** Parsed `deno task worker` flags. */
export interface WorkerArgs {
  /** Connection string. */
  url: string;
  /** Points in flight. */
  concurrency: number;
  /** Trainer URL. */
  trainerUrl?: string;
  /** Supervisor interval, s. */
  superviseIntervalS: number;
  /** Grace on stop, s. */
  graceS: number;
  /** `--help`. */
  help: boolean;
}

/**
 * Parse the worker's command line.
 *
 * @param args `Deno.args`.
 * @param env Environment lookup (for `FLOPS_FIT_QUEUE`). @default the worker's configuration
 * @returns The flags.
 * @throws {TypeError} For an unknown flag, a malformed value or a missing `--queue`.
 */
export function parseWorkerArgs(
  args: string[],
  env: (name: string) => string | undefined = (name) =>
    name === ENV_VARS.queue ? loadQueueWorkerConfig().queue : undefined,
): WorkerArgs {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      queue: { type: "string" },
      concurrency: { type: "string" },
      trainer: { type: "string" },
      "supervise-interval": { type: "string" },
      grace: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const positive = (flag: string, text: string | undefined, fallback: number, integer: boolean) => {
    if (text === undefined) return fallback;
    const x = Number(text);
    if (
      text.trim() === "" || !(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))
    ) {
      throw new TypeError(
        `--${flag}: "${text}" is not a positive ${integer ? "integer" : "number"}.`,
      );
    }
    return x;
  };
  const help = values.help === true;
  const url = values.queue ?? env("FLOPS_FIT_QUEUE");
  if (url === undefined && !help) throw new TypeError("--queue URL is required.");
  const concurrency = positive("concurrency", values.concurrency, 1, true);
  if (concurrency > 256) throw new TypeError(`--concurrency: ${concurrency} is over 256.`);
  return {
    url: url ?? "",
    concurrency,
    ...(values.trainer === undefined ? {} : { trainerUrl: trainerUrl(values.trainer) }),
    superviseIntervalS: positive("supervise-interval", values["supervise-interval"], 10, true),
    graceS: positive("grace", values.grace, 30, false),
    help,
  };
}

function trainerUrl(text: string): string {
  try {
    const [url] = parseTrainerList(text);
    if (url === undefined) throw new TypeError("empty");
    return url;
  } catch {
    throw new TypeError(`--trainer: "${text}" is not an http(s) URL.`);
  }
}

/**
 * The command: run until SIGINT/SIGTERM. Exit 0 after a clean stop, 2 for a usage error or a
 * database that cannot be reached.
 *
 * @param args Command-line arguments.
 * @returns The exit status.
 */
export async function main(args: string[]): Promise<number> {
  let parsed: WorkerArgs;
  let settings: QueueWorkerConfig;
  try {
    settings = loadQueueWorkerConfig();
    parsed = parseWorkerArgs(args, (name) => name === ENV_VARS.queue ? settings.queue : undefined);
  } catch (error) {
    console.error(`worker: ${(error as Error).message}\n\n${WORKER_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(WORKER_USAGE);
    return 0;
  }
  const { token, backend, dataDir } = settings;
  let worker;
  try {
    worker = await startQueueWorker({
      url: parsed.url,
      concurrency: parsed.concurrency,
      superviseIntervalS: parsed.superviseIntervalS,
      ...(parsed.trainerUrl === undefined ? {} : { trainerUrl: parsed.trainerUrl }),
      ...(token ? { token } : {}),
      backend,
      ...(dataDir === undefined ? {} : { dataDir }),
    });
  } catch (error) {
    console.error(`worker: ${redactText((error as Error).message, parsed.url)}`);
    return error instanceof QueueUrlError || error instanceof QueueConnectionError ? 2 : 1;
  }
  const { promise: stopped, resolve } = Promise.withResolvers<string>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = () => resolve(signal);
    Deno.addSignalListener(signal, handler);
    return [signal, handler] as const;
  });
  const signal = await stopped;
  console.error(
    `worker ${worker.name}: ${signal}: stopping (up to ${parsed.graceS} s for points in flight); ` +
      `${worker.recorded()} points recorded`,
  );
  // A hard deadline whatever stopping gets stuck in: SIGKILL at grace + 5 s.
  armExitDeadline({ seconds: parsed.graceS + SHUTDOWN_SLACK_S });
  await worker.stop(parsed.graceS);
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  return 0;
}

if (import.meta.main) {
  // libc's _exit, loaded now: nothing is left to load once a stop has begun.
  prepareExit();
  // Not Deno.exit: libc's exit() can hang in OpenBLAS's destructor after a point's training
  // was stopped mid-call (see lib/service/exit.ts).
  exitProcess(await main(Deno.args));
}
