/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28×28 grey images of clothing in 10
 * classes, 60,000 train / 10,000 test, as gzip'd IDX files. They are read from
 * `/usr/share/datasets/fashion-mnist/` (Debian's `dataset-fashion-mnist`) when installed there —
 * that copy is recompressed, so it is checked by parsing, not by md5 — else downloaded from the
 * official repository into `<data dir>/fashion-mnist/` and verified against the published md5s.
 *
 * @module
 */
import { exists, memoizeAsync, resolveDataDir } from "./cache.ts";
import { type Checksums, ensureFilesDownloaded } from "./download.ts";
import { gunzip, parseIdx } from "./idx.ts";
import { imageBatches, type ImageSpec, type ImageSplitSource } from "./image_source.ts";
import { checkBatchOptions } from "./order.ts";
import type { Batch, BatchOptions, Dataset, DatasetInfo, PrepareOptions } from "./types.ts";

/** Where Debian's package installs the files. */
export const FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist";
/** The official download folder (zalandoresearch/fashion-mnist on GitHub). */
export const FASHION_MNIST_BASE_URL =
  "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/";
/** File → published md5 (as in the official README and torchvision). */
export const FASHION_MNIST_FILES: Record<string, string> = {
  "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
  "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
  "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
  "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
};
/** Class names in label order. */
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
/**
 * Geometry and normalisation: mean 0.2860 and std 0.3530 of pixel/255 over the 60,000 training
 * images (measured: 0.28604, 0.35302). Crop padding 2 (28-pixel images).
 */
export const FASHION_MNIST_SPEC: ImageSpec = {
  height: 28,
  width: 28,
  channels: 1,
  mean: [0.2860],
  std: [0.3530],
  pad: 2,
};

const SPLIT_FILES: Record<string, [string, string]> = {
  train: ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"],
  test: ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
};

/** Options of {@linkcode createFashionMnist}. */
export interface FashionMnistOptions {
  /** Folder checked before any download. @default FASHION_MNIST_SYSTEM_DIR */
  systemDir?: string;
  /** Download folder URL, ending in `/`. @default FASHION_MNIST_BASE_URL */
  baseUrl?: string;
  /** File → expected checksums. @default md5s of FASHION_MNIST_FILES */
  checksums?: Record<string, Checksums>;
}

/**
 * Build the Fashion-MNIST dataset (the registry holds the default one).
 *
 * @param options Source overrides.
 * @returns The dataset.
 */
export function createFashionMnist(options: FashionMnistOptions = {}): Dataset {
  const systemDir = options.systemDir ?? FASHION_MNIST_SYSTEM_DIR;
  const baseUrl = options.baseUrl ?? FASHION_MNIST_BASE_URL;
  const checksums = options.checksums ??
    Object.fromEntries(Object.entries(FASHION_MNIST_FILES).map(([f, md5]) => [f, { md5 }]));
  const files = Object.keys(FASHION_MNIST_FILES);
  const info: DatasetInfo = {
    name: "fashion-mnist",
    description: "Fashion-MNIST: 28×28 grey images of Zalando articles in 10 classes.",
    modality: "image",
    splits: { train: { examples: 60_000 }, test: { examples: 10_000 } },
    image: { height: 28, width: 28, channels: 1, classes: FASHION_MNIST_CLASSES },
    source_url: baseUrl,
    license: "MIT (Zalando SE)",
    checksum: Object.fromEntries(files.map((f) => [f, `md5:${FASHION_MNIST_FILES[f]}`])),
  };
  const cacheDir = (dataDir?: string) => `${resolveDataDir(dataDir)}/fashion-mnist`;
  const hasAll = async (dir: string, suffix = "") => {
    for (const f of files) if (!(await exists(`${dir}/${f}${suffix}`))) return false;
    return true;
  };
  /** The folder to read from: the system one when complete, else the (verified) cache. */
  const sourceDir = async (dataDir?: string) => {
    if (await hasAll(systemDir)) return systemDir;
    const dir = cacheDir(dataDir);
    return (await hasAll(dir, ".verified")) ? dir : undefined;
  };

  async function prepare(opts: PrepareOptions = {}): Promise<void> {
    if (await hasAll(systemDir)) return;
    await ensureFilesDownloaded({
      ...opts,
      baseUrl,
      dir: cacheDir(opts.dataDir),
      files,
      checksums,
    });
  }

  const load = memoizeAsync(async (dir: string): Promise<Record<string, ImageSplitSource>> => {
    const out: Record<string, ImageSplitSource> = {};
    for (const [split, [imagesFile, labelsFile]] of Object.entries(SPLIT_FILES)) {
      const images = parseIdx(await gunzip(await Deno.readFile(`${dir}/${imagesFile}`)), 3);
      const labels = parseIdx(await gunzip(await Deno.readFile(`${dir}/${labelsFile}`)), 1);
      const [count, h, w] = images.dims as [number, number, number];
      if (h !== 28 || w !== 28 || labels.dims[0] !== count) {
        throw new SyntaxError(
          `${imagesFile} is ${images.dims.join("×")} with ${labels.dims[0]} labels; ` +
            `expected N×28×28 with N labels.`,
        );
      }
      const size = h * w;
      out[split] = {
        count,
        image: (i) => images.data.subarray(i * size, (i + 1) * size),
        label: (i) => labels.data[i]!,
      };
      info.splits[split] = { examples: count };
    }
    return out;
  });

  return {
    info,
    isReady: async (opts = {}) => (await sourceDir(opts.dataDir)) !== undefined,
    prepare,
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(info.name, Object.keys(info.splits), options);
      await prepare({ dataDir: options.dataDir, onProgress: (m) => console.error(m) });
      const dir = (await sourceDir(options.dataDir))!;
      const splits = await load(dir);
      yield* imageBatches(splits[options.split]!, FASHION_MNIST_SPEC, options);
    },
  };
}

/** Fashion-MNIST, from Debian's package or the official repository. */
export const fashionMnist: Dataset = createFashionMnist();
