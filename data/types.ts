/**
 * The contract between datasets and everything that consumes them (trainer, routes, sweep).
 *
 * A dataset is a module that exports a {@linkcode Dataset}; `data/mod.ts` registers it under a
 * stable name. Consumers only ever see these types, so adding a dataset touches neither the
 * trainer nor the routes.
 *
 * @module
 */

/** What kind of examples a dataset yields. */
export type Modality = "image" | "text";

/** One split's description. */
export interface SplitInfo {
  /** Examples in the split: images, or token sequences of the default context for text. */
  examples: number;
  /** Tokens in the split (text only). */
  tokens?: number;
}

/** Metadata served by `GET /v1/datasets/{name}`. */
export interface DatasetInfo {
  /** Stable registry name, e.g. `cifar10`. */
  name: string;
  /** One-line description. */
  description: string;
  /** Image classification or language modelling. */
  modality: Modality;
  /** Splits and their sizes, e.g. `{ train: {...}, test: {...} }`. */
  splits: Record<string, SplitInfo>;
  /** Image shape and class names (image datasets). */
  image?: { height: number; width: number; channels: number; classes: string[] };
  /** Vocabulary (text datasets); `byte` tokenisation has `vocab_size` 256. */
  text?: { tokenizer: string; vocab_size: number };
  /** Where the data comes from (official URL), absent for generated data. */
  source_url?: string;
  /** Licence of the data. */
  license: string;
  /** Checksums of the downloaded artefacts, e.g. `{ "sha256": "…" }`. */
  checksum?: Record<string, string>;
  /**
   * Irreducible loss of the source in nats per token (text) or per example (images), when it is
   * known exactly (synthetic sources): the E a scaling-law fit should approach.
   */
  entropy_nats?: number;
}

/** A batch of image-classification examples, ready for a model: NHWC float32, normalised. */
export interface ImageBatch {
  kind: "image";
  /** `[batch, height, width, channels]`, row-major. */
  images: Float32Array;
  /** `[batch]` class indices. */
  labels: Int32Array;
  /** `[batch, height, width, channels]`. */
  shape: [number, number, number, number];
}

/** A batch of language-modelling examples: `targets[b, t] = inputs[b, t + 1]` of the stream. */
export interface TextBatch {
  kind: "text";
  /** `[batch, context]` token ids. */
  inputs: Int32Array;
  /** `[batch, context]` next-token ids. */
  targets: Int32Array;
  /** `[batch, context]`. */
  shape: [number, number];
}

/** Either kind of batch. */
export type Batch = ImageBatch | TextBatch;

/** Options for {@linkcode Dataset.batches}. */
export interface BatchOptions {
  /** Split name, e.g. `train`. */
  split: string;
  /** Examples per batch. */
  batchSize: number;
  /** Seed of the shuffle (and of augmentation and synthetic generation). */
  seed: number;
  /** Sequence length for text datasets. */
  context?: number;
  /** Train-time augmentation for image datasets (random crop with padding, flip). */
  augment?: boolean;
  /** Index of the first batch to yield (skip this many batches of the seeded order). */
  startBatch?: number;
  /** Directory of the download cache; defaults to `FLOPS_FIT_DATA_DIR` or the user cache. */
  dataDir?: string;
}

/** Options for {@linkcode Dataset.prepare}. */
export interface PrepareOptions {
  /** Directory of the download cache; defaults to `FLOPS_FIT_DATA_DIR` or the user cache. */
  dataDir?: string;
  /** Cancels a download (its partial file is kept for a resume). */
  signal?: AbortSignal;
  /** Receives progress lines of downloads and preparation. */
  onProgress?: (message: string) => void;
}

/** A registered dataset. */
export interface Dataset {
  /** Metadata (sizes may be filled in once prepared). */
  info: DatasetInfo;
  /** Whether the data is available locally without a download. */
  isReady(options?: { dataDir?: string }): Promise<boolean>;
  /** Download, verify and cache now; a no-op when ready. */
  prepare(options?: PrepareOptions): Promise<void>;
  /**
   * Deterministic, seeded, shuffled batches, endlessly (epoch after epoch, reshuffled per epoch).
   * The same options give the same sequence of batches.
   */
  batches(options: BatchOptions): AsyncIterableIterator<Batch>;
}
