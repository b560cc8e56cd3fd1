/**
 * CIFAR's binary layout: records of 3,073 bytes — one label byte, then the 32×32 red, green and
 * blue planes (1,024 bytes each, row-major). Parsed once into HWC order, which is what the models
 * (NHWC) and augmentation want.
 *
 * @module
 */
import type { ImageSplitSource } from "./image_source.ts";

/** Side of a CIFAR image in pixels. */
export const CIFAR_SIDE = 32;
/** Bytes of one record: label + 3 planes of 32×32. */
export const CIFAR_RECORD_BYTES = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE;

/** Parsed records: images HWC uint8, one after another, and labels. */
export interface CifarRecords {
  /** Number of records. */
  count: number;
  /** `count × 32 × 32 × 3` bytes, HWC per image. */
  images: Uint8Array;
  /** `count` labels. */
  labels: Uint8Array;
}

/**
 * Parse one or more files of CIFAR binary records.
 *
 * @param files File contents, concatenated in order.
 * @param classes Number of classes; a label byte ≥ this is an error.
 * @returns The records in HWC layout.
 * @throws {SyntaxError} A file is empty, not a whole number of records, or has a bad label.
 *
 * @example
 * ```ts
 * import { CIFAR_RECORD_BYTES, parseCifarRecords } from "./cifar_binary.ts";
 * const record = new Uint8Array(CIFAR_RECORD_BYTES);
 * record[0] = 3; record[1] = 200; // label 3, red of pixel (0, 0)
 * const { labels, images } = parseCifarRecords([record], 10);
 * if (labels[0] !== 3 || images[0] !== 200) throw new Error("unexpected");
 * ```
 */
export function parseCifarRecords(files: readonly Uint8Array[], classes: number): CifarRecords {
  let count = 0;
  for (const [i, file] of files.entries()) {
    if (file.length === 0 || file.length % CIFAR_RECORD_BYTES !== 0) {
      throw new SyntaxError(
        `CIFAR file ${i} holds ${file.length} bytes, not a positive multiple of ` +
          `${CIFAR_RECORD_BYTES} (truncated or not CIFAR's binary layout).`,
      );
    }
    count += file.length / CIFAR_RECORD_BYTES;
  }
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const images = new Uint8Array(count * 3 * plane);
  const labels = new Uint8Array(count);
  let n = 0;
  for (const file of files) {
    for (let r = 0; r < file.length; r += CIFAR_RECORD_BYTES, n++) {
      const label = file[r]!;
      if (label >= classes) {
        throw new SyntaxError(`CIFAR record ${n} has label ${label}; expected 0…${classes - 1}.`);
      }
      labels[n] = label;
      const out = n * 3 * plane;
      // CHW → HWC: images[p·3 + c] = plane c at pixel p.
      for (let p = 0; p < plane; p++) {
        images[out + 3 * p] = file[r + 1 + p]!;
        images[out + 3 * p + 1] = file[r + 1 + plane + p]!;
        images[out + 3 * p + 2] = file[r + 1 + 2 * plane + p]!;
      }
    }
  }
  return { count, images, labels };
}

/**
 * Records `[start, end)` as a split for {@linkcode imageBatches}.
 *
 * @param records Parsed records.
 * @param start First record.
 * @param end One past the last record.
 * @returns Random access to that range.
 */
export function cifarSplit(
  records: CifarRecords,
  start = 0,
  end = records.count,
): ImageSplitSource {
  const size = 3 * CIFAR_SIDE * CIFAR_SIDE;
  return {
    count: end - start,
    image: (i) => records.images.subarray((start + i) * size, (start + i + 1) * size),
    label: (i) => records.labels[start + i]!,
  };
}
