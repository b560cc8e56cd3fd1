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
 * `Deno.exit` only where it cannot load libc (no FFI permission, another platform).
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
  if (rawExit === null) rawExit = loadRawExit();
  rawExit?.(code);
  Deno.exit(code);
}
