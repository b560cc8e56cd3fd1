/**
 * A long-lived Web Worker that runs short CPU-bound jobs (fits) one after another for
 * {@linkcode JobPool} (`job_pool.ts`), so they never block the thread that answers requests.
 *
 * Protocol: parent → worker `{ id, module, exportName, args }`: import `module` (cached after
 * the first job) and call `module[exportName](...args)`; worker → parent `{ id, result }` or
 * `{ id, error }` with the error reduced by `describeError` (name, first line, declared
 * status/field/extra — never a stack).
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/// <reference lib="esnext" />

import { describeError, type WorkerError } from "./worker_protocol.ts";

/** One job. */
interface JobMessage {
  id: number;
  module: string;
  exportName: string;
  args: unknown[];
}

/** Reply to one job. */
export type JobReply = { id: number; result: unknown } | { id: number; error: WorkerError };

let current: number | undefined;

function reply(message: JobReply): void {
  self.postMessage(message);
}

self.addEventListener("error", (event) => {
  event.preventDefault();
  if (current !== undefined) {
    reply({ id: current, error: describeError(event.error ?? event.message) });
  }
});
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  if (current !== undefined) reply({ id: current, error: describeError(event.reason) });
});

self.onmessage = async (event: MessageEvent<JobMessage>) => {
  const { id, module, exportName, args } = event.data;
  current = id;
  try {
    const mod = await import(module);
    const fn = mod[exportName];
    if (typeof fn !== "function") {
      throw new TypeError(`${module} has no function export ${exportName}.`);
    }
    reply({ id, result: await fn(...args) });
  } catch (error) {
    reply({ id, error: describeError(error) });
  } finally {
    current = undefined;
  }
};
