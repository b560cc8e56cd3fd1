/**
 * Synthetic image classification with an exactly known floor, generated on demand.
 *
 * Method. Class c ∈ {0…K−1} owns M prototypes, each a smooth 32×32×3 pattern (a 4×4×3 grid of
 * uniform values in [A, 255 − A] bilinearly upsampled). An example picks a class and prototype
 * uniformly, adds integer noise in [−A, A] to every byte (near-uniform, four bytes per
 * xorshift32 step; never clipped, by the prototype range), and keeps its class as label with
 * probability 1 − ε, else takes one of the other K − 1 classes uniformly. Any two prototypes of different classes differ by more than
 * 2A at some byte (checked when drawn, redrawn otherwise), so the noisy images of different
 * classes never coincide: the clean class is a function of the image, and the Bayes-optimal
 * predictor puts 1 − ε on it and ε/(K−1) on each other class. Its expected cross-entropy — the
 * irreducible loss published as `info.entropy_nats` — is
 *
 *   E = −(1 − ε) ln(1 − ε) − ε ln(ε / (K − 1)),
 *
 * and the Bayes error rate is ε.
 *
 * @module
 */
import { imageBatches, type ImageSpec, type ImageSplitSource } from "./image_source.ts";
import { checkBatchOptions } from "./order.ts";
import { mixSeed, rng } from "./random.ts";
import type { Batch, BatchOptions, Dataset, DatasetInfo } from "./types.ts";

/** Parameters of the generator. */
export interface SyntheticImageSpec {
  /** Classes K. */
  classes: number;
  /** Prototypes per class M. */
  prototypesPerClass: number;
  /** Noise half-width A in pixel units (0…255). */
  noise: number;
  /** Label-noise probability ε. */
  labelNoise: number;
  /** Seed of prototypes and examples. */
  seed: number;
}

/** Defaults: 10 classes × 4 prototypes, noise ±48, ε = 0.1 (E ≈ 0.5448 nats). */
export const DEFAULT_SYNTHETIC_IMAGES: SyntheticImageSpec = {
  classes: 10,
  prototypesPerClass: 4,
  noise: 48,
  labelNoise: 0.1,
  seed: 20240602,
};

/** Examples per split. */
export const SYNTHETIC_IMAGE_SPLITS: Record<string, number> = { train: 50_000, test: 10_000 };

/** Geometry and a fixed normalisation (pixel/255 − 0.5) / 0.25: inputs land in about [−2, 2]. */
export const SYNTHETIC_IMAGE_SPEC: ImageSpec = {
  height: 32,
  width: 32,
  channels: 3,
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.25, 0.25],
  pad: 4,
};

/** Side of the coarse grid upsampled into a prototype. */
const GRID = 4;
/** Prototype redraws allowed before giving up (random patterns almost never need one). */
const MAX_REDRAWS = 1000;

/**
 * The Bayes cross-entropy floor of label noise ε over K classes (module doc).
 *
 * @param classes K.
 * @param labelNoise ε in [0, 1).
 * @returns Nats per example.
 */
export function labelNoiseFloor(classes: number, labelNoise: number): number {
  const e = labelNoise;
  if (e === 0) return 0; // noiseless: the label is a function of the image
  return -(1 - e) * Math.log(1 - e) - e * Math.log(e / (classes - 1));
}

/**
 * Draw the prototypes, checking the separation that makes the floor exact.
 *
 * @param spec Generator parameters.
 * @returns `classes × prototypesPerClass` HWC uint8 images, class-major.
 * @throws {RangeError} Parameters for which separated prototypes cannot be found.
 */
export function drawPrototypes(spec: SyntheticImageSpec): Uint8Array[] {
  const { height: H, width: W, channels: C } = SYNTHETIC_IMAGE_SPEC;
  const A = spec.noise;
  if (!(A >= 0 && A < 64)) throw new RangeError(`noise must be in [0, 64), got ${A}.`);
  const next = rng(mixSeed(spec.seed, 0x9807));
  const draw = () => {
    const grid = Float64Array.from({ length: GRID * GRID * C }, () => A + next() * (255 - 2 * A));
    const img = new Uint8Array(H * W * C);
    for (let y = 0; y < H; y++) {
      const gy = (y / (H - 1)) * (GRID - 1), y0 = Math.min(Math.floor(gy), GRID - 2), fy = gy - y0;
      for (let x = 0; x < W; x++) {
        const gx = (x / (W - 1)) * (GRID - 1),
          x0 = Math.min(Math.floor(gx), GRID - 2),
          fx = gx - x0;
        for (let c = 0; c < C; c++) {
          const g = (yy: number, xx: number) => grid[(yy * GRID + xx) * C + c]!;
          const v = (1 - fy) * ((1 - fx) * g(y0, x0) + fx * g(y0, x0 + 1)) +
            fy * ((1 - fx) * g(y0 + 1, x0) + fx * g(y0 + 1, x0 + 1));
          img[(y * W + x) * C + c] = Math.round(v); // stays in [A, 255 − A]: convex combination
        }
      }
    }
    return img;
  };
  const separated = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 2 * A) return true;
    return false;
  };
  const out: Uint8Array[] = [];
  for (let c = 0; c < spec.classes; c++) {
    for (let m = 0; m < spec.prototypesPerClass; m++) {
      let img = draw();
      let redraws = 0;
      while (
        out.some((p, i) => Math.floor(i / spec.prototypesPerClass) !== c && !separated(p, img))
      ) {
        if (++redraws > MAX_REDRAWS) {
          throw new RangeError("Cannot separate prototypes; lower noise.");
        }
        img = draw();
      }
      out.push(img);
    }
  }
  return out;
}

