/**
 * The contract every model family fulfils, so that the trainer and the routes never name one.
 *
 * A family is one module (`models/vit.ts`, `models/gpt.ts`) exporting a {@linkcode ModelFamily}:
 * a config schema, one size parameter with a rule deriving the rest, a builder, exact parameter
 * and FLOP counters, and the loss and eval metric its models report. `models/mod.ts` registers it
 * under a stable name; adding a third family is one new file and one registry line.
 *
 * FLOP convention (the same as `../shared/reference/*.py` and Kaplan et al. 2020, §2.1):
 * one multiply-add (MAC) is 2 FLOPs; the backward pass costs 2 × the forward, so
 *
 *     training FLOPs per sample = 3 × 2 × Σ_matmuls MACs(forward)
 *
 * counting every matmul — projections, MLP, head, and attention's QKᵀ and A·V over the full
 * sequence (the causal mask is not discounted). Element-wise work (norms, softmax, GELU, the
 * optimiser) is not counted. The 6·N estimate is `6 × non-embedding params × tokens per sample`.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { z } from "zod";
import type { Batch, DatasetInfo, Modality } from "../data/mod.ts";
import { FlopsFitError, summarizeIssues } from "../lib/errors.ts";

/** Exact parameter counts of one configuration. */
export interface ParamCounts {
  /** Every trainable parameter. */
  total: number;
  /**
   * Parameters that are not lookup tables: total minus token embeddings, position embeddings and
   * the CLS token (Kaplan et al.'s N). A tied output head shares the token table, so it is excluded.
   */
  nonEmbedding: number;
}

/** A trainable tensor and whether AdamW's decoupled weight decay applies to it. */
export interface NamedVariable {
  /** Dotted name, e.g. `blocks.0.attn.qkv.w`. */
  name: string;
  /** The variable itself. */
  variable: tf.Variable;
  /** False for norms, biases and embeddings (no weight decay on those). */
  decay: boolean;
}

/** What a model reports on one batch. */
export interface ModelOutputs {
  /** Mean loss over the batch (scalar). */
  loss: tf.Scalar;
  /** Mean eval metric over the batch (accuracy for classifiers), when the family has one. */
  metric?: tf.Scalar;
}

/** Options of {@linkcode Model.loss}. */
export interface LossOptions {
  /** Label smoothing ε for classifiers (0 = plain cross-entropy). @default 0 */
  labelSmoothing?: number;
}

/** A built model: its variables and its loss. */
export interface Model {
  /** Every trainable variable, in a fixed order. */
  variables: NamedVariable[];
  /**
   * Training loss of one batch (call inside `tf.variableGrads` / `tf.tidy`).
   * @param batch A batch from a dataset of the family's modality.
   * @param options Loss options.
   */
  loss(batch: Batch, options?: LossOptions): tf.Scalar;
  /**
   * Held-out loss (no label smoothing) and the eval metric of one batch.
   * @param batch A batch from a dataset of the family's modality.
   */
  evaluate(batch: Batch): ModelOutputs;
  /** Free every tensor the model holds. */
  dispose(): void;
}

/** A config, or a field of it, the family rejects; `field` names it (e.g. `heads`). */
export class ConfigError extends FlopsFitError {
  /** Offending config field (or `size`). */
  declare readonly field: string;
  /**
   * @param field Offending field.
   * @param message What is wrong, in sentence case.
   */
  constructor(field: string, message: string) {
    super(message, { field });
    this.name = "ConfigError";
  }
}

/** Input to {@linkcode ModelFamily.resolveConfig}. */
export interface ResolveConfigInput {
  /** The family's size parameter (ViT `embed_dim`, GPT `d_model`). */
  size?: number;
  /** Explicit config fields; each overrides what the size rule derives. */
  config?: Record<string, unknown>;
  /** The dataset the model will train on (image shape, classes, vocabulary). */
  data?: DatasetInfo;
}

