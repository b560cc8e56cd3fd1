/**
 * A seeded random Markov chain of order k over K symbols with sparse transitions, and its exact
 * entropy rate.
 *
 * Method. States are the last k symbols, `s = x₁·K^{k−1} + … + x_k` (newest last); from each
 * state `branching` distinct successors are drawn uniformly and given Dirichlet(1) weights
 * (normalised Exp(1) draws). The stationary distribution π over the K^k states solves `π = πP`; it
 * is found by power iteration on the lazy chain `(I + P)/2` (same π, always converges) until the
 * L1 change is below {@linkcode STATIONARY_TOLERANCE}. Started from π the process is stationary,
 * and its entropy rate — the irreducible loss of any predictor, in nats per token — is
 *
 *   H = Σ_s π(s) · Σ_c −P(c|s) ln P(c|s).
 *
 * The chain must have a single recurrent class (else one sequence's empirical entropy converges to
 * its own class's rate, not H); a draw that fails is redrawn from the next sub-seed.
 *
 * @module
 */
import { mixSeed, rng } from "./random.ts";

/** Parameters of a chain. */
export interface MarkovSpec {
  /** Alphabet size K (≤ {@linkcode MARKOV_ALPHABET}'s length). */
  symbols: number;
  /** Order k: how many previous symbols the next one depends on. */
  order: number;
  /** Successors with non-zero probability per state (≤ K). */
  branching: number;
  /** Seed of the draw. */
  seed: number;
}

/** Printable bytes the symbols are written as (symbol i ↦ byte of character i). */
export const MARKOV_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** L1 change of π between lazy iterations at which it counts as converged (near f64 round-off). */
export const STATIONARY_TOLERANCE = 1e-14;
/** Iteration cap of the power iteration (random sparse chains converge in hundreds). */
const MAX_ITERATIONS = 200_000;
/** π mass allowed outside the recurrent class: only what transient states retain at convergence. */
const TRANSIENT_MASS_TOLERANCE = 1e-9;
/** Redraws tried before giving up on a spec whose chains keep failing the recurrence check. */
const MAX_ATTEMPTS = 64;

/** A drawn chain with its stationary distribution and entropies. */
export interface MarkovChain {
  spec: MarkovSpec;
  /** K^k. */
  states: number;
  /** `successors[s·branching + j]`: j-th successor symbol of state s. */
  successors: Uint8Array;
  /** Transition probabilities, same layout. */
  probs: Float64Array;
  /** Stationary distribution over states. */
  stationary: Float64Array;
  /** Entropy rate H in nats per token. */
  entropyRate: number;
  /** `prefixEntropy[m]` = H(X₁…X_m) of the first m symbols under π, m = 0…k. */
  prefixEntropy: number[];
}

/**
 * Draw the chain of a spec.
 *
 * @param spec Alphabet, order, branching, seed.
 * @returns The chain.
 * @throws {RangeError} Invalid spec, or no valid chain in {@linkcode MAX_ATTEMPTS} draws.
 */
export function buildMarkovChain(spec: MarkovSpec): MarkovChain {
  checkMarkovSpec(spec);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const chain = tryBuild(spec, mixSeed(spec.seed, attempt));
    if (chain !== undefined) return chain;
  }
  throw new RangeError(`No chain with a single recurrent class in ${MAX_ATTEMPTS} draws.`);
}

/**
 * Check a chain spec without drawing it.
 *
 * @param spec Alphabet, order, branching, seed.
 * @throws {RangeError} A parameter out of range.
 */
export function checkMarkovSpec(spec: MarkovSpec): void {
  const { symbols: K, order: k, branching } = spec;
  if (!Number.isInteger(K) || K < 2 || K > MARKOV_ALPHABET.length) {
    throw new RangeError(`symbols must be an integer in [2, ${MARKOV_ALPHABET.length}], got ${K}.`);
  }
  if (!Number.isInteger(k) || k < 1 || K ** k > 1 << 20) {
    throw new RangeError(`order must be ≥ 1 with symbols^order ≤ 2^20, got ${k}.`);
  }
  if (!Number.isInteger(branching) || branching < 1 || branching > K) {
    throw new RangeError(`branching must be an integer in [1, ${K}], got ${branching}.`);
  }
}

function tryBuild(spec: MarkovSpec, seed: number): MarkovChain | undefined {
  const { symbols: K, order: k, branching: S } = spec;
  const states = K ** k;
  const next = rng(seed);
  const successors = new Uint8Array(states * S);
  const probs = new Float64Array(states * S);
  const pool = new Uint8Array(K);
  for (let s = 0; s < states; s++) {
    for (let i = 0; i < K; i++) pool[i] = i;
    let total = 0;
    for (let j = 0; j < S; j++) {
      const pick = j + Math.floor(next() * (K - j)); // partial Fisher–Yates: distinct successors
      [pool[j], pool[pick]] = [pool[pick]!, pool[j]!];
      successors[s * S + j] = pool[j]!;
      const w = -Math.log(1 - next()); // Exp(1); normalised → Dirichlet(1)
      probs[s * S + j] = w;
      total += w;
    }
    for (let j = 0; j < S; j++) probs[s * S + j]! /= total;
  }
  const stationary = stationaryOf(states, K, S, successors, probs);
  if (stationary === undefined || !singleRecurrentClass(stationary, K, S, successors)) {
    return undefined;
  }
  let entropyRate = 0;
  for (let s = 0; s < states; s++) {
    let h = 0;
    for (let j = 0; j < S; j++) {
      const p = probs[s * S + j]!;
      if (p > 0) h -= p * Math.log(p);
    }
    entropyRate += stationary[s]! * h;
  }
  const prefixEntropy = [0];
  for (let m = 1; m <= k; m++) {
    const marginal = new Float64Array(K ** m);
    const div = K ** (k - m);
    for (let s = 0; s < states; s++) marginal[Math.floor(s / div)]! += stationary[s]!;
    prefixEntropy.push(marginal.reduce((h, p) => (p > 0 ? h - p * Math.log(p) : h), 0));
  }
  return { spec, states, successors, probs, stationary, entropyRate, prefixEntropy };
}