/** Options of {@linkcode createSyntheticImages}. */
export interface SyntheticImagesOptions extends Partial<SyntheticImageSpec> {
  /** Registry name. @default "synthetic-images" */
  name?: string;
}

/**
 * Build a synthetic image dataset.
 *
 * @param options Generator parameters (defaults {@linkcode DEFAULT_SYNTHETIC_IMAGES}) and name.
 * @returns The dataset.
 */
export function createSyntheticImages(options: SyntheticImagesOptions = {}): Dataset {
  const spec: SyntheticImageSpec = { ...DEFAULT_SYNTHETIC_IMAGES, ...stripName(options) };
  const { classes: K, prototypesPerClass: M, noise: A, labelNoise: eps } = spec;
  if (!Number.isInteger(K) || K < 2 || K > 256) {
    throw new RangeError(`classes must be in [2, 256].`);
  }
  if (!(eps >= 0 && eps < 1)) throw new RangeError(`labelNoise must be in [0, 1).`);
  const name = options.name ?? "synthetic-images";
  const floor = labelNoiseFloor(K, eps);
  const info: DatasetInfo = {
    name,
    description: `${K} classes × ${M} smooth 32×32 prototypes + uniform noise ±${A}, labels ` +
      `flipped with probability ${eps}: Bayes error ${eps}, Bayes cross-entropy ` +
      `${floor.toFixed(4)} nats (seed ${spec.seed}).`,
    modality: "image",
    splits: Object.fromEntries(
      Object.entries(SYNTHETIC_IMAGE_SPLITS).map(([s, n]) => [s, { examples: n }]),
    ),
    image: {
      height: 32,
      width: 32,
      channels: 3,
      classes: Array.from({ length: K }, (_, i) => `class-${i}`),
    },
    license: "Generated (no licence needed)",
    entropy_nats: floor,
  };
  let prototypes: Uint8Array[] | undefined;
  // byte b ↦ ⌊b·(2A+1)/256⌋ − A: every value in [−A, A], as evenly as 256 bytes allow.
  const noiseOfByte = Int16Array.from(
    { length: 256 },
    (_, b) => Math.floor((b * (2 * A + 1)) / 256) - A,
  );
  const splitSalt: Record<string, number> = { train: 1, test: 2 };
  const source = (split: string): ImageSplitSource => {
    prototypes ??= drawPrototypes(spec);
    const protos = prototypes;
    const pixels = new Uint8Array(32 * 32 * 3);
    let cachedIndex = -1, cachedLabel = 0;
    const generate = (index: number) => {
      const next = rng(mixSeed(spec.seed, splitSalt[split]!, index));
      const cls = Math.floor(next() * K);
      const proto = protos[cls * M + Math.floor(next() * M)]!;
      // Noise: xorshift32 (seeded from the example's stream), 4 bytes per draw, each byte mapped
      // to [−A, A] by NOISE_OF_BYTE. Its exact shape does not matter for the floor: only its
      // bound A does (module doc).
      let state = (Math.floor(next() * 4294967296) | 1) >>> 0;
      for (let i = 0; i < pixels.length; i += 4) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        pixels[i] = proto[i]! + noiseOfByte[state & 255]!;
        pixels[i + 1] = proto[i + 1]! + noiseOfByte[(state >>> 8) & 255]!;
        pixels[i + 2] = proto[i + 2]! + noiseOfByte[(state >>> 16) & 255]!;
        pixels[i + 3] = proto[i + 3]! + noiseOfByte[state >>> 24]!;
      }
      let label = cls;
      if (next() < eps) label = (cls + 1 + Math.floor(next() * (K - 1))) % K;
      cachedIndex = index;
      cachedLabel = label;
    };
    return {
      count: SYNTHETIC_IMAGE_SPLITS[split]!,
      image: (index) => {
        generate(index);
        return pixels;
      },
      label: (index) => {
        if (index !== cachedIndex) generate(index);
        return cachedLabel;
      },
    };
  };
  return {
    info,
    isReady: () => Promise.resolve(true),
    prepare: () => Promise.resolve(),
    async *batches(options: BatchOptions): AsyncIterableIterator<Batch> {
      checkBatchOptions(name, Object.keys(info.splits), options);
      yield* imageBatches(source(options.split), SYNTHETIC_IMAGE_SPEC, options);
    },
  };
}

function stripName(options: SyntheticImagesOptions): Partial<SyntheticImageSpec> {
  const { name: _name, ...rest } = options;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

/** The registered synthetic image source. */
export const syntheticImages: Dataset = createSyntheticImages();
