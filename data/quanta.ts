/**
 * Synthetic text that scales like real data: a Zipf-distributed mixture of many independent
 * sub-tasks ("quanta", Michaud et al. 2023, *The Quantization Model of Neural Scaling*; Hutter
 * 2021, *Learning Curve Theory*), with an exactly known entropy rate.
 *
 * Method. A sequence is a run of two-token records `key value key value …`. Keys are i.i.d. from a
 * Zipf law over K keys, `p_k = k^{−s} / Σ_{j=1}^{K} j^{−s}` (k = 1…K); each key k has its own
 * seeded distribution over V values,
 *
 *   q(v | k) = exp(τ·z_kv) / Σ_u exp(τ·z_ku),   z_kv ~ N(0, 1) i.i.d.,
 *
 * a peaked, dense distribution (sharpness τ). Each key is a quantum: a model that has stored q_k
 * predicts its value at the floor, one that has not pays KL(q_k ‖ its guess) — about ln V − h_k
 * nats — and a dense distribution is learned gradually (its estimate from n occurrences is off by
 * ≈ (V − 1)/2n nats). Frequent keys are learned first, by small models from little data; rare ones
 * need both capacity (the K×V table is stored in shared low-rank weights) and occurrences, so the
 * reducible loss falls as a power law in parameters and tokens until the whole table is stored.
 *
 * Entropy. Records are i.i.d., so the entropy rate per token is the mean of the two positions',
 *
 *   H = (H_Z + h_v) / 2,   H_Z = −Σ_k p_k ln p_k,   h_v = Σ_k p_k · (−Σ_v q(v|k) ln q(v|k)),
 *
 * and since every sequence starts at a key, the floor at an even context is exactly H
 * ({@linkcode quantaLossFloor} gives every context). A value is predicted from the token before it
 * alone, so a GPT needs no attention pattern to learn it (an order-2 source sits on a plateau for
 * minutes on a CPU).
 *
 * Tokens: key k is byte `k − 1`, value v is byte `K + v`, so K + V ≤ 256.
 *
 * @module
 */
import { generatedTextDataset } from "./generated_text.ts";
import { mixSeed, rng } from "./random.ts";
import { BYTE_VOCAB_SIZE } from "./tokenizer.ts";
import type { Dataset } from "./types.ts";

/** Parameters of a quanta source. */
export interface QuantaSpec {
  /** Number of keys (quanta) K. */
  keys: number;
  /** Number of values V (K + V ≤ 256). */
  values: number;
  /** Zipf exponent s of the key frequencies (> 1 gives α = s − 1 > 0). */
  zipf: number;
  /** Sharpness τ of the per-key value distributions (0 = uniform), in [0, 20]. */
  sharpness: number;
  /** Seed of the value distributions. */
  seed: number;
}

/** The default source: 128 keys, 128 values, Zipf s = 1.3, τ = 3, seed 20240601. */
export const DEFAULT_QUANTA: QuantaSpec = {
  keys: 128,
  values: 128,
  zipf: 1.3,
  sharpness: 3,
  seed: 20240601,
};

/** A drawn source: key probabilities, answers and entropies. */
export interface QuantaTable {
  spec: QuantaSpec;
  /** `keyProbs[k − 1]` = p_k. */
  keyProbs: Float64Array;
  /** CDF of the keys, for sampling. */
  keyCdf: Float64Array;
  /** `valueProbs[(k − 1)·V + v]` = q(v | k). */
  valueProbs: Float64Array;
  /** Per-key CDFs of the values, same layout. */
  valueCdf: Float64Array;
  /** H_Z in nats. */
  keyEntropy: number;
  /** h_v = E_k[H(q_k)] in nats. */
  valueEntropy: number;
  /** H = (H_Z + h_v)/2, nats per token. */
  entropyRate: number;
}

/**
 * Check a spec.
 *
 * @param spec The spec.
 * @throws {RangeError} A parameter out of range, naming it.
 */
export function checkQuantaSpec(spec: QuantaSpec): void {
  const { keys, values, zipf, sharpness } = spec;
  if (!Number.isInteger(keys) || keys < 1) {
    throw new RangeError(`keys must be a positive integer, got ${keys}.`);
  }
  if (!Number.isInteger(values) || values < 2 || keys + values > BYTE_VOCAB_SIZE) {
    throw new RangeError(`values must be an integer ≥ 2 with keys + values ≤ 256, got ${values}.`);
  }
  if (!Number.isFinite(zipf) || zipf < 0) {
    throw new RangeError(`zipf must be a finite number ≥ 0, got ${zipf}.`);
  }
  if (!Number.isFinite(sharpness) || sharpness < 0 || sharpness > 20) {
    throw new RangeError(`sharpness must be in [0, 20], got ${sharpness}.`);
  }
}

/**
 * Draw the table of a spec (module doc for the formulas).
 *
 * @param spec The spec.
 * @returns Key probabilities, answers and the exact entropies.
 * @throws {RangeError} An invalid spec.
 */
