/**
 * The user's own data, given by path: `text-file:<path>` (any file, byte-tokenised like
 * TinyStories) or `cifar-file:<path>` (records in CIFAR-10's binary layout, 10 classes). The last
 * {@linkcode HOLDOUT_FRACTION} of the file (by bytes, or by records) is the `validation` split, the
 * rest `train`.
 *
 * A relative path is resolved under `<data dir>/files/`; an absolute path is accepted only when the
 * caller allows it (the library and CLI do; the HTTP API does not, so a request can never read
 * outside the data directory). Paths with `..`, `.` or empty segments, backslashes or NUL are
 * refused either way, and a relative path is read only when its real path (symbolic links
 * followed) is still inside `<data dir>/files/`: `files/root → /` does not open `/etc/passwd`.
 * Descriptions and errors of a relative path name it `<data dir>/files/<path>`, never the
 * server's absolute path.
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
  for (
    const [prefix, make] of [["text-file:", textFileDataset], [
      "cifar-file:",
      cifarFileDataset,
    ]] as const
  ) {
    if (!name.startsWith(prefix)) continue;
    const given = name.slice(prefix.length);
    const path = resolveLocalPath(given, options);
    const file: LocalFile = given.startsWith("/") ? { path, shown: path } : {
      path,
      root: `${resolveDataDir(options.dataDir)}/files`,
      shown: `<data dir>/files/${given}`,
    };
    return make(name, file);
  }
  return undefined;
}

/** Where a local dataset's file is, and how to name it in descriptions and errors. */
interface LocalFile {
  /** The path as resolved (symbolic links not yet followed). */
  path: string;
  /** For a relative name: the folder the file's real path must stay inside. */
  root?: string;
  /** The name shown to clients: never the server's absolute path for a relative name. */
  shown: string;
}

/**
 * The path to open: the file's real path, checked to be inside its root when it has one.
 *
 * @returns The path, or undefined when nothing is there.
 * @throws {InvalidDataPathError} When a symbolic link leads outside the root.
 */
async function readablePath(file: LocalFile): Promise<string | undefined> {
  if (file.root === undefined) return file.path;
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([Deno.realPath(file.path), Deno.realPath(file.root)]);
  } catch {
    return undefined;
  }
  if (!real.startsWith(`${root}/`)) {
    throw new InvalidDataPathError(
      `${file.shown} leads outside <data dir>/files/ (a symbolic link); it is not read.`,
    );
  }
  return real;
}

/** The file's real path and size, or undefined when it is not a readable file. */
async function statFile(file: LocalFile): Promise<{ path: string; size: number } | undefined> {
  const path = await readablePath(file);
  if (path === undefined) return undefined;
  try {
    const stat = await Deno.stat(path);
    return stat.isFile ? { path, size: stat.size } : undefined;
  } catch {
    return undefined;
  }
}

function notFound(file: LocalFile): Error {
  return new Deno.errors.NotFound(`No readable file at ${file.shown}.`);
}

/** The boundary between train and validation: `⌊n·(1 − HOLDOUT_FRACTION)⌋`. */
function holdoutStart(n: number): number {
  return Math.floor(n * (1 - HOLDOUT_FRACTION));
}

function textFileDataset(name: string, file: LocalFile): Dataset {
  const info: DatasetInfo = {
    name,
    description: `Your text file ${file.shown}, byte-level tokens; the last ${
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
    const size = (await statFile(file))?.size;
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
      if (!(await refresh())) throw notFound(file);
    },
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), options);
      const context = contextOf(options);
      const found = await statFile(file);
      if (found === undefined) throw notFound(file);
      const stream = await tokensOfFile(found.path, ranges(found.size)[options.split]!);
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

function cifarFileDataset(name: string, file: LocalFile): Dataset {
  const info: DatasetInfo = {
    name,
    description:
      `Your CIFAR-binary file ${file.shown} (10 classes, CIFAR-10 normalisation); the last ${
        HOLDOUT_FRACTION * 100
      }% of records is validation.`,
    modality: "image",
    splits: { train: { examples: 0 }, validation: { examples: 0 } },
    image: { height: 32, width: 32, channels: 3, classes: CIFAR10_CLASSES },
    license: "Yours",
  };
  const load = async () => {
    const found = await statFile(file);
    if (found === undefined) throw notFound(file);
    const splits = await loadCifarFile(found.path);
    info.splits = Object.fromEntries(
      Object.entries(splits).map(([split, source]) => [split, { examples: source.count }]),
    );
    return splits;
  };
  return {
    info,
    isReady: async () => {
      const size = (await statFile(file))?.size;
      if (size === undefined) return false;
      const records = Math.floor(size / CIFAR_RECORD_BYTES);
      info.splits = {
        train: { examples: holdoutStart(records) },
        validation: { examples: records - holdoutStart(records) },
      };
      return true;
    },
    prepare: async () => {
      await load();
    },
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), options);
      const splits = await load();
      yield* imageBatches(splits[options.split]!, CIFAR10_SPEC, options);
    },
  };
}
