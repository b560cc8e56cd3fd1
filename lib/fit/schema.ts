/**
 * Request and response schemas of the scaling-law fit (`POST /v1/fit`, {@linkcode fitScalingLaws}).
 *
 * One zod schema holds every option's default and meaning; the HTTP route and the
 * in-process caller (the sweep) both parse with it, so they cannot drift apart.
 * The `.openapi()` names are the component names in `/openapi.json`.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";

/** FLOPs per parameter per token (or image) of one training step, forward + backward: C = 6·N·D. */
export const DEFAULT_FLOPS_PER_PARAM_TOKEN = 6;
/**
 * Two points belong to the same budget when their C differ by at most this fraction
 * (relative to the smaller). 5 % absorbs the rounding of N and D in a real sweep while
 * keeping budgets a factor ≥ 1.1 apart distinct.
 */
export const DEFAULT_BUDGET_REL_TOL = 0.05;
/** Bootstrap resamples by default: enough for stable 95 % percentile bounds, ~1 s of work. */
export const DEFAULT_BOOTSTRAP = 200;
/** Default confidence level of every interval. */
export const DEFAULT_CONFIDENCE = 0.95;
/** Chinchilla's Huber δ on log-loss residuals (Hoffmann et al. 2022, §D.2). */
export const DEFAULT_HUBER_DELTA = 1e-3;
/** Most budgets one request may ask the table for. */
export const MAX_REQUESTED_BUDGETS = 1000;

/**
 * A zod error map that words wrong-type issues only; range checks keep zod's own
 * message ("Too big: expected number to be <1").
 */
function onlyType(message: string) {
  return (issue: { code: string }) => (issue.code === "invalid_type" ? message : undefined);
}

/** A strictly positive finite number, with a message naming what it is. */
function positive(what: string) {
  return z.number({ error: onlyType(`${what} must be a finite number`) }).positive(
    `${what} must be > 0`,
  );
}

/** One trained run: its size, its data, its final loss. */
export const FitPointSchema = z.object({
  N: positive("N (parameters)").openapi({ description: "Model parameters.", example: 1.2e8 }),
  D: positive("D (tokens or images)").openapi({
    description: "Training data seen, in the caller's units (tokens, images).",
    example: 2.4e9,
  }),
  loss: positive("loss").openapi({ description: "Final (validation) loss.", example: 3.1 }),
  C: positive("C (FLOPs)").optional().openapi({
    description: "Training FLOPs; defaults to flops_per_param_token·N·D.",
    example: 1.7e18,
  }),
  budget: z.union([z.string().min(1).max(200), z.number()]).optional().openapi({
    description: "Budget label; points with the same label form one IsoFLOP budget.",
    example: "1e18",
  }),
}).openapi("FitPoint");

/** Body of `POST /v1/fit`; every option has its default here. */
export const FitRequestSchema = z.object({
  points: z.array(FitPointSchema, {
    error: onlyType("points must be an array of {N, D, loss} objects"),
  })
    .min(1, "points must not be empty")
    .openapi({ description: "The runs to fit." }),
  budgets: z.array(positive("budget (FLOPs)"), {
    error: onlyType("budgets must be an array of FLOPs"),
  })
    .min(1, "budgets must not be empty when given")
    .max(MAX_REQUESTED_BUDGETS, `at most ${MAX_REQUESTED_BUDGETS} budgets`)
    .optional()
    .openapi({
      description:
        "Budgets (FLOPs) for the compute-optimal table; default: the budgets in the data.",
      example: [1e18, 1e19, 1e20],
    }),
  flops_per_param_token: positive("flops_per_param_token").default(DEFAULT_FLOPS_PER_PARAM_TOKEN)
    .openapi({ description: "C = flops_per_param_token·N·D when a point has no C." }),
  budget_rel_tol: z.number({ error: onlyType("budget_rel_tol must be a number") }).min(0).max(0.5)
    .default(DEFAULT_BUDGET_REL_TOL)
    .openapi({ description: "Relative C tolerance that groups unlabelled points into a budget." }),
  bootstrap: z.number({ error: onlyType("bootstrap must be an integer") }).int().min(0)
    .default(DEFAULT_BOOTSTRAP)
    .openapi({ description: "Bootstrap resamples for the intervals; 0 turns them off." }),
  seed: z.number({ error: onlyType("seed must be an integer") }).int().min(0).max(2 ** 32 - 1)
    .default(0)
    .openapi({ description: "Seed of the bootstrap's random generator." }),
  confidence: z.number({ error: onlyType("confidence must be a number") }).gt(0).lt(1)
    .default(DEFAULT_CONFIDENCE)
    .openapi({ description: "Confidence level of every interval." }),
  huber_delta: positive("huber_delta").default(DEFAULT_HUBER_DELTA)
    .openapi({ description: "Huber δ on log-loss residuals (Approach 3)." }),
  multistart: z.enum(["varpro", "grid"]).default("varpro").openapi({
    description:
      "`varpro`: profile (α, β) on a fine grid, then polish the best starts with L-BFGS; " +
      "`grid`: L-BFGS from every one of Chinchilla's 4,500 starts (slow, for checking).",
  }),
  backtest: z.boolean({ error: onlyType("backtest must be true or false") }).default(false).openapi(
    {
      description: "Also fit on all budgets but the largest and score the held-out one.",
    },
  ),
}).openapi("FitRequest");