export function buildQuantaTable(spec: QuantaSpec): QuantaTable {
  checkQuantaSpec(spec);
  const { keys: K, values: V, zipf: s, sharpness: tau } = spec;
  const keyProbs = new Float64Array(K);
  let total = 0;
  for (let k = 1; k <= K; k++) total += keyProbs[k - 1] = k ** -s;
  const keyCdf = new Float64Array(K);
  let acc = 0, keyEntropy = 0;
  for (let i = 0; i < K; i++) {
    const p = keyProbs[i]! /= total;
    keyCdf[i] = acc += p;
    keyEntropy -= p * Math.log(p);
  }
  keyCdf[K - 1] = 1;
  const next = rng(mixSeed(spec.seed, 0x9a4));
  const valueProbs = new Float64Array(K * V);
  const valueCdf = new Float64Array(K * V);
  let valueEntropy = 0;
  for (let k = 0; k < K; k++) {
    const row = valueProbs.subarray(k * V, (k + 1) * V);
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, row[v] = tau * gaussian(next));
    let sum = 0;
    for (let v = 0; v < V; v++) sum += row[v] = Math.exp(row[v]! - max);
    let cumulative = 0, h = 0;
    for (let v = 0; v < V; v++) {
      const q = row[v]! /= sum;
      valueCdf[k * V + v] = cumulative += q;
      h -= xlnx(q);
    }
    valueCdf[k * V + V - 1] = 1;
    valueEntropy += keyProbs[k]! * h;
  }
  return {
    spec,
    keyProbs,
    keyCdf,
    valueProbs,
    valueCdf,
    keyEntropy,
    valueEntropy,
    entropyRate: (keyEntropy + valueEntropy) / 2,
  };
}

/** A standard normal draw (Box–Muller). */
function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** x ln x with 0 ln 0 = 0. */
function xlnx(x: number): number {
  return x > 0 ? x * Math.log(x) : 0;
}

/**
 * The probability of a value token after a key token under the source (for tests and oracles).
 *
 * @param table The source.
 * @param key Key k in 1…K.
 * @param value Value v in 0…V−1.
 * @returns q(v | k).
 */
export function quantaValueProb(table: QuantaTable, key: number, value: number): number {
  return table.valueProbs[(key - 1) * table.spec.values + value]!;
}

/**
 * The lowest mean loss per target on sequences of `context` targets (each sequence starts at a
 * key, so targets alternate value, key, value, …):
 *
 *   floor(T) = (⌈T/2⌉·h_v + ⌊T/2⌋·H_Z) / T   (= H for even T).
 *
 * @param table The source.
 * @param context Targets per sequence T.
 * @returns Nats per token.
 */
export function quantaLossFloor(table: QuantaTable, context: number): number {
  const values = Math.ceil(context / 2), keys = Math.floor(context / 2);
  return (values * table.valueEntropy + keys * table.keyEntropy) / context;
}

/**
 * Sample one sequence: records `key value …` from the source, as byte tokens.
 *
 * @param table The source.
 * @param seed Seed of this sequence.
 * @param out Destination; its length is the sequence length.
 */
export function sampleQuanta(table: QuantaTable, seed: number, out: Int32Array): void {
  const { keys: K, values: V } = table.spec;
  const next = rng(seed);
  let key = 0;
  for (let i = 0; i < out.length; i++) {
    if (i % 2 === 0) {
      key = searchCdf(table.keyCdf, 0, K, next());
      out[i] = key;
    } else {
      out[i] = K + searchCdf(table.valueCdf, key * V, V, next()) - key * V;
    }
  }
}

/** The first index i in [start, start + n) with cdf[i] > u (binary search). */
function searchCdf(cdf: Float64Array, start: number, n: number, u: number): number {
  let lo = start, hi = start + n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Options of {@linkcode createQuantaText}. */
export interface QuantaTextOptions extends Partial<QuantaSpec> {
  /** Registry name. @default "synthetic-quanta" */
  name?: string;
}

/** A quanta dataset with its table exposed (for floors and tests). */
export interface QuantaDataset extends Dataset {
  /** The source the sequences come from. */
  table: QuantaTable;
}

/**
 * Build a quanta text dataset.
 *
 * @param options Spec (defaults: {@linkcode DEFAULT_QUANTA}) and name.
 * @returns The dataset.
 * @throws {RangeError} An invalid spec.
 *
 * @example
 * ```ts
 * import { createQuantaText } from "./quanta.ts";
 * const data = createQuantaText({ keys: 8, values: 4 });
 * if (!(data.info.entropy_nats! > 0)) throw new Error("unexpected");
 * ```
 */
export function createQuantaText(options: QuantaTextOptions = {}): QuantaDataset {
  const spec: QuantaSpec = {
    keys: options.keys ?? DEFAULT_QUANTA.keys,
    values: options.values ?? DEFAULT_QUANTA.values,
    zipf: options.zipf ?? DEFAULT_QUANTA.zipf,
    sharpness: options.sharpness ?? DEFAULT_QUANTA.sharpness,
    seed: options.seed ?? DEFAULT_QUANTA.seed,
  };
  const table = buildQuantaTable(spec);
  const dataset = generatedTextDataset({
    name: options.name ?? "synthetic-quanta",
    seed: spec.seed,
    description: () =>
      `Zipf mixture of ${spec.keys} key→value quanta (records "key value", ` +
      `key frequency ∝ k^-${spec.zipf}, ${spec.values} values, sharpness ${spec.sharpness}, seed ` +
      `${spec.seed}); entropy rate ${table.entropyRate.toFixed(4)} nats/token (keys ` +
      `${table.keyEntropy.toFixed(4)}, values ${table.valueEntropy.toFixed(4)}), the floor at ` +
      `every even context.`,
    entropyNats: () => table.entropyRate,
    sample: (seed, out) => sampleQuanta(table, seed, out),
  });
  return { ...dataset, table };
}

/** The registered quanta source ({@linkcode DEFAULT_QUANTA}), the default study's data. */
export const syntheticQuanta: QuantaDataset = createQuantaText();
