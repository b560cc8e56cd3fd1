/**
 * A text dataset generated on the fly from a seeded source: every sequence is drawn from its own
 * seed (`mixSeed(seed, split salt, index)`), so a split of a million sequences costs nothing to
 * hold and any batch can be regenerated from its position. The synthetic Markov chains
 * (`synthetic_text.ts`) and the quanta mixture (`quanta.ts`) are built on it.
 *
 * @module
 */
import { checkBatchOptions } from "./order.ts";
import { mixSeed } from "./random.ts";
import { contextOf, DEFAULT_CONTEXT, textBatches } from "./text_source.ts";
import { BYTE_TOKENIZER, BYTE_VOCAB_SIZE } from "./tokenizer.ts";
import type { Batch, BatchOptions, Dataset, DatasetInfo } from "./types.ts";

/** Sequences per split of a generated text dataset. */
export const GENERATED_TEXT_SPLITS: Record<string, number> = {
  train: 1 << 20,
  validation: 1 << 14,
};

/** Seed salt of each split, so train and validation never share a sequence seed. */
const SPLIT_SALT: Record<string, number> = { train: 1, validation: 2 };

/** What a generated text dataset is made from. */
export interface GeneratedTextOptions {
  /** Registry name. */
  name: string;
  /** The source's seed (mixed with the split and the sequence index). */
  seed: number;
  /** Description (read when first asked for, so a costly source can be built lazily). */
  description: () => string;
  /** Exact entropy rate in nats per token (read when first asked for). */
  entropyNats: () => number;
  /**
   * Fill one sequence of byte tokens from its seed.
   *
   * @param seed The sequence's seed.
   * @param out `context + 1` tokens to fill.
   */
  sample: (seed: number, out: Int32Array) => void;
}

/**
 * Build a generated text dataset: byte-tokenised sequences of the requested context from
 * {@linkcode GeneratedTextOptions.sample}, with the splits of {@linkcode GENERATED_TEXT_SPLITS}.
 *
 * @param options Name, seed, description, entropy and the sampler.
 * @returns The dataset.
 *
 * @example
 * ```ts
 * import { generatedTextDataset } from "./generated_text.ts";
 * const data = generatedTextDataset({
 *   name: "zeros",
 *   seed: 1,
 *   description: () => "all zeros",
 *   entropyNats: () => 0,
 *   sample: (_seed, out) => out.fill(0),
 * });
 * if (data.info.splits.train!.examples !== 1 << 20) throw new Error("unexpected");
 * ```
 */
export function generatedTextDataset(options: GeneratedTextOptions): Dataset {
  const { name } = options;
  const info: DatasetInfo = {
    name,
    get description() {
      return options.description();
    },
    modality: "text",
    splits: Object.fromEntries(
      Object.entries(GENERATED_TEXT_SPLITS).map((
        [split, n],
      ) => [split, { examples: n, tokens: n * DEFAULT_CONTEXT }]),
    ),
    text: { tokenizer: BYTE_TOKENIZER, vocab_size: BYTE_VOCAB_SIZE },
    license: "Generated (no licence needed)",
    get entropy_nats() {
      return options.entropyNats();
    },
  };
  return {
    info,
    isReady: () => Promise.resolve(true),
    prepare: () => Promise.resolve(),
    async *batches(batch: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), batch);
      const context = contextOf(batch);
      const salt = SPLIT_SALT[batch.split]!;
      const source = {
        count: GENERATED_TEXT_SPLITS[batch.split]!,
        fill: (index: number, out: Int32Array) =>
          options.sample(mixSeed(options.seed, salt, index), out),
      };
      yield* textBatches(source, context, batch);
    },
  };
}
