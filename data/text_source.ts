/**
 * Batches for language modelling, shared by every text dataset. A split is a set of `count`
 * sequences of `context + 1` tokens; batch rows are sequences in the seeded order
 * ({@linkcode ShuffledOrder}), `inputs = seq[0 … ctx−1]`, `targets = seq[1 … ctx]`.
 *
 * A token stream (a text file, byte-tokenised) is packed into non-overlapping windows: sequence
 * `k` is `tokens[k·ctx … k·ctx + ctx]` (its last token is the next window's first), so there are
 * `⌊(tokens − 1) / ctx⌋` sequences and every token but the first is a target exactly once.
 *
 * @module
 */
import { memoizeFile } from "./cache.ts";
import { ShuffledOrder } from "./order.ts";
import type { BatchOptions, TextBatch } from "./types.ts";

/** Default context length of text datasets (what `SplitInfo.examples` counts). */
export const DEFAULT_CONTEXT = 128;

/** Largest context a loader accepts. */
export const MAX_CONTEXT = 65_536;

/** A split's token stream with random access; byte tokens. */
export interface TokenStream {
  /** Number of tokens. */
  length: number;
  /** Copy `out.length` tokens starting at `start` into `out`. */
  read(start: number, out: Uint8Array): void;
  /** Release what the stream holds open (a file), if anything. */
  close?(): void;
}

/** A split as sequences: `fill(index, out)` writes sequence `index` (`out.length` = ctx + 1). */
export interface SequenceSource {
  /** Number of sequences at this context. */
  count: number;
  /** Write sequence `index` into `out`. */
  fill(index: number, out: Int32Array): void;
  /** Release the underlying stream, if it holds anything open. */
  close?(): void;
}

/**
 * Sequences of a packed token stream (module doc).
 *
 * @param stream The tokens.
 * @param context Sequence length.
 * @returns The split as sequences.
 * @throws {RangeError} Fewer than `context + 1` tokens.
 */
export function packedSequences(stream: TokenStream, context: number): SequenceSource {
  const count = Math.floor((stream.length - 1) / context);
  if (count < 1) {
    throw new RangeError(
      `The split holds ${stream.length} tokens, fewer than context + 1 = ${context + 1}.`,
    );
  }
  const scratch = new Uint8Array(context + 1);
  return {
    count,
    fill(index, out) {
      stream.read(index * context, scratch);
      for (let i = 0; i <= context; i++) out[i] = scratch[i]!;
    },
    close: () => stream.close?.(),
  };
}

/**
 * Tokens held in memory.
 *
 * @param bytes Byte tokens.
 * @returns The stream.
 */
export function memoryTokens(bytes: Uint8Array): TokenStream {
  return {
    length: bytes.length,
    read: (start, out) => out.set(bytes.subarray(start, start + out.length)),
  };
}

/**
 * Tokens read from a file on demand (seek + read per sequence), for files too big to hold.
 *
 * @param path File of byte tokens.
 * @param range Byte range `[start, end)` of the file that forms the split.
 * @returns The stream; its file stays open until `close()`.
 */
export function fileTokens(path: string, range: { start: number; end: number }): TokenStream {
  const file = Deno.openSync(path, { read: true });
  return {
    length: range.end - range.start,
    read(start, out) {
      file.seekSync(range.start + start, Deno.SeekMode.Start);
      let got = 0;
      while (got < out.length) {
        const n = file.readSync(out.subarray(got));
        if (n === null) {
          throw new RangeError(`${path} ended early at ${range.start + start + got}.`);
        }
        got += n;
      }
    },
    close: () => file.close(),
  };
}

/** Files larger than this are read on demand rather than held in memory. */
export const IN_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;

/** Loads a byte range of a file into memory; cached while the file is unchanged. */
const readRange = memoizeFile(async (path, variant) => {
  const [start, end] = variant.split(":").map(Number) as [number, number];
  using file = await Deno.open(path, { read: true });
  await file.seek(start, Deno.SeekMode.Start);
  const bytes = new Uint8Array(end - start);
  let got = 0;
  while (got < bytes.length) {
    const n = await file.read(bytes.subarray(got));
    if (n === null) throw new RangeError(`${path} is shorter than ${end} bytes.`);
    got += n;
  }
  return memoryTokens(bytes);
});

/**
 * A byte range of a file as a token stream: in memory when small (read once while the file is
 * unchanged), on demand when large (one open file per call, released by `close()`).
 *
 * @param path The file.
 * @param range Byte range `[start, end)`.
 * @returns The stream.
 */
export async function tokensOfFile(
  path: string,
  range: { start: number; end: number },
): Promise<TokenStream> {
  if (range.end - range.start > IN_MEMORY_LIMIT_BYTES) return fileTokens(path, range);
  return await readRange(path, `${range.start}:${range.end}`);
}

/**
 * Check and default the context of text batch options.
 *
 * @param options Batch options.
 * @returns The context length.
 * @throws {RangeError} A context that is not an integer in `[1, MAX_CONTEXT]`.
 */
export function contextOf(options: BatchOptions): number {
  const context = options.context ?? DEFAULT_CONTEXT;
  if (!Number.isInteger(context) || context < 1 || context > MAX_CONTEXT) {
    throw new RangeError(`context must be an integer in [1, ${MAX_CONTEXT}], got ${context}.`);
  }
  return context;
}

/**
 * Endless seeded batches of sequences.
 *
 * @param source The split as sequences of `context + 1` tokens.
 * @param context Sequence length.
 * @param options Batch size, seed, start batch.
 * @returns Text batches; closing the iterator (`return()`) closes the source.
 */
export async function* textBatches(
  source: SequenceSource,
  context: number,
  options: BatchOptions,
): AsyncIterableIterator<TextBatch> {
  const order = new ShuffledOrder(source.count, options.seed);
  const B = options.batchSize;
  const seq = new Int32Array(context + 1);
  try {
    for (let position = (options.startBatch ?? 0) * B;; position += B) {
      const inputs = new Int32Array(B * context);
      const targets = new Int32Array(B * context);
      for (let b = 0; b < B; b++) {
        source.fill(order.indexAt(position + b), seq);
        inputs.set(seq.subarray(0, context), b * context);
        targets.set(seq.subarray(1), b * context);
      }
      yield { kind: "text", inputs, targets, shape: [B, context] };
    }
  } finally {
    source.close?.();
  }
}
