/**
 * TinyStories (Eldan & Li 2023): short stories written by GPT-3.5/4 in a small vocabulary, as the
 * two official text files on the Hugging Face Hub (`TinyStories-train.txt` ≈ 1.9 GB,
 * `TinyStories-valid.txt` ≈ 19 MB; stories separated by `<|endoftext|>` lines). Downloaded on first
 * use into `<data dir>/tinystories/`; tokenised byte-level (the GPT's default tokeniser, vocabulary
 * 256: the file *is* the token stream, separators included) and packed into fixed-length sequences
 * (see `text_source.ts`). The training file is read on demand, never held in memory whole.
 *
 * The Hub publishes no checksum beside the files, so none is enforced; the sha256 of what was
 * downloaded is recorded in `<file>.verified` and reported in the metadata once prepared.
 *
 * @module
 */
import { exists, resolveDataDir } from "./cache.ts";
import { type Checksums, ensureFilesDownloaded } from "./download.ts";
import { checkBatchOptions } from "./order.ts";
import {
  contextOf,
  DEFAULT_CONTEXT,
  packedSequences,
  textBatches,
  tokensOfFile,
} from "./text_source.ts";
import { BYTE_TOKENIZER, BYTE_VOCAB_SIZE } from "./tokenizer.ts";
import type { Batch, BatchOptions, Dataset, DatasetInfo, PrepareOptions } from "./types.ts";

/** Folder of the official files on the Hugging Face Hub. */
export const TINYSTORIES_BASE_URL =
  "https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/";
/** Split → official file. */
export const TINYSTORIES_FILES: Record<string, string> = {
  train: "TinyStories-train.txt",
  validation: "TinyStories-valid.txt",
};

/** Options of {@linkcode createTinyStories}. */
export interface TinyStoriesOptions {
  /** Folder URL ending in `/`. @default TINYSTORIES_BASE_URL */
  baseUrl?: string;
  /** File name → expected checksums. @default none (not published) */
  checksums?: Record<string, Checksums>;
}

/**
 * Build the TinyStories dataset (the registry holds the official one).
 *
 * @param options Source overrides.
 * @returns The dataset.
 */
export function createTinyStories(options: TinyStoriesOptions = {}): Dataset {
  const baseUrl = options.baseUrl ?? TINYSTORIES_BASE_URL;
  const checksums = options.checksums ?? {};
  const info: DatasetInfo = {
    name: "tinystories",
    description: "TinyStories: simple English short stories; byte-level tokens, packed sequences " +
      `of the requested context (sizes counted at context ${DEFAULT_CONTEXT}; 0 until prepared).`,
    modality: "text",
    splits: { train: { examples: 0, tokens: 0 }, validation: { examples: 0, tokens: 0 } },
    text: { tokenizer: BYTE_TOKENIZER, vocab_size: BYTE_VOCAB_SIZE },
    source_url: baseUrl,
    license: "CDLA-Sharing-1.0",
  };
  const folder = (dataDir?: string) => `${resolveDataDir(dataDir)}/tinystories`;

  /** Fill in sizes and recorded checksums from the files on disk; false when any is missing. */
  async function refresh(dir: string): Promise<boolean> {
    for (const [split, file] of Object.entries(TINYSTORIES_FILES)) {
      if (!(await exists(`${dir}/${file}.verified`))) return false;
      const tokens = (await Deno.stat(`${dir}/${file}`)).size;
      info.splits[split] = {
        examples: Math.max(0, Math.floor((tokens - 1) / DEFAULT_CONTEXT)),
        tokens,
      };
      const stamp = JSON.parse(await Deno.readTextFile(`${dir}/${file}.verified`)) as Checksums;
      info.checksum = { ...info.checksum, [file]: `sha256:${stamp.sha256 ?? "?"}` };
    }
    return true;
  }

  async function prepare(opts: PrepareOptions = {}): Promise<void> {
    const dir = folder(opts.dataDir);
    const files = Object.values(TINYSTORIES_FILES);
    await ensureFilesDownloaded({ ...opts, baseUrl, dir, files, checksums });
    await refresh(dir);
  }

  return {
    info,
    isReady: async (opts = {}) => await refresh(folder(opts.dataDir)),
    prepare,
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(info.name, Object.keys(info.splits), options);
      const context = contextOf(options);
      await prepare({ dataDir: options.dataDir, onProgress: (m) => console.error(m) });
      const path = `${folder(options.dataDir)}/${TINYSTORIES_FILES[options.split]}`;
      const stream = await tokensOfFile(path, { start: 0, end: (await Deno.stat(path)).size });
      yield* textBatches(packedSequences(stream, context), context, options);
    },
  };
}

/** TinyStories from the Hugging Face Hub. */
export const tinyStories: Dataset = createTinyStories();