/** A model family: everything the trainer needs to know about one architecture. */
export interface ModelFamily<C extends object = Record<string, unknown>> {
  /** Registry name, e.g. `vit`. */
  name: string;
  /** One-line description. */
  description: string;
  /** Modality of the datasets it consumes. */
  modality: Modality;
  /** Name of the size parameter, e.g. `embed_dim`. */
  sizeParam: string;
  /** Schema of a complete config (every field present). */
  configSchema: z.ZodType<C>;
  /** Name of the eval metric reported beside the loss (`accuracy`), if any. */
  metricName?: string;
  /**
   * Complete a config: size rule, then explicit fields, then the dataset's shapes; validate.
   * @throws {ConfigError} naming the field when a value is invalid or breaks divisibility.
   */
  resolveConfig(input: ResolveConfigInput): C;
  /** Exact parameter counts. */
  countParams(config: C): ParamCounts;
  /** Exact training FLOPs per sample (3 × 2 × forward MACs of every matmul). */
  trainingFlopsPerSample(config: C): number;
  /** Tokens per sample (GPT: context; ViT: patches + CLS), for the 6·N·tokens estimate. */
  tokensPerSample(config: C): number;
  /**
   * Rough peak bytes of activations and their gradients per sample during a training step,
   * used to choose a micro-batch that fits the backend's memory.
   */
  activationBytesPerSample(config: C): number;
  /**
   * Build a model with seeded initial weights.
   * @param config A resolved config.
   * @param seed Seed of the initialisation.
   */
  build(config: C, seed: number): Model;
}

/**
 * Kaplan et al.'s training-compute estimate, C ≈ 6·N·D, per sample.
 *
 * @param counts Parameter counts (N = non-embedding).
 * @param tokensPerSample Tokens in one sample (D per sample).
 * @returns 6 × N × tokens, in FLOPs.
 *
 * @example
 * ```ts
 * import { sixNFlopsPerSample } from "./family.ts";
 * if (sixNFlopsPerSample({ total: 10, nonEmbedding: 8 }, 4) !== 192) throw new Error();
 * ```
 */
export function sixNFlopsPerSample(counts: ParamCounts, tokensPerSample: number): number {
  return 6 * counts.nonEmbedding * tokensPerSample;
}

/**
 * Validate a merged config against a family's schema, rejecting unknown fields.
 * @param schema The family's config schema (a zod object).
 * @param merged Size rule, defaults, dataset shapes and explicit fields merged.
 * @returns The parsed config.
 * @throws {ConfigError} naming the first offending field.
 */
export function parseConfig<C>(
  schema: z.ZodObject<z.ZodRawShape> & z.ZodType<C>,
  merged: Record<string, unknown>,
): C {
  const parsed = schema.strict().safeParse(merged);
  if (parsed.success) return parsed.data as C;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "config";
    throw new ConfigError(key, `Unknown config field ${key}.`);
  }
  const { field, message } = summarizeIssues(parsed.error.issues, "config");
  throw new ConfigError(field, `${field}: ${message}`);
}

/**
 * The size parameter of a request: `size`, or the config's own `field`, which must agree when
 * both are given; an integer ≥ 4.
 * @param input The request's size and explicit config.
 * @param field The config field the size sets (`d_model`, `embed_dim`).
 * @param family The family's display name, for the messages.
 * @throws {ConfigError} on `size` when missing, contradicted or not an integer ≥ 4.
 */
export function resolveSize(input: ResolveConfigInput, field: string, family: string): number {
  const explicit = input.config?.[field] as number | undefined;
  if (input.size !== undefined && explicit !== undefined && explicit !== input.size) {
    throw new ConfigError("size", `size ${input.size} contradicts config.${field} ${explicit}.`);
  }
  const size = input.size ?? explicit;
  if (size === undefined) {
    throw new ConfigError("size", `Give \`size\` (the ${family} ${field}) or \`config.${field}\`.`);
  }
  if (!Number.isInteger(size) || size < 4) {
    throw new ConfigError("size", `size (${field}) must be an integer ≥ 4, got ${size}.`);
  }
  return size;
}

/**
 * The width rules every transformer block has: heads divide the width C, and the MLP width
 * mlp_ratio · C is an integer.
 * @param c Width, heads and MLP ratio of a parsed config.
 * @param field The width's config field (`d_model`, `embed_dim`), for the messages.
 * @throws {ConfigError} on `heads` or `mlp_ratio`.
 */
export function checkBlockWidths(
  c: { width: number; heads: number; mlpRatio: number },
  field: string,
): void {
  if (c.width % c.heads !== 0) {
    throw new ConfigError("heads", `${field} ${c.width} is not divisible by heads ${c.heads}.`);
  }
  if (!Number.isInteger(c.mlpRatio * c.width)) {
    throw new ConfigError("mlp_ratio", `mlp_ratio × ${field} must be an integer.`);
  }
}
