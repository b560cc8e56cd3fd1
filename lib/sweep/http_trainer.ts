/**
 * The HTTP side of the train contract (`docs/train_contract.md`), as a client: a worker that
 * trains points with `POST {url}/v1/train` (flops-fit's server, the PyTorch worker in
 * `examples/pytorch/`, or any server speaking it), the `GET {url}/v1/families/{name}` table
 * request, and `--workers` parsing. Failures follow one rule (`isPermanentStatus`): a 4xx other
 * than 408/429 is permanent, everything else may be retried.
 *
 * @module
 */
import { type FamilyDescription, parseFamilyDescription } from "../plan/mod.ts";
import { type PointProgress, statusError, type Trainer } from "./trainer.ts";

/**
 * A trainer that trains over HTTP: `POST {url}/v1/train` with the point's request as the body.
 * It asks for an NDJSON progress stream and also accepts a plain JSON answer, so any server
 * speaking the endpoint works. 4xx answers (other than 408/429) are permanent failures.
 *
 * @param url The trainer's base URL, e.g. `http://10.0.0.7:8000`.
 * @param options.concurrency Points in flight on this trainer. @default 1
 * @param options.token Bearer token to send, when the trainer requires one.
 * @returns The trainer.
 */
export function httpTrainer(
  url: string,
  options: { concurrency?: number; token?: string } = {},
): Trainer {
  const endpoint = new URL("v1/train", url.endsWith("/") ? url : `${url}/`).href;
  return {
    name: url,
    concurrency: options.concurrency ?? 1,
    async train(request, { signal, onProgress }) {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "application/x-ndjson, application/json;q=0.9",
      };
      if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
      const response = await fetch(endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify(request),
        signal,
      });
      const type = response.headers.get("content-type") ?? "";
      if (!response.ok) {
        throw statusError(
          response.status,
          `${url} answered ${response.status}: ${await problemDetail(response)}`,
        );
      }
      if (!/ndjson|event-stream/.test(type)) return await response.json();
      return await readStream(response, url, onProgress);
    },
  };
}

/** Read an NDJSON (or SSE `data:`) stream of progress events ending with the result. */
async function readStream(
  response: Response,
  url: string,
  onProgress?: (progress: PointProgress) => void,
): Promise<Record<string, unknown>> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let result: Record<string, unknown> | undefined;
  const handle = (raw: string) => {
    const line = raw.startsWith("data:") ? raw.slice(5).trim() : raw.trim();
    if (line === "" || line.startsWith(":") || line.startsWith("event:")) return;
    const event = JSON.parse(line) as Record<string, unknown>;
    const kind = event.type ?? event.event;
    if (kind === "error" || (typeof event.status === "number" && event.status >= 400)) {
      const detail = String(event.detail ?? event.message ?? event.error ?? "training failed");
      const status = typeof event.status === "number" ? event.status : undefined;
      const message = `${url} reported${status === undefined ? "" : ` ${status}`}: ${detail}`;
      // A refusal of the request itself (4xx other than 408/429) will not change on retry.
      throw status === undefined ? new Error(message) : statusError(status, message);
    }
    if (kind === "result" || kind === "done") {
      const inner = event.result ?? event.data;
      result = (typeof inner === "object" && inner !== null ? inner : event) as Record<
        string,
        unknown
      >;
    } else if (kind === "progress" || kind === "step") {
      onProgress?.({
        ...(typeof event.step === "number" ? { step: event.step } : {}),
        ...(typeof event.steps === "number" ? { steps: event.steps } : {}),
        ...(typeof event.loss === "number" ? { loss: event.loss } : {}),
      });
    } else if (typeof event.loss === "number" && "params" in event) {
      result = event;
    }
  };
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      handle(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer.trim() !== "") handle(buffer);
  if (result === undefined) throw new Error(`${url} closed the stream without a result.`);
  return result;
}

/**
 * Parse `--trainers`: comma-separated base URLs.
 *
 * @param list e.g. `http://a:8000,http://b:8000`.
 * @returns The URLs, trimmed.
 * @throws {TypeError} For anything that is not an http(s) URL.
 */
export function parseTrainerList(list: string): string[] {
  return list.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    let parsed: URL;
    try {
      parsed = new URL(s);
    } catch {
      throw new TypeError(`--workers: "${s}" is not a URL.`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new TypeError(`--workers: "${s}" is not an http(s) URL.`);
    }
    return s;
  });
}

/** The `detail` of a problem+json answer, else the first 500 characters of the body. */
async function problemDetail(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const problem = JSON.parse(text);
    if (typeof problem.detail === "string") return problem.detail;
  } catch {
    // not JSON: keep the text
  }
  return text.slice(0, 500);
}

/** What a trainer said about a family: its table, or that it does not know it. */
export type FamilyAnswer =
  | { known: true; table: FamilyDescription }
  | { known: false; detail: string };

/**
 * Ask a trainer for a family's table: `GET {url}/v1/families/{name}?dataset=…&config=…`.
 *
 * @param url The trainer's base URL.
 * @param name The family.
 * @param options.dataset Dataset the sizes are built for (sent as `dataset`).
 * @param options.model Config fields fixed for every size (sent as JSON in `config`).
 * @param options.token Bearer token, when the trainer requires one.
 * @param options.signal Cancels the request.
 * @returns The validated table, or `known: false` when the worker answers 404.
 * @throws {FamilyDescriptionError} When the table breaks the contract (names the field).
 * @throws {Error} When the worker cannot be reached or answers another failure.
 */
export async function fetchFamilyTable(
  url: string,
  name: string,
  options: {
    dataset?: string;
    model?: Record<string, unknown>;
    token?: string;
    signal?: AbortSignal;
  } = {},
): Promise<FamilyAnswer> {
  const endpoint = new URL(
    `v1/families/${encodeURIComponent(name)}`,
    url.endsWith("/") ? url : `${url}/`,
  );
  if (options.dataset !== undefined) endpoint.searchParams.set("dataset", options.dataset);
  if (options.model !== undefined) {
    endpoint.searchParams.set("config", JSON.stringify(options.model));
  }
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(endpoint, {
    headers,
    signal: options.signal ?? AbortSignal.timeout(60_000),
  });
  if (response.status === 404) return { known: false, detail: await problemDetail(response) };
  if (!response.ok) {
    throw new Error(
      `${url} answered GET /v1/families/${name} with ${response.status}: ` +
        (await problemDetail(response)),
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new Error(`${url} answered GET /v1/families/${name} with no JSON: ${error}`);
  }
  return { known: true, table: parseFamilyDescription(body, url) };
}
