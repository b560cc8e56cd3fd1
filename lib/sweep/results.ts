/**
 * `results.jsonl`: the append-only record of finished sweep points, one JSON object per line.
 *
 * Each point is appended and fsync'd the moment it finishes, so a killed sweep loses at most the
 * points in flight. Reopening the log reads what is there, skips a torn last line (a write cut
 * short by a crash: no trailing newline, or not valid JSON) and truncates it away so the next
 * append starts on a clean line. Keys are unique: appending a key already present is a no-op.
 *
 * @module
 */

/** One finished point, as stored. */
export interface ResultRecord {
  /** The planned point's key (see `pointKey`). */
  key: string;
  /** The budget label (planned FLOPs). */
  budget_flops: number;
  /** The family's size parameter. */
  size: number;
  /** Parameters (N), as the trainer reports them. */
  N: number;
  /** Data seen (D): tokens or images, as the trainer reports them. */
  D: number;
  /** FLOPs the trainer spent. */
  C: number;
  /** Final training loss (smoothed over the last steps), nats. */
  loss: number;
  /** Held-out loss, when the trainer reports it. */
  eval_loss?: number;
  /** Wall-clock seconds of the training call. */
  wall_s: number;
  /** Which worker trained it (`in-process`, `mock`, or a URL). */
  worker: string;
  /** Backend the trainer reported, when any. */
  backend?: string;
  /** ISO time the point finished. */
  finished_at: string;
  /** The trainer's full response, minus its loss curve. */
  result?: Record<string, unknown>;
}

/** An open results log. */
export interface ResultsLog {
  /** Path of the file. */
  path: string;
  /** Every finished point, by key, in file order. */
  records: Map<string, ResultRecord>;
  /** Whether a torn last line was found (and removed) when opening. */
  tornLine: boolean;
  /**
   * Append a record and fsync it.
   *
   * @returns `false` (and writes nothing) when the key is already in the log.
   */
  append(record: ResultRecord): Promise<boolean>;
  /** Close the file. */
  close(): void;
}

/** What {@linkcode parseResults} found in a file's text. */
export interface ParsedResults {
  /** Valid records, in order (duplicates of earlier keys dropped). */
  records: ResultRecord[];
  /** Byte length of the valid prefix (everything up to the last good newline). */
  validBytes: number;
  /** Whether the text ended in a torn (unterminated or unparsable) line. */
  tornLine: boolean;
}

/**
 * Parse a results file's bytes.
 *
 * Complete lines that do not parse (which only a foreign edit can cause) stop the parse there and
 * count as torn, so nothing after them is silently trusted.
 *
 * @param bytes The file's contents.
 * @returns The records, the valid prefix length and whether the tail was torn.
 */
export function parseResults(bytes: Uint8Array): ParsedResults {
  const decoder = new TextDecoder();
  const records: ResultRecord[] = [];
  const seen = new Set<string>();
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) return { records, validBytes: start, tornLine: true };
    const line = decoder.decode(bytes.subarray(start, end)).trim();
    if (line !== "") {
      const record = parseRecord(line);
      if (record === undefined) return { records, validBytes: start, tornLine: true };
      if (!seen.has(record.key)) {
        seen.add(record.key);
        records.push(record);
      }
    }
    start = end + 1;
  }
  return { records, validBytes: start, tornLine: false };
}

function parseRecord(line: string): ResultRecord | undefined {
  try {
    const value = JSON.parse(line);
    if (
      typeof value === "object" && value !== null && typeof value.key === "string" &&
      Number.isFinite(value.N) && Number.isFinite(value.D) && Number.isFinite(value.loss) &&
      Number.isFinite(value.budget_flops)
    ) {
      return value as ResultRecord;
    }
  } catch {
    // fall through: not JSON
  }
  return undefined;
}

/**
 * Open (creating if needed) a results log, repairing a torn last line.
 *
 * @param path Path of `results.jsonl`.
 * @returns The open log.
 *
 * @example
 * ```ts
 * import { openResultsLog } from "./results.ts";
 * const dir = await Deno.makeTempDir();
 * const log = await openResultsLog(`${dir}/results.jsonl`);
 * if (log.records.size !== 0) throw new Error("unexpected");
 * log.close();
 * ```
 */
export async function openResultsLog(path: string): Promise<ResultsLog> {
  let bytes = new Uint8Array();
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const parsed = parseResults(bytes);
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (parsed.tornLine) {
    await file.truncate(parsed.validBytes);
    await file.syncData();
  }
  await file.seek(0, Deno.SeekMode.End);
  const records = new Map(parsed.records.map((r) => [r.key, r]));
  const encoder = new TextEncoder();
  // Appends are chained so concurrent finishes never interleave their bytes.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    path,
    records,
    tornLine: parsed.tornLine,
    append(record: ResultRecord): Promise<boolean> {
      const task = queue.then(async () => {
        if (records.has(record.key)) return false;
        const data = encoder.encode(JSON.stringify(record) + "\n");
        let written = 0;
        while (written < data.length) written += await file.write(data.subarray(written));
        await file.syncData();
        records.set(record.key, record);
        return true;
      });
      queue = task.catch(() => undefined);
      return task;
    },
    close() {
      file.close();
    },
  };
}
