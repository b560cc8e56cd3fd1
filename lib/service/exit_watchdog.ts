/**
 * The watchdog worker of `armExitDeadline` (`exit.ts`): given `{ ms, line }`, it waits `ms` on
 * its own thread, writes `line` to standard error and kills the process with SIGKILL — a
 * syscall that cannot wait on anything the main thread may be stuck in.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/// <reference lib="esnext" />

self.onmessage = (event: MessageEvent<{ ms: number; line: string }>) => {
  const { ms, line } = event.data;
  setTimeout(() => {
    console.error(line);
    Deno.kill(Deno.pid, "SIGKILL");
  }, ms);
};