/** What a caller may pass to {@linkcode fitScalingLaws}: the POST body, options optional. */
export type FitRequest = z.input<typeof FitRequestSchema>;
/** The request after parsing: every option filled in. */
export type FitOptions = z.output<typeof FitRequestSchema>;
/** One parsed point. */
export type FitPoint = z.output<typeof FitPointSchema>;

/** `[lo, hi]` percentile interval. */
const IntervalSchema = z.tuple([z.number(), z.number()]).openapi("Interval");

/** A least-squares parabola loss = c0 + c1·x + c2·x² in x = ln(value). */
export const ParabolaSchema = z.object({
  coefficients: z.tuple([z.number(), z.number(), z.number()]).openapi({
    description: "[c0, c1, c2] of loss = c0 + c1·x + c2·x², x = ln N (or ln D).",
  }),
  vertex: z.number().openapi({ description: "exp(−c1 / (2·c2)): the optimum N (or D)." }),
  ln_range: z.tuple([z.number(), z.number()]).openapi({ description: "Sampled [min, max] of x." }),
  edge: z.boolean().openapi({ description: "Vertex outside the sampled range: extend the sweep." }),
  r2: z.number().openapi({ description: "R² of the parabola." }),
}).openapi("Parabola");

/** Approach 2 for one budget. */
export const IsoflopBudgetSchema = z.object({
  label: z.string(),
  C: z.number(),
  n_points: z.number().int(),
  status: z.enum(["ok", "refused"]),
  reason: z.string().nullable(),
  N: ParabolaSchema.nullable(),
  D: ParabolaSchema.nullable(),
  loss_opt: z.number().nullable().openapi({ description: "Minimum of the loss-vs-ln N parabola." }),
}).openapi("IsoflopBudget");

/** A power law y = k·C^exponent fitted by least squares in log-log space. */
export const PowerLawSchema = z.object({
  k: z.number(),
  exponent: z.number(),
  r2: z.number(),
}).openapi("PowerLaw");

/** Chinchilla Approach 2: IsoFLOP parabolas, then power laws across budgets. */
export const IsoflopResultSchema = z.object({
  budgets: z.array(IsoflopBudgetSchema),
  n_used: z.number().int().openapi({
    description: "Budgets whose parabolas entered the power laws.",
  }),
  a: z.number().openapi({ description: "N_opt ∝ C^a." }),
  b: z.number().openapi({ description: "D_opt ∝ C^b." }),
  N_opt: PowerLawSchema,
  D_opt: PowerLawSchema,
  loss_opt: PowerLawSchema.openapi({ description: "L_opt(C) = k·C^exponent." }),
}).openapi("IsoflopResult");

/** Chinchilla Approach 3: L(N, D) = E + A/N^α + B/D^β under a Huber loss on ln L. */
export const ParametricResultSchema = z.object({
  E: z.number(),
  A: z.number(),
  B: z.number(),
  alpha: z.number(),
  beta: z.number(),
  a: z.number().openapi({ description: "β/(α+β): N_opt ∝ C^a." }),
  b: z.number().openapi({ description: "α/(α+β): D_opt ∝ C^b." }),
  G: z.number().openapi({ description: "(αA/(βB))^(1/(α+β)): N_opt = G·(C/m)^a." }),
  objective: z.number().openapi({ description: "Σ Huber_δ(LSE(a−α ln N, b−β ln D, e) − ln L)." }),
  huber_delta: z.number(),
  residuals: z.array(z.number()).openapi({
    description: "ln L̂ − ln L per point, in request order.",
  }),
  converged: z.boolean(),
  status: z.string().openapi({ description: "Why L-BFGS stopped on the best start." }),
  iterations: z.number().int(),
  multistart: z.enum(["varpro", "grid"]),
  n_starts: z.number().int().openapi({
    description: "Starts scored (grid cells and grid points).",
  }),
  n_polished: z.number().int().openapi({ description: "Starts polished with L-BFGS." }),
}).openapi("ParametricResult");

