/**
 * `results.jsonl`: the append-only record of finished sweep points, one JSON object per line.
 *
 * Each point is appended and fsync'd the moment it finishes, so a killed sweep loses at most the
 * points in flight. Reopening the log reads what is there and skips a torn last line (a write cut
 * short by a crash: no trailing newline), truncating it away so the next append starts on a clean
 * line. A complete line that is not a valid result — which only a foreign edit or a damaged disk
 * can make — is no killed write: it is reported with its line number and moved aside to
 * `results.rejected.jsonl` (beside the log, one `{"line", "text"}` object per line), and the valid
 * results after it are kept. Keys are unique: appending a key already present is a no-op.
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
  /** Complete lines that were not valid results, moved to {@linkcode rejectedPath} on opening. */
  rejected: RejectedLine[];
  /** Where rejected lines are kept: `results.rejected.jsonl` beside the log. */
  rejectedPath: string;
  /**
   * Append a record and fsync it.
   *
   * @returns `false` (and writes nothing) when the key is already in the log.
   */
  append(record: ResultRecord): Promise<boolean>;
  /** Close the file. */
  close(): void;
}

/** A complete line of the log that is not a valid result. */
export interface RejectedLine {
  /** Its line number in the file, from 1. */
  line: number;
  /** Its text (without the newline). */
  text: string;
  /** Where it starts in the file, in bytes. */
  start: number;
  /** Where it ends, newline included, in bytes. */
  end: number;
}

/** What {@linkcode parseResults} found in a file's text. */
export interface ParsedResults {
  /** Valid records, in order (duplicates of earlier keys dropped). */
  records: ResultRecord[];
  /** Byte length of everything up to the last newline (the file without its torn tail). */
  validBytes: number;
  /** Whether the text ended in a torn (unterminated) line: a write a crash cut short. */
  tornLine: boolean;
  /** Complete lines that are not valid results (not JSON, or missing a field), in order. */
  rejected: RejectedLine[];
}

/**
 * Parse a results file's bytes.
 *
 * Only an unterminated last line is a torn write. A complete line that does not parse as a result
 * is reported in `rejected` with its line number, and the lines after it are read as usual.
 *
 * @param bytes The file's contents.
 * @returns The records, the length without the torn tail, whether there was one, and the
 *   rejected lines.
 *
 * @example
 * ```ts
 * import { parseResults } from "./results.ts";
 * const ok = '{"key":"a","N":1,"D":2,"loss":3,"budget_flops":4}';
 * const parsed = parseResults(new TextEncoder().encode(`${ok}\nnot json\n${ok.replace('"a"', '"b"')}\n`));
 * if (parsed.records.length !== 2 || parsed.rejected[0]?.line !== 2) throw new Error("unexpected");
 * ```
 */
export function parseResults(bytes: Uint8Array): ParsedResults {
  const decoder = new TextDecoder();
  const records: ResultRecord[] = [];
  const rejected: RejectedLine[] = [];
  const seen = new Set<string>();
  let start = 0;
  let lineNo = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) return { records, validBytes: start, tornLine: true, rejected };
    lineNo++;
    const text = decoder.decode(bytes.subarray(start, end));
    if (text.trim() !== "") {
      const record = parseRecord(text.trim());
      if (record === undefined) {
        rejected.push({ line: lineNo, text, start, end: end + 1 });
      } else if (!seen.has(record.key)) {
        seen.add(record.key);
        records.push(record);
      }
    }
    start = end + 1;
  }
  return { records, validBytes: start, tornLine: false, rejected };
}

/** The file's bytes without its rejected lines and its torn tail. */
function withoutRejected(bytes: Uint8Array, parsed: ParsedResults): Uint8Array {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const r of parsed.rejected) {
    parts.push(bytes.subarray(from, r.start));
    from = r.end;
  }
  parts.push(bytes.subarray(from, parsed.validBytes));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Move rejected lines out of the log: append them to `rejectedPath` (fsync'd), then replace the
 * log by its valid lines (written beside it, fsync'd, renamed over it). A crash in between only
 * means the same lines are set aside again on the next open.
 */
async function setAside(
  path: string,
  rejectedPath: string,
  bytes: Uint8Array,
  parsed: ParsedResults,
): Promise<void> {
  const encoder = new TextEncoder();
  const aside = await Deno.open(rejectedPath, { append: true, create: true });
  try {
    const text = parsed.rejected.map((r) => JSON.stringify({ line: r.line, text: r.text }) + "\n")
      .join("");
    const data = encoder.encode(text);
    let written = 0;
    while (written < data.length) written += await aside.write(data.subarray(written));
    await aside.syncData();
  } finally {
    aside.close();
  }
  const temporary = `${path}.rewrite`;
  const file = await Deno.open(temporary, { write: true, create: true, truncate: true });
  try {
    const data = withoutRejected(bytes, parsed);
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
    await file.syncData();
  } finally {
    file.close();
  }
  await Deno.rename(temporary, path);
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
  const rejectedPath = path.replace(/(\.jsonl)?$/, ".rejected.jsonl");
  if (parsed.rejected.length > 0) await setAside(path, rejectedPath, bytes, parsed);
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (parsed.tornLine && parsed.rejected.length === 0) {
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
    rejected: parsed.rejected,
    rejectedPath,
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
