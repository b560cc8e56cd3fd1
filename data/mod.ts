/**
 * The dataset registry: every dataset under a stable name, plus the user's own files by path.
 *
 * Adding a dataset = one module exporting a {@linkcode Dataset} and one line in `REGISTRY`; the
 * trainer and the routes only ever call {@linkcode getDataset} / {@linkcode listDatasets}.
 *
 * @module
 */
import { cifar10 } from "./cifar10.ts";
import { UnknownDatasetError } from "./errors.ts";
import { fashionMnist } from "./fashion_mnist.ts";
import { localDataset, type LocalDatasetOptions } from "./local_files.ts";
import { syntheticQuanta } from "./quanta.ts";
import { syntheticImages } from "./synthetic_images.ts";
import { syntheticText, syntheticTextOrder1, syntheticTextOrder3 } from "./synthetic_text.ts";
import { tinyStories } from "./tinystories.ts";
import type { Dataset } from "./types.ts";

export type * from "./types.ts";
export { BYTE_VOCAB_SIZE, detokenize, tokenize } from "./tokenizer.ts";
export { resolveDataDir } from "./cache.ts";
export * from "./errors.ts";
export { concatBatches, takeExamples } from "./examples.ts";
export { PreparationTracker } from "./preparation.ts";

/** Registered datasets, in listing order. */
const REGISTRY: readonly Dataset[] = [
  cifar10,
  fashionMnist,
  tinyStories,
  syntheticText,
  syntheticTextOrder1,
  syntheticTextOrder3,
  syntheticQuanta,
  syntheticImages,
];

/**
 * Every registered dataset (local files are not listed: they exist per path).
 *
 * @returns The datasets in registry order.
 */
export function listDatasets(): readonly Dataset[] {
  return REGISTRY;
}

/**
 * A dataset by name: a registered one, or `text-file:<path>` / `cifar-file:<path>`.
 *
 * @param name Registry name or local-file name.
 * @param options Data directory (for relative local paths) and whether absolute paths are allowed
 * (default `true` for library callers; the HTTP API passes `false`).
 * @returns The dataset.
 * @throws {UnknownDatasetError} No such dataset.
 * @throws {InvalidDataPathError} A local path that is malformed or tries to traverse.
 *
 * @example
 * ```ts
 * import { getDataset } from "./mod.ts";
 * const data = getDataset("synthetic-text");
 * const batch = (await data.batches({ split: "train", batchSize: 2, seed: 0, context: 8 }).next()).value;
 * if (batch?.kind !== "text" || batch.shape[1] !== 8) throw new Error("unexpected");
 * ```
 */
export function getDataset(name: string, options: LocalDatasetOptions = {}): Dataset {
  const found = REGISTRY.find((d) => d.info.name === name);
  if (found !== undefined) return found;
  const local = localDataset(name, { allowAbsolutePaths: true, ...options });
  if (local !== undefined) return local;
  throw new UnknownDatasetError(name, [
    ...REGISTRY.map((d) => d.info.name),
    "text-file:<path>",
    "cifar-file:<path>",
  ]);
}
