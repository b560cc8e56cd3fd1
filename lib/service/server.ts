/**
 * Serving with a graceful shutdown: stop accepting, let in-flight requests finish for a
 * grace period, then cancel the trainings still running so their requests answer 503 and
 * the process can exit.
 *
 * @module
 */
import type { ConnectionWatch } from "./connection_watch.ts";
import type { JobPool } from "./job_pool.ts";
import { SlowClientReaper } from "./slow_clients.ts";
import type { TrainingPool } from "./training_pool.ts";

/** After trainings are cancelled, how long their requests get to write the 503, in ms. */
const CANCEL_FLUSH_MS = 4_000;

/**
 * A stopping program ends at most this long after its grace period: the cancelled requests'
 * flush, then the exit (the `armExitDeadline` watchdog enforces it), in seconds.
 */
export const SHUTDOWN_SLACK_S = 5;

/** Options of {@linkcode startServer}. */
export interface StartServerOptions {
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** Interface to bind. */
  hostname: string;
  /** The request handler (`app.fetch`). */
  fetch: (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>;
  /** The app's training pool, closed and drained at shutdown. */
  pool: TrainingPool;
  /** The app's fit pool: its jobs still running after the grace period are cancelled (503). */
  fitPool?: JobPool;
  /** How long in-flight work may run after shutdown starts, in seconds. */
  graceS: number;
  /** Lifecycle lines (listening, shutdown); silent when undefined. */
  log?: (line: string) => void;
  /**
   * Close connections that go this long without a request in flight (slow headers, idle
   * keep-alive), in seconds: needs the app's `connectionWatch` (see `slow_clients.ts`).
   */
  idle?: { timeoutS: number; watch: ConnectionWatch };
}

/** What {@linkcode RunningServer.shutdown} did. */
export interface ShutdownReport {
  /** Trainings cancelled because the grace period ran out. */
  cancelled: number;
  /** Whether every in-flight request ended (on its own or after cancellation). */
  drained: boolean;
  /** Time from the start of shutdown to its end, in milliseconds. */
  duration_ms: number;
}

/** A started server. */
export interface RunningServer {
  /** The bound address (the real port when 0 was asked for). */
  addr: Deno.NetAddr;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /**
   * Stop accepting connections, refuse new trainings, wait up to the grace period for
   * in-flight requests, then cancel the remaining trainings. Idempotent.
   */
  shutdown(): Promise<ShutdownReport>;
}

function sleep(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms));
}

/**
 * Serve `fetch` and return a handle whose `shutdown()` drains within a deadline.
 *
 * @param options Address, handler, pool, grace period, log sink.
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * const server = startServer({ port: 8000, hostname: "0.0.0.0", fetch: app.fetch, pool, graceS: 30 });
 * Deno.addSignalListener("SIGTERM", async () => { await server.shutdown(); Deno.exit(0); });
 * ```
 */
export function startServer(options: StartServerOptions): RunningServer {
  const { log } = options;
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname,
    onListen: (addr) => {
      log?.(JSON.stringify({ level: "info", event: "listening", ...addr }));
    },
  }, options.fetch);
  let shuttingDown: Promise<ShutdownReport> | undefined;
  const reaper = options.idle === undefined ? undefined : new SlowClientReaper({
    port: server.addr.port,
    idleTimeoutS: options.idle.timeoutS,
    watch: options.idle.watch,
    ...(log === undefined ? {} : { log }),
  });
  if (reaper !== undefined && !reaper.start()) {
    log?.(JSON.stringify({
      level: "warn",
      event: "idle_timeout_off",
      detail: "slow or idle connections cannot be closed here (needs Linux and --allow-ffi)",
    }));
  }

  async function shutdown(): Promise<ShutdownReport> {
    const startedMs = performance.now();
    log?.(JSON.stringify({
      level: "info",
      event: "shutdown",
      active_trainings: options.pool.active,
      grace_s: options.graceS,
    }));
    options.pool.close();
    const drained = server.shutdown().then(() => "drained" as const);
    let cancelled = 0;
    let outcome = await Promise.race([drained, sleep(options.graceS * 1000)]);
    if (outcome === "timeout") {
      cancelled = options.pool.active;
      options.pool.cancelAll();
      options.fitPool?.cancelAll();
      outcome = await Promise.race([drained, sleep(CANCEL_FLUSH_MS)]);
    }
    reaper?.stop();
    const report: ShutdownReport = {
      cancelled,
      drained: outcome === "drained",
      duration_ms: Math.round(performance.now() - startedMs),
    };
    log?.(JSON.stringify({ level: "info", event: "stopped", ...report }));
    return report;
  }

  return {
    addr: server.addr,
    finished: server.finished,
    shutdown: () => shuttingDown ??= shutdown(),
  };
}
