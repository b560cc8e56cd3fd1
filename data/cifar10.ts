/**
 * CIFAR-10 (Krizhevsky 2009): 60,000 32×32 colour images in 10 classes, 50,000 train / 10,000
 * test. The official binary archive is downloaded on first use into `<data dir>/cifar10/`,
 * verified (md5 and sha256), and its seven known members — never any other path — are read out
 * of the tar.gz into `cifar-10-batches-bin/`. Images are normalised with the usual CIFAR channel
 * statistics; train-time augmentation is a random 32×32 crop of the image padded by 4 and a
 * horizontal flip.
 *
 * @module
 */
import { cifarSplit, parseCifarRecords } from "./cifar_binary.ts";
import { exists, memoizeAsync, resolveDataDir, writeAtomic } from "./cache.ts";
import { type Checksums, ensureDownloaded } from "./download.ts";
import { imageBatches, type ImageSpec, type ImageSplitSource } from "./image_source.ts";
import { withFileLock } from "./lock.ts";
import { checkBatchOptions } from "./order.ts";
import { readTarGzMembers } from "./tar_gz.ts";
import type { Batch, BatchOptions, Dataset, DatasetInfo, PrepareOptions } from "./types.ts";

/** The official binary archive. */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/** Its size in bytes. */
export const CIFAR10_SIZE = 170_052_171;
/** Its published checksums. */
export const CIFAR10_CHECKSUMS: Required<Checksums> = {
  md5: "c32a1d4ab5d03f1284b67883e8d87530",
  sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
};
/** Class names, in label order (`batches.meta.txt`). */
export const CIFAR10_CLASSES = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];
/** Geometry and the usual channel statistics of CIFAR-10's training set (pixel/255). */
export const CIFAR10_SPEC: ImageSpec = {
  height: 32,
  width: 32,
  channels: 3,
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2470, 0.2435, 0.2616],
  pad: 4,
};

/** Folder inside the archive. */
const MEMBER_DIR = "cifar-10-batches-bin";
const TRAIN_MEMBERS = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_MEMBER = "test_batch.bin";
const MEMBERS = [...TRAIN_MEMBERS, TEST_MEMBER, "batches.meta.txt"];

/** Options of {@linkcode createCifar10}; defaults are the official source. */
export interface Cifar10Options {
  /** Registry name. @default "cifar10" */
  name?: string;
  /** Archive URL (a mirror, or a test server). @default CIFAR10_URL */
  url?: string;
  /** Expected checksums of the archive. @default CIFAR10_CHECKSUMS */
  checksums?: Checksums;
  /** Expected size in bytes; `undefined` with a custom URL unless given. @default CIFAR10_SIZE */
  size?: number;
}

/**
 * Build the CIFAR-10 dataset (the registry holds the official one).
 *
 * @param options Source overrides (mirrors, tests).
 * @returns The dataset.
 */
export function createCifar10(options: Cifar10Options = {}): Dataset {
  const url = options.url ?? CIFAR10_URL;
  const checksums = options.checksums ?? CIFAR10_CHECKSUMS;
  const size = options.size ?? (options.url === undefined ? CIFAR10_SIZE : undefined);
  const name = options.name ?? "cifar10";
  const info: DatasetInfo = {
    name,
    description: "CIFAR-10: 32×32 colour images in 10 classes (Krizhevsky 2009), binary version.",
    modality: "image",
    splits: { train: { examples: 50_000 }, test: { examples: 10_000 } },
    image: { height: 32, width: 32, channels: 3, classes: CIFAR10_CLASSES },
    source_url: url,
    license: "No explicit licence; free for research use (Krizhevsky 2009, University of Toronto)",
    checksum: { ...checksums } as Record<string, string>,
  };
  const folder = (dataDir?: string) => `${resolveDataDir(dataDir)}/cifar10`;
  const readyMarker = (dir: string) => `${dir}/READY`;

  async function prepare(opts: PrepareOptions = {}): Promise<void> {
    const dir = folder(opts.dataDir);
    if (await exists(readyMarker(dir))) return;
    await Deno.mkdir(`${dir}/${MEMBER_DIR}`, { recursive: true });
    await withFileLock(`${dir}/prepare.lock`, async () => {
      if (await exists(readyMarker(dir))) return; // another process finished while we waited
      const archive = `${dir}/cifar-10-binary.tar.gz`;
      await ensureDownloaded({
        url,
        dest: archive,
        expected: checksums,
        size,
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
      opts.onProgress?.(`cifar10: reading ${MEMBERS.length} members from the archive`);
      using file = await Deno.open(archive, { read: true });
      const names = MEMBERS.map((m) => `${MEMBER_DIR}/${m}`);
      const members = await readTarGzMembers(file.readable, names);
      for (const member of names) {
        if (!members.has(member)) throw new SyntaxError(`The archive has no member ${member}.`);
      }
      // Parse before writing, so a malformed archive never becomes READY.
      for (const m of [...TRAIN_MEMBERS, TEST_MEMBER]) {
        parseCifarRecords([members.get(`${MEMBER_DIR}/${m}`)!], 10);
      }
      for (const member of names) await writeAtomic(`${dir}/${member}`, members.get(member)!);
      await writeAtomic(readyMarker(dir), JSON.stringify({ url, checksums }));
    });
  }

  const load = memoizeAsync(async (dir: string): Promise<Record<string, ImageSplitSource>> => {
    const read = (m: string) => Deno.readFile(`${dir}/${MEMBER_DIR}/${m}`);
    const train = parseCifarRecords(await Promise.all(TRAIN_MEMBERS.map(read)), 10);
    const test = parseCifarRecords([await read(TEST_MEMBER)], 10);
    info.splits = { train: { examples: train.count }, test: { examples: test.count } };
    return { train: cifarSplit(train), test: cifarSplit(test) };
  });

  return {
    info,
    isReady: async (opts = {}) => await exists(readyMarker(folder(opts.dataDir))),
    prepare,
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), options);
      await prepare({ dataDir: options.dataDir, onProgress: (m) => console.error(m) });
      const splits = await load(folder(options.dataDir));
      yield* imageBatches(splits[options.split]!, CIFAR10_SPEC, options);
    },
  };
}

/** CIFAR-10 from the official source. */
export const cifar10: Dataset = createCifar10();
