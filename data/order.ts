/**
 * The seeded example order every loader shares: the stream of examples is epoch 0's permutation,
 * then epoch 1's, … with `perm_e = permutation(n, mixSeed(seed, e))`, and batch `b` holds stream
 * positions `[b·B, (b+1)·B)`. So `startBatch` skips in O(1), a batch may straddle two epochs, and
 * per-example randomness (augmentation) keyed by stream position is the same however the stream
 * is cut into batches.
 *
 * @module
 */
import { UnknownSplitError } from "./errors.ts";
import { mixSeed, permutation } from "./random.ts";
import type { BatchOptions } from "./types.ts";

/** Example index at each stream position, caching the current epoch's permutation. */
export class ShuffledOrder {
  #n: number;
  #seed: number;
  #epoch = -1;
  #perm: Uint32Array = new Uint32Array(0);

  /**
   * @param n Examples in the split (≥ 1).
   * @param seed Shuffle seed.
   */
  constructor(n: number, seed: number) {
    if (!(n >= 1)) throw new RangeError(`A split needs at least one example, got ${n}.`);
    this.#n = n;
    this.#seed = seed;
  }

  /**
   * @param position Stream position (≥ 0).
   * @returns The example index shown there.
   */
  indexAt(position: number): number {
    const epoch = Math.floor(position / this.#n);
    if (epoch !== this.#epoch) {
      this.#perm = permutation(this.#n, mixSeed(this.#seed, epoch));
      this.#epoch = epoch;
    }
    return this.#perm[position - epoch * this.#n]!;
  }
}

/**
 * Check batch options shared by all loaders.
 *
 * @param dataset Dataset name (for messages).
 * @param splits The dataset's split names.
 * @param options Options to check.
 * @throws {UnknownSplitError} Unknown split.
 * @throws {RangeError} Non-integer or out-of-range batch size, seed or start batch.
 */
export function checkBatchOptions(
  dataset: string,
  splits: readonly string[],
  options: BatchOptions,
): void {
  if (!splits.includes(options.split)) throw new UnknownSplitError(dataset, options.split, splits);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}.`);
  }
  if (!Number.isSafeInteger(options.seed)) {
    throw new RangeError(`seed must be an integer, got ${options.seed}.`);
  }
  const start = options.startBatch ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`startBatch must be a non-negative integer, got ${start}.`);
  }
}