/** Percentile intervals from the bootstrap. */
export const BootstrapResultSchema = z.object({
  n_resamples: z.number().int(),
  seed: z.number().int(),
  confidence: z.number(),
  method: z.string(),
  n_failed_parametric: z.number().int(),
  n_failed_isoflop: z.number().int(),
  parametric: z.record(z.string(), IntervalSchema).openapi({
    description: "E, A, B, alpha, beta, a, b, G.",
  }),
  isoflop: z.record(z.string(), IntervalSchema).nullable().openapi({
    description: "a, b and the power laws' k.",
  }),
}).openapi("BootstrapResult");

/** Intervals of one table row. */
export const RowIntervalsSchema = z.object({
  N: IntervalSchema,
  D: IntervalSchema,
  D_per_N: IntervalSchema,
  loss: IntervalSchema,
}).openapi("RowIntervals");

/** One compute-optimal allocation. */
export const TableRowSchema = z.object({
  approach: z.enum(["isoflop", "parametric"]),
  C: z.number().openapi({ description: "Budget in FLOPs." }),
  N: z.number().openapi({ description: "Compute-optimal parameters." }),
  D: z.number().openapi({ description: "Compute-optimal data (the points' units)." }),
  D_per_N: z.number(),
  loss: z.number().openapi({ description: "Predicted loss at the optimum." }),
  ci: RowIntervalsSchema.nullable(),
  extrapolation: z.number().openapi({ description: "C / the largest budget in the data." }),
}).openapi("TableRow");

/** A caveat a careful researcher would raise. */
export const FitWarningSchema = z.object({
  code: z.enum([
    "few_budgets",
    "budget_refused",
    "edge_optimum",
    "extrapolation",
    "approaches_disagree",
    "not_converged",
    "boundary_exponent",
    "bootstrap_failures",
    "flops_mismatch",
    "isoflop_unavailable",
  ]),
  message: z.string(),
}).openapi("FitWarning");

/** The compute-optimum of one approach, as a backtest reports it. */
const OptimumSchema = z.object({ N: z.number(), D: z.number(), loss: z.number() })
  .openapi("Optimum");

/** Fit on all budgets but the largest; score the held-out one. */
export const BacktestResultSchema = z.object({
  held_out: z.object({ label: z.string(), C: z.number(), n_points: z.number().int() }),
  n_train_points: z.number().int(),
  predicted_loss: z.array(z.number()).openapi({
    description: "Approach 3 (trained without it) prediction for each held-out point.",
  }),
  observed_loss: z.array(z.number()),
  rmse_log_loss: z.number(),
  max_abs_rel_error: z.number(),
  observed_optimum: OptimumSchema.nullable().openapi({
    description: "The held-out budget's own parabola vertex, when it has one.",
  }),
  parametric_optimum: OptimumSchema,
  isoflop_optimum: OptimumSchema.nullable(),
}).openapi("BacktestResult");

/** A detected budget: the points that share (about) one C. */
export const BudgetGroupSchema = z.object({
  label: z.string(),
  C: z.number().openapi({ description: "Median C of its points." }),
  n_points: z.number().int(),
}).openapi("BudgetGroup");

/** Response of `POST /v1/fit` and return value of {@linkcode fitScalingLaws}. */
export const FitResultSchema = z.object({
  n_points: z.number().int(),
  flops_per_param_token: z.number(),
  budgets: z.array(BudgetGroupSchema),
  isoflop: IsoflopResultSchema.nullable(),
  parametric: ParametricResultSchema,
  bootstrap: BootstrapResultSchema.nullable(),
  table: z.array(TableRowSchema),
  markdown: z.string().openapi({ description: "The table as markdown." }),
  warnings: z.array(FitWarningSchema),
  backtest: BacktestResultSchema.nullable(),
  elapsed_ms: z.number(),
}).openapi("FitResult");

/** Result of {@linkcode fitScalingLaws}. */
export type FitResult = z.output<typeof FitResultSchema>;
/** Approach 2 result. */
export type IsoflopResult = z.output<typeof IsoflopResultSchema>;
/** One budget of Approach 2. */
export type IsoflopBudget = z.output<typeof IsoflopBudgetSchema>;
/** A parabola fit. */
export type Parabola = z.output<typeof ParabolaSchema>;
/** A log-log power law. */
export type PowerLaw = z.output<typeof PowerLawSchema>;
/** Approach 3 result. */
export type ParametricResult = z.output<typeof ParametricResultSchema>;
/** Bootstrap result. */
export type BootstrapResult = z.output<typeof BootstrapResultSchema>;
/** Table row. */
export type TableRow = z.output<typeof TableRowSchema>;
/** Intervals of a row. */
export type RowIntervals = z.output<typeof RowIntervalsSchema>;
/** Warning. */
export type FitWarning = z.output<typeof FitWarningSchema>;
/** Backtest result. */
export type BacktestResult = z.output<typeof BacktestResultSchema>;
/** Detected budget. */
export type BudgetGroup = z.output<typeof BudgetGroupSchema>;
