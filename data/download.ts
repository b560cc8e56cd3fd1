/**
 * Downloads into the cache: streamed to `<dest>.part` with progress, resumed with an HTTP `Range`
 * request (or restarted cleanly when the server ignores it), verified against sha256 / md5, then
 * renamed into place atomically — all under a cross-process lock, so a half-written file is never
 * seen at `dest` and two processes never write the same `.part` at once.
 *
 * A file the user puts at `dest` by hand is verified once on first use; a `<dest>.verified` stamp
 * records the checksums it passed so later uses skip the hashing.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { exists, writeAtomic } from "./cache.ts";
import { DataUnavailableError } from "./errors.ts";
import { withFileLock } from "./lock.ts";

/** Checksums of a file, lower-case hex. */
export interface Checksums {
  /** SHA-256. */
  sha256?: string;
  /** MD5 (what many dataset pages publish; not in WebCrypto, so `node:crypto`). */
  md5?: string;
}

/** Options of {@linkcode ensureDownloaded}. */
export interface DownloadOptions {
  /** Source URL. */
  url: string;
  /** Final path of the verified file. */
  dest: string;
  /** Expected checksums; empty means "record the sha256 we got" (no published checksum). */
  expected: Checksums;
  /** Expected size in bytes, when known. */
  size?: number;
  /** Cancels the download (the `.part` file is kept for a later resume). */
  signal?: AbortSignal;
  /** Receives progress lines, at most about once a second. */
  onProgress?: (message: string) => void;
  /** `fetch` to use (tests inject failures). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Seconds between progress messages. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * Hash a file with the given algorithms in one streamed pass.
 *
 * @param path File to hash.
 * @param algorithms Any of `sha256`, `md5`.
 * @returns Hex digests by algorithm.
 */
export async function hashFile(
  path: string,
  algorithms: readonly (keyof Checksums)[],
): Promise<Checksums> {
  const hashes = algorithms.map((a) => createHash(a));
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) for (const h of hashes) h.update(chunk);
  const out: Checksums = {};
  algorithms.forEach((a, i) => out[a] = hashes[i]!.digest("hex"));
  return out;
}

/**
 * Make sure `dest` holds the verified file, downloading it when needed.
 *
 * @param options What to fetch, where to, and how to check it.
 * @returns The checksums the file passed (its sha256 when none were expected).
 * @throws {DataUnavailableError} Offline, HTTP error, size or checksum mismatch; the message names
 * the URL, the expected checksum and `dest` as the place to put the file by hand.
 */
export async function ensureDownloaded(options: DownloadOptions): Promise<Checksums> {
  const { dest } = options;
  await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")) || ".", { recursive: true });
  return await withFileLock(`${dest}.lock`, async () => {
    const stamp = await readStamp(dest);
    if (stamp !== undefined && (await exists(dest)) && stampMatches(stamp, options.expected)) {
      return stamp;
    }
    if (await exists(dest)) {
      const got = await verify(dest, options);
      if (got === undefined) {
        throw unavailable(
          `The file at ${dest} does not match the expected checksum (delete it to download again).`,
          options,
        );
      }
      await writeAtomic(`${dest}.verified`, JSON.stringify(got));
      return got;
    }
    const part = `${dest}.part`;
    await fetchToPart(part, options);
    const got = await verify(part, options);
    if (got === undefined) {
      await Deno.remove(part);
      throw unavailable(`The download of ${options.url} does not match its checksum.`, options);
    }
    await Deno.rename(part, dest);
    await writeAtomic(`${dest}.verified`, JSON.stringify(got));
    return got;
  });
}

/** Expected checksums when some are set, else the sha256 to record. */
function algorithmsFor(expected: Checksums): (keyof Checksums)[] {
  const algos = (Object.keys(expected) as (keyof Checksums)[]).filter((k) => expected[k]);
  return algos.length === 0 ? ["sha256"] : algos;
}

/** Hash `path` and compare with the expectation; `undefined` on mismatch. */
async function verify(path: string, options: DownloadOptions): Promise<Checksums | undefined> {
  if (options.size !== undefined && (await Deno.stat(path)).size !== options.size) return undefined;
  const got = await hashFile(path, algorithmsFor(options.expected));
  for (const [algo, want] of Object.entries(options.expected)) {
    if (want && got[algo as keyof Checksums] !== want.toLowerCase()) return undefined;
  }
  return got;
}

