/**
 * Datasets the sweep adds for its own studies, looked up before the registry (`data/mod.ts`).
 *
 * `synthetic-text-order1` is the default study's source: a seeded random order-1 Markov chain over
 * 62 symbols with 4 successors each (built by the registry's own `createSyntheticText`), whose
 * entropy rate is known exactly. Why not the registry's `synthetic-text` (order 2): a GPT must
 * first learn to attend to the previous token to beat its unigram entropy, and tiny models on two
 * CPU cores sit on that plateau (3.46 nats) for the whole of a minutes-long budget — measured:
 * d_model 32, 600 steps, still 3.48 — so every IsoFLOP curve is flat. An order-1 chain is learned
 * through the embeddings and MLPs at once, and its 248-entry table still rewards both parameters
 * and tokens (d_model 16 reaches 1.90 nats in 300 steps, d_model 48 1.20, the floor is 1.12).
 *
 * Only the in-process trainer knows these names; a sweep on `--workers` uses registry datasets.
 *
 * @module
 */
import { getDataset, UnknownDatasetError } from "../../data/mod.ts";
import { createSyntheticText, type SyntheticTextDataset } from "../../data/synthetic_text.ts";
import type { Dataset } from "../../data/types.ts";

/** Name of the default study's source. */
export const STUDY_TEXT = "synthetic-text-order1";

let studyText: SyntheticTextDataset | undefined;

/**
 * The sweep's own datasets, by name (built on first use).
 *
 * @param name Dataset name.
 * @returns The dataset, or `undefined` when the sweep defines none of that name.
 */
export function studyDataset(name: string): Dataset | undefined {
  if (name !== STUDY_TEXT) return undefined;
  studyText ??= createSyntheticText({
    name: STUDY_TEXT,
    symbols: 62,
    order: 1,
    branching: 4,
    seed: 20240601,
  });
  return studyText;
}

/**
 * A dataset by name: the sweep's own first, then the registry.
 *
 * @param name Dataset name.
 * @returns The dataset, or `undefined` when nobody knows the name.
 * @throws {Error} Registry errors other than an unknown name (e.g. a path traversal).
 */
export function resolveStudyDataset(name: string): Dataset | undefined {
  const own = studyDataset(name);
  if (own !== undefined) return own;
  try {
    return getDataset(name);
  } catch (error) {
    if (error instanceof UnknownDatasetError) return undefined;
    throw error;
  }
}
