/**
 * Synthetic text with an exactly known floor: sequences from a seeded random order-2 Markov chain
 * over 32 symbols with 4 successors per context (see `markov.ts`), generated on demand — no
 * download. Its entropy rate, published as `info.entropy_nats`, is the irreducible loss E a
 * scaling-law fit should approach.
 *
 * Why this default is a real scaling experiment: a model that learns only symbol frequencies
 * reaches H(X) ≈ 3.45 nats, one that learns pairs H(X₂|X₁) ≈ 3.17, and only one that stores the
 * whole 1,024-context × 4-successor table reaches the rate ≈ 1.084 — so loss keeps falling with
 * parameters and tokens over the range small GPTs span.
 *
 * Each sequence is an independent draw that starts from the stationary distribution, so its first
 * target (predicted from one symbol) is harder than the rest: the exact floor at context T is
 * {@linkcode syntheticTextLossFloor}, slightly above the rate.
 *
 * @module
 */
import {
  buildMarkovChain,
  checkMarkovSpec,
  type MarkovChain,
  markovLossFloor,
  type MarkovSpec,
  sampleMarkov,
} from "./markov.ts";
import { generatedTextDataset } from "./generated_text.ts";
import { DEFAULT_CONTEXT } from "./text_source.ts";
import type { Dataset } from "./types.ts";

/** The default chain: order 2, 32 symbols, 4 successors per context, seed 20240601. */
export const DEFAULT_SYNTHETIC_TEXT: MarkovSpec = {
  symbols: 32,
  order: 2,
  branching: 4,
  seed: 20240601,
};

/** Options of {@linkcode createSyntheticText}. */
export interface SyntheticTextOptions extends Partial<MarkovSpec> {
  /** Registry name. @default "synthetic-text" */
  name?: string;
}

/** A synthetic text dataset with its chain exposed (for floors and tests). */
export interface SyntheticTextDataset extends Dataset {
  /** The chain the sequences come from. */
  chain: MarkovChain;
}

/**
 * Build a synthetic text dataset.
 *
 * @param options Chain parameters (defaults: {@linkcode DEFAULT_SYNTHETIC_TEXT}) and name.
 * @returns The dataset.
 * @throws {RangeError} An invalid chain spec.
 */
export function createSyntheticText(options: SyntheticTextOptions = {}): SyntheticTextDataset {
  const spec: MarkovSpec = {
    symbols: options.symbols ?? DEFAULT_SYNTHETIC_TEXT.symbols,
    order: options.order ?? DEFAULT_SYNTHETIC_TEXT.order,
    branching: options.branching ?? DEFAULT_SYNTHETIC_TEXT.branching,
    seed: options.seed ?? DEFAULT_SYNTHETIC_TEXT.seed,
  };
  checkMarkovSpec(spec);
  // Drawn on first use: an order-3 chain's stationary distribution takes a few hundred ms.
  let drawn: MarkovChain | undefined;
  const chain = () => drawn ??= buildMarkovChain(spec);
  const dataset = generatedTextDataset({
    name: options.name ?? "synthetic-text",
    seed: spec.seed,
    description: () => {
      const c = chain();
      return `Random order-${spec.order} Markov chain over ${spec.symbols} symbols ` +
        `(${spec.branching} successors per context, seed ${spec.seed}); entropy rate ` +
        `${c.entropyRate.toFixed(4)} nats/token, floor at context ${DEFAULT_CONTEXT} ` +
        `${markovLossFloor(c, DEFAULT_CONTEXT).toFixed(4)}; unigram entropy ` +
        `${c.prefixEntropy[1]!.toFixed(4)}.`;
    },
    entropyNats: () => chain().entropyRate,
    sample: (seed, out) => sampleMarkov(chain(), seed, out),
  });
  return {
    ...dataset,
    get chain() {
      return chain();
    },
  };
}

/**
 * The exact lowest mean loss per target at a context length (see `markovLossFloor`).
 *
 * @param dataset A synthetic text dataset.
 * @param context Targets per sequence.
 * @returns Nats per token.
 */
export function syntheticTextLossFloor(dataset: SyntheticTextDataset, context: number): number {
  return markovLossFloor(dataset.chain, context);
}

/** The registered synthetic text source (order 2). */
export const syntheticText: SyntheticTextDataset = createSyntheticText();

/**
 * A harder variant: order 3 over the same 32 symbols (32,768 contexts × 4 successors), so it takes
 * about 32× more data and capacity to reach its floor — for sweeps whose token budgets would
 * saturate the order-2 source.
 */
export const syntheticTextOrder3: SyntheticTextDataset = createSyntheticText({
  name: "synthetic-text-order3",
  order: 3,
});

/**
 * The easiest variant: order 1 over 62 symbols with 4 successors each (a 248-entry table), the
 * default scaling study's source. A GPT learns an order-1 chain through its embeddings and MLPs at
 * once, so tiny models on a CPU improve steadily with both parameters and tokens; on the order-2
 * source they first sit for minutes on the unigram plateau (measured: d_model 32, 600 steps,
 * 3.48 nats), which makes every IsoFLOP curve of a minutes-long study flat.
 */
export const syntheticTextOrder1: SyntheticTextDataset = createSyntheticText({
  name: "synthetic-text-order1",
  symbols: 62,
  order: 1,
  branching: 4,
  seed: 20240601,
});
