/**
 * Tiny generated datasets for the trainer's tests only, behind the real `Dataset` contract:
 * `tiny-text` (bytes from an 8-letter Markov chain that mostly steps to the next letter) and
 * `tiny-images` (8×8×3 images, each a class template plus noise). Both are learnable in a few
 * steps, so "loss falls" tests stay fast.
 *
 * @module
 */
import type { Batch, BatchOptions, Dataset, DatasetInfo } from "../../../data/types.ts";
import { Rng } from "../../../models/layers.ts";

/** Letters of the text source. */
const ALPHABET = 8;
/** Probability that the next letter is the successor of the current one. */
const STEP_PROB = 0.9;
/** Image side and classes of the image source. */
const SIDE = 8;
const CLASSES = 4;

function textInfo(): DatasetInfo {
  return {
    name: "tiny-text",
    description: "Test-only Markov chain over 8 letters.",
    modality: "text",
    splits: { train: { examples: 1_000_000 }, validation: { examples: 1_000 } },
    text: { tokenizer: "byte", vocab_size: 256 },
    license: "CC0-1.0",
  };
}

function imageInfo(): DatasetInfo {
  return {
    name: "tiny-images",
    description: "Test-only class templates plus noise.",
    modality: "image",
    splits: { train: { examples: 1_000_000 }, test: { examples: 1_000 } },
    image: { height: SIDE, width: SIDE, channels: 3, classes: ["a", "b", "c", "d"] },
    license: "CC0-1.0",
  };
}

function splitSalt(split: string): number {
  let h = 7;
  for (const ch of split) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

async function* textBatches(options: BatchOptions): AsyncIterableIterator<Batch> {
  const context = options.context ?? 16;
  const rng = new Rng(options.seed * 1_000_003 + splitSalt(options.split));
  const skip = options.startBatch ?? 0;
  for (let index = 0;; index++) {
    const b = options.batchSize;
    const inputs = new Int32Array(b * context);
    const targets = new Int32Array(b * context);
    for (let row = 0; row < b; row++) {
      let letter = Math.floor(rng.uniform() * ALPHABET);
      for (let t = 0; t <= context; t++) {
        const byte = 97 + letter;
        if (t < context) inputs[row * context + t] = byte;
        if (t > 0) targets[row * context + t - 1] = byte;
        letter = rng.uniform() < STEP_PROB
          ? (letter + 1) % ALPHABET
          : Math.floor(rng.uniform() * ALPHABET);
      }
    }
    if (index >= skip) yield { kind: "text", inputs, targets, shape: [b, context] };
  }
}

async function* imageBatches(options: BatchOptions): AsyncIterableIterator<Batch> {
  const templates = new Rng(12345);
  const pixels = SIDE * SIDE * 3;
  const means = Array.from({ length: CLASSES }, () => {
    const t = new Float32Array(pixels);
    for (let i = 0; i < pixels; i++) t[i] = templates.truncatedNormal();
    return t;
  });
  const rng = new Rng(options.seed * 1_000_003 + splitSalt(options.split));
  const skip = options.startBatch ?? 0;
  for (let index = 0;; index++) {
    const b = options.batchSize;
    const images = new Float32Array(b * pixels);
    const labels = new Int32Array(b);
    for (let row = 0; row < b; row++) {
      const label = Math.floor(rng.uniform() * CLASSES);
      labels[row] = label;
      for (let i = 0; i < pixels; i++) {
        images[row * pixels + i] = means[label]![i]! + rng.truncatedNormal();
      }
    }
    if (index >= skip) yield { kind: "image", images, labels, shape: [b, SIDE, SIDE, 3] };
  }
}

function dataset(info: DatasetInfo, batches: Dataset["batches"]): Dataset {
  return {
    info,
    isReady: () => Promise.resolve(true),
    prepare: () => Promise.resolve(),
    batches,
  };
}

/** The test datasets by name. */
export const TINY_DATASETS: Record<string, Dataset> = {
  "tiny-text": dataset(textInfo(), textBatches),
  "tiny-images": dataset(imageInfo(), imageBatches),
};

/**
 * Resolver over the test datasets.
 * @param name Dataset name.
 */
export function resolveTiny(name: string): Dataset | undefined {
  return Object.hasOwn(TINY_DATASETS, name) ? TINY_DATASETS[name] : undefined;
}