/** π of the lazy chain by power iteration from uniform; `undefined` if it does not converge. */
function stationaryOf(
  states: number,
  K: number,
  S: number,
  successors: Uint8Array,
  probs: Float64Array,
): Float64Array | undefined {
  let pi = new Float64Array(states).fill(1 / states);
  let out = new Float64Array(states);
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    for (let s = 0; s < states; s++) out[s] = pi[s]! / 2;
    for (let s = 0; s < states; s++) {
      const half = pi[s]! / 2;
      if (half === 0) continue;
      const base = (s * K) % states;
      for (let j = 0; j < S; j++) out[base + successors[s * S + j]!]! += half * probs[s * S + j]!;
    }
    let change = 0;
    for (let s = 0; s < states; s++) change += Math.abs(out[s]! - pi[s]!);
    [pi, out] = [out, pi];
    if (change < STATIONARY_TOLERANCE) return pi;
  }
  return undefined;
}

/** Whether the states reachable from π's heaviest state carry (almost) all of π. */
function singleRecurrentClass(
  pi: Float64Array,
  K: number,
  S: number,
  successors: Uint8Array,
): boolean {
  const states = pi.length;
  let start = 0;
  for (let s = 1; s < states; s++) if (pi[s]! > pi[start]!) start = s;
  const seen = new Uint8Array(states);
  const stack = [start];
  seen[start] = 1;
  let mass = 0;
  while (stack.length > 0) {
    const s = stack.pop()!;
    mass += pi[s]!;
    const base = (s * K) % states;
    for (let j = 0; j < S; j++) {
      const t = base + successors[s * S + j]!;
      if (!seen[t]) {
        seen[t] = 1;
        stack.push(t);
      }
    }
  }
  return 1 - mass < TRANSIENT_MASS_TOLERANCE;
}

/**
 * The lowest mean loss per target a predictor can reach on sequences of `context` targets that
 * start from π: target t (predicting x_{t+1} from x₀…x_t) costs H(X_{t+1} | X₀…X_t), which is
 * `prefixEntropy[t+2] − prefixEntropy[t+1]` while t + 1 < k and the rate H after, so
 *
 *   floor(T) = (1/T) Σ_{t=0}^{T−1} h_t  (→ H as T → ∞).
 *
 * @param chain The chain.
 * @param context Targets per sequence T.
 * @returns Nats per token.
 */
export function markovLossFloor(chain: MarkovChain, context: number): number {
  let total = 0;
  for (let t = 0; t < context; t++) {
    total += t + 1 < chain.spec.order
      ? chain.prefixEntropy[t + 2]! - chain.prefixEntropy[t + 1]!
      : chain.entropyRate;
  }
  return total / context;
}

/**
 * Sample a sequence from π then the chain, written as byte tokens of {@linkcode MARKOV_ALPHABET}.
 *
 * @param chain The chain.
 * @param seed Seed of this sequence.
 * @param out Destination; its length is the sequence length.
 */
export function sampleMarkov(chain: MarkovChain, seed: number, out: Int32Array): void {
  const { symbols: K, order: k, branching: S } = chain.spec;
  const next = rng(seed);
  const cdf = stationaryCdf(chain);
  // First k symbols: a state drawn from π (binary search of the CDF).
  const u = next();
  let lo = 0, hi = chain.states - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  let state = lo;
  const codes = ALPHABET_CODES;
  for (let i = 0; i < Math.min(k, out.length); i++) {
    out[i] = codes[Math.floor(state / K ** (k - 1 - i)) % K]!;
  }
  for (let i = k; i < out.length; i++) {
    const r = next();
    const base = state * S;
    let j = 0, acc = chain.probs[base]!;
    while (acc <= r && j < S - 1) acc += chain.probs[base + ++j]!;
    const symbol = chain.successors[base + j]!;
    out[i] = codes[symbol]!;
    state = (state * K + symbol) % chain.states;
  }
}

const ALPHABET_CODES = Int32Array.from(MARKOV_ALPHABET, (c) => c.charCodeAt(0));
const CDF_CACHE = new WeakMap<MarkovChain, Float64Array>();

function stationaryCdf(chain: MarkovChain): Float64Array {
  let cdf = CDF_CACHE.get(chain);
  if (cdf === undefined) {
    cdf = new Float64Array(chain.states);
    let acc = 0;
    chain.stationary.forEach((p, s) => cdf![s] = acc += p);
    CDF_CACHE.set(chain, cdf);
  }
  return cdf;
}
