/**
 * Ending the process after a graceful stop without running native libraries' exit handlers.
 *
 * `Deno.exit` ends through libc's `exit()`, which runs every `atexit` handler and the destructors
 * of the libraries loaded with `Deno.dlopen`. OpenBLAS's destructor (`blas_thread_shutdown_`)
 * joins its thread pool, and when a training worker was terminated in the middle of a BLAS call
 * one of those threads never comes back: the server had answered its 503 and logged `stopped`,
 * then sat in `exit()` forever (issue 22). By the time a program exits on purpose it has drained
 * its requests and written its files, so nothing those handlers would do is needed:
 * {@linkcode exitProcess} calls libc's `_exit()` (no handlers, no destructors) and falls back to
 * `Deno.exit` only where it cannot load libc (no FFI permission, another platform). Programs
 * call {@linkcode prepareExit} at startup, so that no `dlopen` is left to do at exit time.
 *
 * A hard deadline backs this up: {@linkcode armExitDeadline} starts a watchdog worker — its own
 * thread, which keeps running whatever the main thread is stuck in — that kills the process with
 * SIGKILL if it is still alive when the deadline passes.
 *
 * @module
 */

/** Where libc is, per operating system. */
const LIBC: Partial<Record<typeof Deno.build.os, string>> = {
  linux: "libc.so.6",
  darwin: "libSystem.B.dylib",
  freebsd: "libc.so.7",
};

/** The one symbol used. */
const SYMBOLS = { _exit: { parameters: ["i32"], result: "void" } } as const;

/**
 * libc's `_exit`, or undefined where it cannot be loaded. Loaded at startup by callers that want
 * it ready (a `dlopen` at exit time is one more thing that could fail late).
 *
 * @returns The function, or undefined.
 */
export function loadRawExit(): ((code: number) => void) | undefined {
  const path = LIBC[Deno.build.os];
  if (path === undefined || typeof Deno.dlopen !== "function") return undefined;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
    const libc = Deno.dlopen(path, SYMBOLS);
    return (code) => libc.symbols._exit(code);
  } catch {
    return undefined;
  }
}

let rawExit: ((code: number) => void) | undefined | null = null;

/**
 * Load libc's `_exit` now (at startup) rather than at exit time. Idempotent.
 *
 * @returns Whether `exitProcess` will skip the exit handlers.
 */
export function prepareExit(): boolean {
  if (rawExit === null) rawExit = loadRawExit();
  return rawExit !== undefined;
}

/** The watchdog worker's script. */
const WATCHDOG_URL = new URL("./exit_watchdog.ts", import.meta.url);

/** Options of {@linkcode armExitDeadline}. */
export interface ExitDeadlineOptions {
  /** Seconds from now after which the process is killed if it is still alive. */
  seconds: number;
  /** Line written to standard error just before the kill. */
  line?: string;
}

/**
 * Kill this process (SIGKILL) if it is still alive `seconds` from now, from a watchdog worker
 * that does not need the main thread. Arm it when a shutdown starts, with the longest the
 * shutdown may take.
 *
 * @param options The deadline and the line to log when it fires.
 * @returns A function that disarms the watchdog (stops its worker).
 *
 * @example
 * ```ts ignore
 * import { armExitDeadline, exitProcess } from "./exit.ts";
 * armExitDeadline({ seconds: graceS + 5 });
 * const report = await server.shutdown();
 * exitProcess(report.drained ? 0 : 1);
 * ```
 */
export function armExitDeadline(options: ExitDeadlineOptions): () => void {
  const worker = new Worker(WATCHDOG_URL, { type: "module", name: "flops-fit-exit-watchdog" });
  worker.postMessage({
    ms: Math.max(0, options.seconds * 1000),
    line: options.line ?? JSON.stringify({
      level: "error",
      event: "exit_deadline",
      detail: `still running ${options.seconds} s after shutdown began; killed`,
    }),
  });
  return () => worker.terminate();
}

/**
 * End the process now with `code`, skipping `atexit` handlers and native destructors (see the
 * module doc). Standard output and error are unbuffered in Deno, so every line already logged is
 * kept; call it only once the program's work is drained and its files are closed.
 *
 * @param code Exit status.
 * @returns Never.
 *
 * @example
 * ```ts ignore
 * import { exitProcess } from "./exit.ts";
 * const report = await server.shutdown();
 * exitProcess(report.drained ? 0 : 1);
 * ```
 */
export function exitProcess(code: number): never {
  prepareExit();
  rawExit?.(code);
  Deno.exit(code);
}
