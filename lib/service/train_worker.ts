/**
 * The Web Worker every training runs in (see {@linkcode TrainingPool} in `training_pool.ts`).
 *
 * Protocol, one job per worker:
 * - parent → worker `{ type: "run", module, exportName, request, options }`: import `module` and
 *   call `module[exportName](request, { ...options, signal, onProgress })`;
 * - parent → worker `{ type: "abort" }`: abort that signal (the parent terminates the worker
 *   right after, so a trainer that ignores the signal still stops);
 * - worker → parent `{ type: "progress", event }` for each `onProgress(event)`, then exactly one
 *   `{ type: "result", result }` or `{ type: "error", error }`.
 *
 * Anything thrown — including a wasm `RuntimeError: Aborted()` or an uncaught rejection — is
 * posted as `{ type: "error" }` with the error's name, first message line and, when the thrown
 * value carries them, its limit fields; never a stack trace.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/// <reference lib="esnext" />

import type { WorkerError, WorkerRequest, WorkerResponse } from "./worker_protocol.ts";
import { describeError } from "./worker_protocol.ts";

const controller = new AbortController();
let finished = false;

function post(message: WorkerResponse): void {
  if (finished) return;
  if (message.type !== "progress") finished = true;
  self.postMessage(message);
}

function fail(error: unknown): void {
  const described: WorkerError = describeError(error);
  post({ type: "error", error: described });
}

self.addEventListener("error", (event) => {
  event.preventDefault();
  fail(event.error ?? event.message);
});
self.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  fail(event.reason);
});

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const message = event.data;
  if (message.type === "abort") {
    controller.abort(new DOMException("Training cancelled.", "AbortError"));
    return;
  }
  try {
    const mod = await import(message.module);
    const train = mod[message.exportName];
    if (typeof train !== "function") {
      throw new TypeError(`${message.module} has no function export ${message.exportName}.`);
    }
    const result = await train(message.request, {
      ...message.options,
      signal: controller.signal,
      onProgress: (progress: unknown) => post({ type: "progress", event: progress }),
    });
    post({ type: "result", result });
  } catch (error) {
    fail(error);
  }
};
