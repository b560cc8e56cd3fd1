/**
 * The user's own data, given by path: `text-file:<path>` (any file, byte-tokenised like
 * TinyStories) or `cifar-file:<path>` (records in CIFAR-10's binary layout, 10 classes). The last
 * {@linkcode HOLDOUT_FRACTION} of the file (by bytes, or by records) is the `validation` split, the
 * rest `train`.
 *
 * A relative path is resolved under `<data dir>/files/`; an absolute path is accepted only when the
 * caller allows it (the library and CLI do; the HTTP API does not, so a request can never read
 * outside the data directory). Paths with `..`, `.` or empty segments, backslashes or NUL are
 * refused either way.
 *
 * @module
 */
import { CIFAR_RECORD_BYTES, cifarSplit, parseCifarRecords } from "./cifar_binary.ts";
import { CIFAR10_CLASSES, CIFAR10_SPEC } from "./cifar10.ts";
import { isSafeRelativePath, memoizeFile, resolveDataDir } from "./cache.ts";
import { InvalidDataPathError } from "./errors.ts";
import { imageBatches, type ImageSplitSource } from "./image_source.ts";
import { checkBatchOptions } from "./order.ts";
import {
  contextOf,
  DEFAULT_CONTEXT,
  packedSequences,
  textBatches,
  tokensOfFile,
} from "./text_source.ts";
import { BYTE_TOKENIZER, BYTE_VOCAB_SIZE } from "./tokenizer.ts";
import type { Batch, BatchOptions, Dataset, DatasetInfo } from "./types.ts";

/** Share of a local file held out as the `validation` split. */
export const HOLDOUT_FRACTION = 0.1;

/** Name prefixes of local datasets. */
export const LOCAL_PREFIXES = ["text-file:", "cifar-file:"] as const;

/** Options of {@linkcode localDataset}. */
export interface LocalDatasetOptions {
  /** Data directory whose `files/` folder relative paths resolve under. */
  dataDir?: string;
  /** Whether an absolute path may be given. @default false */
  allowAbsolutePaths?: boolean;
}

/**
 * Resolve the path of a local dataset name, refusing traversal.
 *
 * @param path The part after the prefix.
 * @param options Data directory and whether absolute paths are allowed.
 * @returns The file's path.
 * @throws {InvalidDataPathError} Traversal, a forbidden absolute path, or a malformed path.
 */
export function resolveLocalPath(path: string, options: LocalDatasetOptions = {}): string {
  if (path.startsWith("/")) {
    if (!options.allowAbsolutePaths) {
      throw new InvalidDataPathError(
        `Absolute paths are not accepted here; put the file under <data dir>/files/ and name it ` +
          `relative to that folder.`,
      );
    }
    if (!isSafeRelativePath(path.slice(1))) {
      throw new InvalidDataPathError(`Path ${JSON.stringify(path)} has ., .. or empty segments.`);
    }
    return path;
  }
  if (!isSafeRelativePath(path)) {
    throw new InvalidDataPathError(
      `Path ${
        JSON.stringify(path)
      } must stay inside <data dir>/files/ (no .., ., empty segments, ` +
        `backslashes or NUL).`,
    );
  }
  return `${resolveDataDir(options.dataDir)}/files/${path}`;
}

/**
 * The dataset named `text-file:<path>` or `cifar-file:<path>`.
 *
 * @param name The full name with its prefix.
 * @param options Data directory and path policy.
 * @returns The dataset, or `undefined` when the name has neither prefix.
 * @throws {InvalidDataPathError} See {@linkcode resolveLocalPath}.
 */
export function localDataset(name: string, options: LocalDatasetOptions = {}): Dataset | undefined {
  if (name.startsWith("text-file:")) {
    return textFileDataset(name, resolveLocalPath(name.slice("text-file:".length), options));
  }
  if (name.startsWith("cifar-file:")) {
    return cifarFileDataset(name, resolveLocalPath(name.slice("cifar-file:".length), options));
  }
  return undefined;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const stat = await Deno.stat(path);
    return stat.isFile ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

function notFound(path: string): Error {
  return new Deno.errors.NotFound(`No readable file at ${path}.`);
}

/** The boundary between train and validation: `⌊n·(1 − HOLDOUT_FRACTION)⌋`. */
function holdoutStart(n: number): number {
  return Math.floor(n * (1 - HOLDOUT_FRACTION));
}

function textFileDataset(name: string, path: string): Dataset {
  const info: DatasetInfo = {
    name,
    description: `Your text file ${path}, byte-level tokens; the last ${
      HOLDOUT_FRACTION * 100
    }% is validation.`,
    modality: "text",
    splits: { train: { examples: 0, tokens: 0 }, validation: { examples: 0, tokens: 0 } },
    text: { tokenizer: BYTE_TOKENIZER, vocab_size: BYTE_VOCAB_SIZE },
    license: "Yours",
  };
  const ranges = (size: number): Record<string, { start: number; end: number }> => ({
    train: { start: 0, end: holdoutStart(size) },
    validation: { start: holdoutStart(size), end: size },
  });
  const refresh = async () => {
    const size = await fileSize(path);
    if (size === undefined) return false;
    for (const [split, r] of Object.entries(ranges(size))) {
      const tokens = r.end - r.start;
      info.splits[split] = {
        examples: Math.max(0, Math.floor((tokens - 1) / DEFAULT_CONTEXT)),
        tokens,
      };
    }
    return true;
  };
  return {
    info,
    isReady: () => refresh(),
    prepare: async () => {
      if (!(await refresh())) throw notFound(path);
    },
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), options);
      const context = contextOf(options);
      const size = await fileSize(path);
      if (size === undefined) throw notFound(path);
      const stream = await tokensOfFile(path, ranges(size)[options.split]!);
      yield* textBatches(packedSequences(stream, context), context, options);
    },
  };
}

/** Parsed CIFAR-binary files, split by the holdout; re-read when the file changes. */
const loadCifarFile = memoizeFile(async (path): Promise<Record<string, ImageSplitSource>> => {
  const records = parseCifarRecords([await Deno.readFile(path)], CIFAR10_CLASSES.length);
  const cut = holdoutStart(records.count);
  return { train: cifarSplit(records, 0, cut), validation: cifarSplit(records, cut) };
});

function cifarFileDataset(name: string, path: string): Dataset {
  const info: DatasetInfo = {
    name,
    description: `Your CIFAR-binary file ${path} (10 classes, CIFAR-10 normalisation); the last ${
      HOLDOUT_FRACTION * 100
    }% of records is validation.`,
    modality: "image",
    splits: { train: { examples: 0 }, validation: { examples: 0 } },
    image: { height: 32, width: 32, channels: 3, classes: CIFAR10_CLASSES },
    license: "Yours",
  };
  const load = async () => {
    const splits = await loadCifarFile(path);
    info.splits = Object.fromEntries(
      Object.entries(splits).map(([split, source]) => [split, { examples: source.count }]),
    );
    return splits;
  };
  return {
    info,
    isReady: async () => {
      const size = await fileSize(path);
      if (size === undefined) return false;
      const records = Math.floor(size / CIFAR_RECORD_BYTES);
      info.splits = {
        train: { examples: holdoutStart(records) },
        validation: { examples: records - holdoutStart(records) },
      };
      return true;
    },
    prepare: async () => {
      if ((await fileSize(path)) === undefined) throw notFound(path);
      await load();
    },
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), options);
      if ((await fileSize(path)) === undefined) throw notFound(path);
      const splits = await load();
      yield* imageBatches(splits[options.split]!, CIFAR10_SPEC, options);
    },
  };
}