async function readStamp(dest: string): Promise<Checksums | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dest}.verified`)) as Checksums;
  } catch {
    return undefined;
  }
}

function stampMatches(stamp: Checksums, expected: Checksums): boolean {
  return Object.entries(expected).every(([k, v]) =>
    !v || stamp[k as keyof Checksums] === v.toLowerCase()
  );
}

function unavailable(reason: string, options: DownloadOptions): DataUnavailableError {
  const expected: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.expected)) if (v) expected[k] = v;
  return new DataUnavailableError(reason, {
    url: options.url,
    expected,
    manualPath: options.dest,
  });
}

/**
 * Stream the URL into `part`, resuming from its current length with `Range` when it exists.
 * A server that answers 200 to a ranged request restarts the file from zero; 416 means the part
 * is already whole.
 */
async function fetchToPart(part: string, options: DownloadOptions): Promise<void> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let have = 0;
  try {
    have = (await Deno.stat(part)).size;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  if (options.size !== undefined && have > options.size) have = 0;
  const headers: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  let response: Response;
  try {
    response = await doFetch(options.url, { headers, signal: options.signal });
  } catch (error) {
    throw unavailable(`Cannot reach ${options.url} (${(error as Error).message}).`, options);
  }
  if (response.status === 416 && have > 0) {
    await response.body?.cancel();
    return; // the part already holds every byte; verification decides
  }
  let append = false;
  if (response.status === 206 && have > 0) {
    const range = response.headers.get("content-range") ?? "";
    append = new RegExp(`^bytes ${have}-`).test(range);
    if (!append) {
      await response.body?.cancel();
      throw unavailable(`The server sent an unexpected range (${range}).`, options);
    }
  } else if (response.status !== 200) {
    await response.body?.cancel();
    throw unavailable(`${options.url} answered HTTP ${response.status}.`, options);
  }
  const length = Number(response.headers.get("content-length") ?? NaN);
  const total = options.size ?? (append ? have + length : length);
  await using file = await Deno.open(part, {
    create: true,
    write: true,
    append,
    truncate: !append,
  });
  let received = append ? have : 0;
  let lastReport = performance.now();
  const started = lastReport;
  const startBytes = received;
  try {
    for await (const chunk of response.body!) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
      received += chunk.length;
      const now = performance.now();
      if (options.onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        options.onProgress(progressLine(options.url, received, total, startBytes, now - started));
      }
    }
  } catch (error) {
    throw unavailable(
      `The download of ${options.url} stopped after ${received} bytes ` +
        `(${(error as Error).message}); the next attempt resumes from there.`,
      options,
    );
  }
  options.onProgress?.(
    progressLine(options.url, received, total, startBytes, performance.now() - started),
  );
}

function progressLine(
  url: string,
  received: number,
  total: number,
  startBytes: number,
  elapsedMs: number,
): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const rate = (received - startBytes) / 1e6 / Math.max(elapsedMs / 1000, 1e-3);
  const pct = Number.isFinite(total) && total > 0
    ? ` (${Math.floor((100 * received) / total)}%)`
    : "";
  const of = Number.isFinite(total) ? ` / ${mb(total)}` : "";
  return `${url.slice(url.lastIndexOf("/") + 1)}: ${mb(received)}${of} MB${pct}, ${
    rate.toFixed(1)
  } MB/s`;
}

/**
 * {@linkcode ensureDownloaded} for several files of one remote folder into one local folder.
 *
 * @param options Folder URL (ending in `/`), local folder, file names, their checksums, and the
 * signal and progress callback passed on.
 */
export async function ensureFilesDownloaded(options: {
  baseUrl: string;
  dir: string;
  files: readonly string[];
  checksums: Record<string, Checksums>;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}): Promise<void> {
  for (const file of options.files) {
    await ensureDownloaded({
      url: `${options.baseUrl}${file}`,
      dest: `${options.dir}/${file}`,
      expected: options.checksums[file] ?? {},
      signal: options.signal,
      onProgress: options.onProgress,
    });
  }
}
