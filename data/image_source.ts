/**
 * Batches for image classification, shared by every image dataset: seeded order
 * ({@linkcode ShuffledOrder}), per-channel normalisation `x = (v/255 − mean_c) / std_c` through
 * a 256-entry table per channel, and optional train-time augmentation — a random crop of the
 * image zero-padded by `pad` pixels on each side (as torchvision's `RandomCrop(size, padding)`,
 * which pads before normalising) and a horizontal flip with probability ½ — drawn from a
 * generator keyed by (seed, stream position).
 *
 * @module
 */
import { ShuffledOrder } from "./order.ts";
import { mixSeed, rng } from "./random.ts";
import type { BatchOptions, ImageBatch } from "./types.ts";

/** Random access to one split's images: uint8, HWC, row-major. */
export interface ImageSplitSource {
  /** Number of examples. */
  count: number;
  /** The `index`-th image (`height·width·channels` bytes; may be reused by the next call). */
  image(index: number): Uint8Array;
  /** The `index`-th label. */
  label(index: number): number;
}

/** Geometry and normalisation of an image dataset. */
export interface ImageSpec {
  height: number;
  width: number;
  channels: number;
  /** Per-channel mean of pixel/255. */
  mean: readonly number[];
  /** Per-channel standard deviation of pixel/255. */
  std: readonly number[];
  /** Padding of the random crop, in pixels. */
  pad: number;
}

/** Stream-position salt of the augmentation generator, so it differs from the shuffle's. */
const AUGMENT_SALT = 0xa06;

/**
 * `lut[c·256 + v] = (v/255 − mean_c) / std_c`.
 *
 * @param spec Normalisation constants.
 * @returns The lookup table.
 */
export function normalisationTable(spec: ImageSpec): Float32Array {
  const lut = new Float32Array(spec.channels * 256);
  for (let c = 0; c < spec.channels; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - spec.mean[c]!) / spec.std[c]!;
  }
  return lut;
}

/**
 * Endless seeded batches of one split (see the module doc for order and augmentation).
 *
 * @param source The split.
 * @param spec Geometry and normalisation.
 * @param options Batch size, seed, augmentation, start batch (split already resolved).
 * @returns Batches of NHWC float32 images and int32 labels.
 */
export async function* imageBatches(
  source: ImageSplitSource,
  spec: ImageSpec,
  options: BatchOptions,
): AsyncIterableIterator<ImageBatch> {
  const { height: H, width: W, channels: C } = spec;
  const size = H * W * C;
  const lut = normalisationTable(spec);
  const order = new ShuffledOrder(source.count, options.seed);
  const B = options.batchSize;
  for (let position = (options.startBatch ?? 0) * B;; position += B) {
    const images = new Float32Array(B * size);
    const labels = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const index = order.indexAt(position + b);
      const pixels = source.image(index);
      labels[b] = source.label(index);
      const out = images.subarray(b * size, (b + 1) * size);
      if (options.augment) {
        augmentInto(out, pixels, spec, lut, mixSeed(options.seed, position + b, AUGMENT_SALT));
      } else if (C === 3) {
        for (let i = 0; i < size; i += 3) {
          out[i] = lut[pixels[i]!]!;
          out[i + 1] = lut[256 + pixels[i + 1]!]!;
          out[i + 2] = lut[512 + pixels[i + 2]!]!;
        }
      } else {
        for (let i = 0; i < size; i += C) {
          for (let c = 0; c < C; c++) out[i + c] = lut[c * 256 + pixels[i + c]!]!;
        }
      }
    }
    yield { kind: "image", images, labels, shape: [B, H, W, C] };
  }
}

/**
 * Crop + flip one image into `out`: with offsets `oy, ox ∈ [−pad, pad]`, flip f and the image
 * zero-padded outside its bounds, `out[y][x] = I[y + oy][x' + ox]` where `x' = W−1−x` when
 * flipped, else `x` (pixels outside I are the padding value 0, normalised).
 */
function augmentInto(
  out: Float32Array,
  pixels: Uint8Array,
  spec: ImageSpec,
  lut: Float32Array,
  seed: number,
): void {
  const { height: H, width: W, channels: C, pad } = spec;
  const next = rng(seed);
  const oy = Math.floor(next() * (2 * pad + 1)) - pad;
  const ox = Math.floor(next() * (2 * pad + 1)) - pad;
  const flip = next() < 0.5;
  for (let y = 0; y < H; y++) {
    const sy = y + oy;
    const row = y * W * C;
    if (sy < 0 || sy >= H) {
      for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) out[row + x * C + c] = lut[c * 256]!;
      continue;
    }
    const srcRow = sy * W * C;
    for (let x = 0; x < W; x++) {
      const sx = (flip ? W - 1 - x : x) + ox;
      const o = row + x * C;
      if (sx < 0 || sx >= W) {
        for (let c = 0; c < C; c++) out[o + c] = lut[c * 256]!;
      } else if (C === 3) {
        const s = srcRow + sx * 3;
        out[o] = lut[pixels[s]!]!;
        out[o + 1] = lut[256 + pixels[s + 1]!]!;
        out[o + 2] = lut[512 + pixels[s + 2]!]!;
      } else {
        const s = srcRow + sx * C;
        for (let c = 0; c < C; c++) out[o + c] = lut[c * 256 + pixels[s + c]!]!;
      }
    }
  }
}
