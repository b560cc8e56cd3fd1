/**
 * The sweep file: one zod schema holding every option of a scaling study, its default and its
 * meaning, plus the named presets `deno task sweep --preset NAME` starts from.
 *
 * A sweep file is JSON with any subset of these fields; the preset (default `gpt-synthetic`)
 * fills the rest, then command-line flags override both.
 *
 * @module
 */
import { z } from "zod";
import { DEFAULT_BOOTSTRAP } from "../fit/mod.ts";
import { summarizeIssues } from "../errors.ts";

/** A compute budget in FLOPs: positive and finite. */
const FlopsSchema = z.number().positive().finite();

/**
 * The known law `--mock` draws losses from: L = E + A/N^α + B/D^β, times (1 + noise·ε).
 * The defaults keep Chinchilla's exponents (α = 0.34, β = 0.28, so a = β/(α+β) ≈ 0.452) with
 * coefficients scaled to tiny models (losses ≈ 2–4 nats at N ≈ 10⁴–10⁶, D ≈ 10⁵–10⁷) and E near
 * the synthetic text source's entropy rate.
 */
export const MockLawSchema = z.object({
  /** Irreducible loss (nats). @default 1.1 */
  E: z.number().nonnegative().default(1.1),
  /** Parameter term coefficient. @default 40 */
  A: z.number().positive().default(40),
  /** Data term coefficient. @default 50 */
  B: z.number().positive().default(50),
  /** Parameter exponent. @default 0.34 */
  alpha: z.number().positive().default(0.34),
  /** Data exponent. @default 0.28 */
  beta: z.number().positive().default(0.28),
  /** Relative standard deviation of the multiplicative Gaussian noise. @default 0.005 */
  noise: z.number().nonnegative().max(0.5).default(0.005),
  /** Milliseconds each mocked point "trains" (for demos of the progress display). @default 0 */
  delay_ms: z.number().int().nonnegative().max(60_000).default(0),
});

/** Parsed mock law. */
export type MockLaw = z.infer<typeof MockLawSchema>;

/** A prior fit used to centre the grids: N_opt(C) = k · C^a (parameters). */
export const PriorSchema = z.object({
  /** Coefficient k of N_opt = k · C^a. */
  k: z.number().positive().finite(),
  /** Exponent a of N_opt = k · C^a. */
  a: z.number().positive().max(1),
});

/**
 * Adaptive rounds (`lib/sweep/rounds.ts`): after the planned grids, re-centre curves without an
 * interior minimum, then add the budget that most narrows N_opt's interval at the target.
 */
export const AdaptiveSchema = z.object({
  /** The budget whose N_opt the study should pin down; default 10× the largest planned budget. */
  target_flops: FlopsSchema.optional(),
  /** Compute cap of the whole study (every point's FLOPs); default 10× the planned grids'. */
  max_flops: FlopsSchema.optional(),
  /** Most rounds added after the planned grids. @default 4 */
  max_rounds: z.number().int().min(1).max(20).default(4),
  /** Stop once the 95 % interval of N_opt at the target has hi/lo at most this. @default 2 */
  n_opt_ratio: z.number().gt(1).max(1e6).default(2),
  /** Bootstrap replicates of the planner's pre-posterior scoring. @default 200 */
  bootstrap: z.number().int().min(20).max(5000).default(200),
}).strict();

/** Parsed adaptive settings. */
export type AdaptiveConfig = z.infer<typeof AdaptiveSchema>;

