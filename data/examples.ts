/**
 * Random access to a dataset's seeded order: a slice of examples as one batch, for callers that
 * address examples by offset (the HTTP API, evaluation on a fixed slice).
 *
 * @module
 */
import type { Batch, Dataset, ImageBatch, TextBatch } from "./types.ts";

/**
 * Examples `[offset, offset + count)` of a split's seeded order, as one batch: one batch of
 * `count` when the offset is a multiple of it, else `count` batches of one (the same examples
 * either way, since the order is defined per stream position).
 *
 * @param dataset The dataset.
 * @param o Split, seed, offset, count, and the text context / image augmentation / data dir.
 * @returns The examples.
 */
export async function takeExamples(
  dataset: Dataset,
  o: {
    split: string;
    seed: number;
    offset: number;
    count: number;
    context?: number;
    augment?: boolean;
    dataDir?: string;
  },
): Promise<Batch> {
  const aligned = o.offset % o.count === 0;
  const it = dataset.batches({
    split: o.split,
    batchSize: aligned ? o.count : 1,
    startBatch: aligned ? o.offset / o.count : o.offset,
    seed: o.seed,
    context: o.context,
    augment: o.augment,
    dataDir: o.dataDir,
  });
  const out: Batch[] = [];
  for (let i = 0; i < (aligned ? 1 : o.count); i++) out.push((await it.next()).value as Batch);
  await it.return?.();
  return concatBatches(out);
}

/**
 * Concatenate batches of one kind along the batch axis.
 *
 * @param batches Non-empty, all image or all text, same per-example shape.
 * @returns One batch.
 */
export function concatBatches(batches: readonly Batch[]): Batch {
  if (batches.length === 1) return batches[0]!;
  const first = batches[0]!;
  const n = batches.reduce((a, b) => a + b.shape[0], 0);
  const cat = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p as never, o);
      o += p.length;
    }
    return out;
  };
  if (first.kind === "image") {
    const bs = batches as ImageBatch[];
    return {
      kind: "image",
      images: cat(bs.map((b) => b.images), (k) => new Float32Array(k)),
      labels: cat(bs.map((b) => b.labels), (k) => new Int32Array(k)),
      shape: [n, first.shape[1], first.shape[2], first.shape[3]],
    };
  }
  const ts = batches as TextBatch[];
  return {
    kind: "text",
    inputs: cat(ts.map((b) => b.inputs), (k) => new Int32Array(k)),
    targets: cat(ts.map((b) => b.targets), (k) => new Int32Array(k)),
    shape: [n, first.shape[1]],
  };
}
