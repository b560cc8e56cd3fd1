/**
 * `deno task sweep --queue postgres://…` and `--status`: the queued study's command line. The
 * sweep's own CLI hands over when it sees `--queue`; every other flag means what it means there.
 *
 * @module
 */
import type { StudyEnvironment, SweepConfig } from "../sweep/mod.ts";
import { printQueueStatus, runQueuedSweep } from "./coordinator.ts";
import { QueueConnectionError } from "./db.ts";
import { QueueUrlError, redactText } from "./url.ts";

/** The queue flags' usage lines (appended to the sweep's usage). */
export const QUEUE_USAGE = `
Queue mode (points on a Postgres job queue; workers pull them with \`deno task worker\`):

  --queue URL             postgres://user:password@host:port/db; enqueue, watch, fit, report
  --status                with --queue: print where the study stands, enqueue nothing
  --lease S               seconds without a heartbeat before a point is retried (default 60)
  --backoff S             first retry delay in seconds, doubled per retry (default 1)
`;

/** What the sweep CLI lends the queue command (passed in, so neither module imports the other). */
export interface SweepCli {
  /** The sweep's usage text. */
  usage: string;
  /** Parse the sweep's flags and resolve the configuration. */
  resolve(args: string[]): Promise<{ config: SweepConfig; help: boolean; planOnly: boolean }>;
  /** Registries for a configuration. */
  environment(config: SweepConfig): StudyEnvironment;
}

/** The queue flags, split from the sweep's. */
export interface QueueArgs {
  /** The connection string. */
  url?: string;
  /** `--status`. */
  status: boolean;
  /** `--lease`, seconds. */
  leaseS?: number;
  /** `--backoff`, seconds. */
  backoffS?: number;
  /** Every other argument, for the sweep's parser. */
  rest: string[];
}

/**
 * Whether a command line asks for queue mode.
 *
 * @param args Command-line arguments.
 * @returns `true` when `--queue` or `--status` is present.
 */
export function wantsQueue(args: readonly string[]): boolean {
  return args.some((a) => a === "--queue" || a.startsWith("--queue=") || a === "--status");
}

/**
 * Split the queue flags off a command line.
 *
 * @param args Command-line arguments.
 * @returns The queue flags and the rest.
 * @throws {TypeError} For a flag without its value or a malformed number.
 */
export function splitQueueArgs(args: readonly string[]): QueueArgs {
  const out: QueueArgs = { status: false, rest: [] };
  const number = (flag: string, text: string | undefined) => {
    const x = Number(text);
    if (text === undefined || text.trim() === "" || !Number.isFinite(x)) {
      throw new TypeError(`--${flag}: "${text ?? ""}" is not a number.`);
    }
    return x;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new TypeError(`${flag} needs a value.`);
      return v;
    };
    if (flag === "--queue") out.url = value();
    else if (flag === "--status") out.status = true;
    else if (flag === "--lease") out.leaseS = number("lease", value());
    else if (flag === "--backoff") out.backoffS = number("backoff", value());
    else out.rest.push(arg);
  }
  return out;
}

/**
 * The queued sweep command: exit 0 when every point is recorded and fitted, 1 when some failed
 * (or `--status` found no such study), 2 for a usage error or a database that cannot be reached,
 * 130 when interrupted (the study carries on in the queue).
 *
 * @param args Command-line arguments.
 * @param cli The sweep CLI's parser and registries.
 * @returns The exit status.
 */
export async function queuedSweepMain(args: string[], cli: SweepCli): Promise<number> {
  let queueArgs: QueueArgs;
  let config: SweepConfig;
  let planOnly: boolean;
  const redact = (text: string) =>
    queueArgs?.url === undefined ? text : redactText(text, queueArgs.url);
  try {
    queueArgs = splitQueueArgs(args);
    const resolved = await cli.resolve(queueArgs.rest);
    if (resolved.help) {
      console.log(cli.usage + QUEUE_USAGE);
      return 0;
    }
    ({ config, planOnly } = resolved);
    if (queueArgs.url === undefined) throw new TypeError("--status needs --queue URL.");
    if (config.trainers.length > 0) {
      throw new TypeError("--workers and --queue are exclusive: queue workers pull their points.");
    }
    if (config.adaptive !== undefined) {
      throw new TypeError(
        "--adaptive (or `adaptive` in the sweep file) runs in-process or with --workers; " +
          "a queued study trains its planned grids only.",
      );
    }
  } catch (error) {
    console.error(`sweep: ${redact((error as Error).message)}\n\n${cli.usage}${QUEUE_USAGE}`);
    return 2;
  }
  const url = queueArgs.url;
  const controller = new AbortController();
  const onSignal = () => {
    console.error("\nsweep: stopped watching; the queued points carry on.");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const env = cli.environment(config);
    if (queueArgs.status) return await printQueueStatus(config, env, { url });
    const outcome = await runQueuedSweep(config, env, {
      url,
      signal: controller.signal,
      planOnly,
      ...(queueArgs.leaseS === undefined ? {} : { leaseS: queueArgs.leaseS }),
      ...(queueArgs.backoffS === undefined ? {} : { backoffS: queueArgs.backoffS }),
    });
    if (planOnly) return 0;
    if (controller.signal.aborted) return 130;
    return (outcome.run?.failed.length ?? 0) > 0 ? 1 : 0;
  } catch (error) {
    const message = redact((error as Error).message);
    console.error(`sweep: ${message}`);
    return error instanceof QueueUrlError || error instanceof QueueConnectionError ||
        error instanceof RangeError
      ? 2
      : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