/** Schema of a sweep file; every `.default` is the documented default. */
export const SweepConfigSchema = z.object({
  /** Name of the study, used for the default output directory. @default "gpt-synthetic" */
  name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, . _ - only").default(
    "gpt-synthetic",
  ),
  /**
   * Model family: a name in the registry (`models/mod.ts`) or one the workers serve at
   * `GET /v1/families/{name}`, or a whole FamilyDescription table inline (validated when the
   * sweep resolves it, `lib/sweep/family_source.ts`). @default "gpt"
   */
  family: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).default("gpt"),
  /** Dataset in the registry (`data/mod.ts`). @default "synthetic-text" */
  dataset: z.string().min(1).default("synthetic-text"),
  /** Compute budgets in FLOPs, one IsoFLOP curve each. */
  budgets: z.array(FlopsSchema).min(1).max(64),
  /** Model sizes per budget (the grid's point count). @default 5 */
  sizes_per_budget: z.number().int().min(3).max(25).default(5),
  /** Ratio of the largest to the smallest parameter count in each grid. @default 16 */
  width: z.number().min(1.5).max(10_000).default(16),
  /** Explicit size-parameter values to train at every budget instead of a planned grid. */
  sizes: z.array(z.number().int().positive()).min(1).optional(),
  /** D units per parameter at the grid centre when there is no prior fit (Chinchilla ≈ 20). */
  data_per_param: z.number().positive().default(20),
  /** A prior N_opt(C) law that centres the grids instead of `data_per_param`. */
  prior: PriorSchema.optional(),
  /** Hyper-parameters sent with every training request (`batch_size`, `lr`, …). @default {} */
  hyper: z.record(z.string(), z.unknown()).default({}),
  /** Family config fields fixed for every size (e.g. `context`), sent as `config`. */
  model: z.record(z.string(), z.unknown()).optional(),
  /** Which parameter count is N: Kaplan's non-embedding count, or every parameter. */
  params: z.enum(["non_embedding", "total"]).default("non_embedding"),
  /** Which loss is fitted: the held-out loss when runs report one, or the training loss. */
  fit_loss: z.enum(["eval_loss", "loss"]).default("eval_loss"),
  /** Seed of every training run (init and data order). @default 0 */
  seed: z.number().int().nonnegative().default(0),
  /** Trainer base URLs speaking `POST /v1/train`; empty trains in-process. @default [] */
  trainers: z.array(z.url()).default([]),
  /** Deprecated spelling of `trainers` (read as `trainers` when that is empty). */
  workers: z.array(z.url()).optional(),
  /** Points in flight per trainer. @default 1 */
  concurrency: z.number().int().min(1).max(64).default(1),
  /** Attempts per point beyond the first before the point is given up. @default 3 */
  retries: z.number().int().min(0).max(20).default(3),
  /** Per-point wall-clock limit in seconds. @default 3600 */
  timeout_s: z.number().positive().max(7 * 24 * 3600).default(3600),
  /** Output directory; default `sweeps/<name>` (or `sweeps/<name>-mock` with `--mock`). */
  out: z.string().min(1).optional(),
  /** Bootstrap resamples for the fit's confidence intervals. @default the fit's, 200 */
  bootstrap: z.number().int().min(0).max(10_000).default(DEFAULT_BOOTSTRAP),
  /** Budgets (FLOPs) to tabulate beyond the swept ones; default ×10 and ×100 of the largest. */
  table_budgets: z.array(FlopsSchema).max(64).optional(),
  /**
   * Hold out every budget above this (FLOPs), refit on the rest and score the forecast of each
   * held-out optimum; default: the budgets above a gap of ≥ 3× (with ≥ 2 budgets below it);
   * `false` holds out nothing.
   */
  hold_out_above: z.union([FlopsSchema, z.literal(false)]).optional(),
  /** Training seeds at each budget's centre size (seed, seed + 1, …): run-to-run noise. @default 1 */
  replicates: z.number().int().min(1).max(16).default(1),
  /** Train in adaptive rounds after the planned grids (`--adaptive` sets `{}`). */
  adaptive: AdaptiveSchema.optional(),
  /** Draw losses from a known law instead of training. */
  mock: z.boolean().default(false),
  /** The law `mock` draws from. */
  mock_law: MockLawSchema.default(MockLawSchema.parse({})),
});

/** A parsed, complete sweep configuration. */
export type SweepConfig = z.infer<typeof SweepConfigSchema>;

/** A sweep file as written: every field optional. */
export type SweepFile = z.input<typeof SweepConfigSchema>;

/**
 * The presets. `gpt-synthetic` is the default study: tiny GPTs on the quanta source whose entropy
 * rate is known, four fitted budgets and a held-out one 10× above them, sized so the whole study
 * trains in minutes on two CPU cores.
 */
export const PRESETS: Record<string, SweepFile> = {
  "gpt-synthetic": {
    name: "gpt-synthetic",
    family: "gpt",
    dataset: "synthetic-quanta",
    // Four fitted budgets over 10× and one held out 10× above them: the report opens with the
    // forecast of the held-out optimum against what it observed. On the quanta source the loss
    // above the floor falls from ≈ 0.47 nats at 3e9 to ≈ 0.04 at 3e11 (measured on 2 loaded
    // CPU cores, where the whole study takes about 8 minutes on `blas`, as the README says).
    budgets: [3e9, 6e9, 1.2e10, 3e10, 3e11],
    sizes_per_budget: 5,
    width: 10,
    // The optima found here sit at D/N ≈ 40–60 (total parameters): centre the grids there.
    data_per_param: 50,
    // Records are two tokens: a context of 16 holds eight, and keeps each sample cheap.
    model: { context: 16 },
    // 128 eval batches of 16 sequences (32k targets, the same for every run): the eval loss's
    // sampling error is shared by all runs, not noise between them.
    hyper: { batch_size: 16, lr: 3e-3, eval: { batches: 128 } },
    // The key → value table is learned through the token embeddings as much as the blocks.
    params: "total",
  },
  "vit-cifar10": {
    name: "vit-cifar10",
    family: "vit",
    dataset: "cifar10",
    budgets: [1e14, 3e14, 1e15, 3e15],
    sizes_per_budget: 6,
    width: 16,
    // D is counted in images; a 32×32 image at patch 4 is 65 tokens, so ≈20 tokens per
    // parameter is ≈0.3 images per parameter.
    data_per_param: 0.3,
    hyper: { batch_size: 128 },
  },
  "gpt-tinystories": {
    name: "gpt-tinystories",
    family: "gpt",
    dataset: "tinystories",
    budgets: [1e13, 3e13, 1e14, 3e14],
    sizes_per_budget: 6,
    width: 16,
    hyper: {},
  },
};

/** Name of the preset used when none is given. */
export const DEFAULT_PRESET = "gpt-synthetic";

/**
 * Build a complete configuration: preset, then sweep file, then overrides (flags).
 *
 * @param options.preset Preset name; defaults to {@linkcode DEFAULT_PRESET}.
 * @param options.file Parsed sweep-file JSON (validated here).
 * @param options.overrides Fields from command-line flags.
 * @returns The validated configuration.
 * @throws {RangeError} For an unknown preset.
 * @throws {TypeError} When the merged configuration is invalid; the message names the field.
 *
 * @example
 * ```ts
 * import { resolveSweepConfig } from "./config.ts";
 * const config = resolveSweepConfig({ overrides: { mock: true } });
 * if (config.family !== "gpt" || !config.mock) throw new Error("unexpected");
 * ```
 */
export function resolveSweepConfig(
  options: { preset?: string; file?: unknown; overrides?: Partial<SweepFile> } = {},
): SweepConfig {
  const presetName = options.preset ?? DEFAULT_PRESET;
  const preset = PRESETS[presetName];
  if (preset === undefined) {
    throw new RangeError(
      `Unknown preset "${presetName}"; known: ${Object.keys(PRESETS).join(", ")}.`,
    );
  }
  const file = options.file ?? {};
  if (typeof file !== "object" || file === null || Array.isArray(file)) {
    throw new TypeError("The sweep file must hold a JSON object.");
  }
  const merged = { ...preset, ...(file as Record<string, unknown>), ...options.overrides };
  const parsed = SweepConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const { field, message } = summarizeIssues(parsed.error.issues, "(root)");
    throw new TypeError(`Invalid sweep configuration at ${field}: ${message}`);
  }
  const { workers, ...config } = parsed.data;
  // `workers` is the old name of `trainers`, kept for sweep files written before the rename.
  return workers !== undefined && workers.length > 0 && config.trainers.length === 0
    ? { ...config, trainers: workers }
    : config;
}

/**
 * The output directory of a configuration.
 *
 * @param config The configuration.
 * @returns `config.out`, else `sweeps/<name>` (suffixed `-mock` for mocked sweeps).
 */
export function outputDir(config: SweepConfig): string {
  return config.out ?? `sweeps/${config.name}${config.mock ? "-mock" : ""}`;
}
