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

/**
 * A constraint on the irreducible loss E: fixed, or bounded below and/or above.
 * `fixed` excludes `min`/`max`; bounds need `min < max`.
 */
export const EConstraintSchema = z.object({
  fixed: positive("E.fixed").optional().openapi({ description: "E is this value." }),
  min: positive("E.min").optional().openapi({ description: "E ≥ this value." }),
  max: positive("E.max").optional().openapi({ description: "E ≤ this value." }),
}, { error: onlyType('E must be an object: {"fixed": x}, {"min": x} and/or {"max": x}') })
  .strict()
  .superRefine((e, ctx) => {
    if (e.fixed !== undefined && (e.min !== undefined || e.max !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [e.min !== undefined ? "min" : "max"],
        message: "give either fixed or min/max, not both",
      });
    } else if (e.fixed === undefined && e.min === undefined && e.max === undefined) {
      ctx.addIssue({ code: "custom", path: [], message: "give fixed, min or max" });
    } else if (e.min !== undefined && e.max !== undefined && !(e.min < e.max)) {
      ctx.addIssue({ code: "custom", path: ["max"], message: "max must exceed min" });
    }
  })
  .openapi("EConstraint");

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
  // No zod default: the fitter must tell an omitted count (lowered to fit a large point set,
  // with a warning) from an explicit one (refused past the limit). The default is documented.
  bootstrap: z.number({ error: onlyType("bootstrap must be an integer") }).int().min(0)
    .optional()
    .openapi({
      description:
        `Bootstrap resamples for the intervals; 0 turns them off. Default ${DEFAULT_BOOTSTRAP} ` +
        "(lowered, with a warning, when the points × resamples limit would be passed).",
      default: DEFAULT_BOOTSTRAP,
    }),
  bootstrap_method: z.enum(["residual", "points"]).default("residual").openapi({
    description:
      "`residual` (default): keep every run's (N, D) and redraw its loss as the fitted " +
      "value times a resampled leverage-corrected log residual — around each budget's parabola " +
      "for Approach 2, around the law for Approach 3 — so every resample keeps the sweep's design " +
      "and stays valid with 5 runs per budget. `points`: resample runs with replacement within " +
      "each budget (the classic pairs bootstrap; degenerate parabolas with few runs per budget).",
  }),
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
  form: z.enum(["additive", "joint"], {
    error: 'form must be "additive" or "joint"',
  }).default("additive").openapi({
    description: "Approach 3's law: `additive` (Chinchilla) L = E + A/N^α + B/D^β, or `joint` " +
      "L = E + (A/N^α + B/D^β)^γ with a fitted outer exponent γ (γ = 1 is the additive law; " +
      "E = 0, β = 1 is Kaplan et al. 2020's form). See docs/fit_forecasts.md for when to use it.",
  }),
  backtest: z.union([
    z.boolean(),
    z.object({
      hold_out_above: positive("backtest.hold_out_above (FLOPs)").openapi({
        description: "Every budget with C above this is held out.",
        example: 3e19,
      }),
    }).strict(),
  ], {
    error: (issue) => {
      if (issue.code !== "invalid_union" && issue.code !== "invalid_type") return undefined;
      // An object with a wrong field: say which (the union's own issue names only `backtest`).
      const inner = issue.code === "invalid_union"
        ? issue.errors.flat().find((e) => e.path.length > 0)
        : undefined;
      return inner === undefined
        ? 'backtest must be true, false or {"hold_out_above": C}'
        : `${inner.message} (backtest: {"hold_out_above": C})`;
    },
  })
    .default(false).openapi({
      description: "Held-out forecasts: `true` holds out the largest budget, " +
        '`{"hold_out_above": C}` every budget above C. Both approaches are refitted on the rest ' +
        "and forecast each held-out budget's compute optimum (N, D, loss, with intervals), " +
        "scored against that budget's own parabola vertex.",
    }),
  sensitivity: z.boolean({ error: onlyType("sensitivity must be true or false") }).default(true)
    .openapi({
      description: "Leave-one-budget-out: refit without each budget in turn and report how far " +
        "each table row moves, and which budget moves it most.",
    }),
  E: EConstraintSchema.optional().openapi({
    description: 'Constraint on the irreducible loss E: `{"fixed": x}` (e.g. a synthetic ' +
      'source\'s entropy rate), or bounds `{"min": x}`, `{"max": x}`, `{"min": x, "max": y}`. ' +
      "Applies to Approach 3 and to Approach 2's loss frontier.",
    example: { fixed: 1.1186 },
  }),
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

/** A saturating loss frontier L_opt(C) = E + k·C^(−gamma) through the per-budget optima. */
export const LossFrontierSchema = z.object({
  E: z.number().openapi({ description: "Floor: L_opt as C → ∞." }),
  k: z.number(),
  gamma: z.number().openapi({ description: "Decay exponent (> 0)." }),
  r2: z.number().openapi({ description: "R² in ln L_opt." }),
  rmse_log: z.number().openapi({ description: "RMS of ln L̂_opt − ln L_opt over the budgets." }),
  E_at_bound: z.boolean().openapi({
    description: "E sits on a bound: the request's E constraint, or 0 / the lowest optimum.",
  }),
}).openapi("LossFrontier");

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
  loss_opt: PowerLawSchema.openapi({
    description: "L_opt(C) = k·C^exponent: the pure power law, kept as the reported alternative " +
      "to `loss_frontier` (it has no floor and runs low when extrapolated).",
  }),
  loss_frontier: LossFrontierSchema.nullable().openapi({
    description: "L_opt(C) = E + k·C^(−gamma) fitted to the per-budget optima; the table's " +
      "Approach 2 loss. Null with fewer than 3 usable budgets, or 4 when E is free.",
  }),
}).openapi("IsoflopResult");

/** Chinchilla Approach 3: L(N, D) = E + A/N^α + B/D^β under a Huber loss on ln L. */
export const ParametricResultSchema = z.object({
  E: z.number(),
  A: z.number(),
  B: z.number(),
  alpha: z.number(),
  beta: z.number(),
  form: z.enum(["additive", "joint"]).openapi({ description: "The law's form (request `form`)." }),
  gamma: z.number().openapi({
    description: "Outer exponent γ of the joint form E + (A/N^α + B/D^β)^γ; 1 when additive.",
  }),
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
  E_constraint: EConstraintSchema.nullable().openapi({
    description: "The request's constraint on E, if any.",
  }),
  E_at_bound: z.boolean().openapi({
    description: "E is fixed, or the free optimum lay past a bound and E sits on it.",
  }),
}).openapi("ParametricResult");

/** Percentile intervals from the bootstrap. */
export const BootstrapResultSchema = z.object({
  n_resamples: z.number().int(),
  seed: z.number().int(),
  confidence: z.number(),
  method: z.string(),
  resampling: z.enum(["residual", "points"]),
  n_failed_parametric: z.number().int(),
  n_failed_isoflop: z.number().int(),
  parametric: z.record(z.string(), IntervalSchema).openapi({
    description: "E, A, B, alpha, beta, a, b, G.",
  }),
  isoflop: z.record(z.string(), IntervalSchema).nullable().openapi({
    description: "a, b, the power laws' k (k_N, k_D), and the loss frontier's E_frontier, " +
      "k_frontier, gamma_frontier when it was fitted.",
  }),
}).openapi("BootstrapResult");

/** Intervals of one table row. */
export const RowIntervalsSchema = z.object({
  N: IntervalSchema,
  D: IntervalSchema,
  D_per_N: IntervalSchema,
  loss: IntervalSchema,
}).openapi("RowIntervals");

/** The E constraint a row's loss was actually computed under. */
export const AppliedEConstraintSchema = z.enum(["free", "fixed", "min", "max", "min_max"]).openapi(
  "AppliedEConstraint",
);

/** Where one quantity's interval on the recommended row comes from (natural-log units). */
export const IntervalComponentsSchema = z.object({
  source: z.enum(["isoflop", "additive", "joint"]).openapi({
    description: "The candidate whose forecast is the point (Approach 2, or Approach 3's form).",
  }),
  noise_sd_log: z.number().openapi({
    description: "σ of ln q: for Approach 2's N_opt the power law's prediction standard error " +
      "through the vertices; otherwise the source's bootstrap spread (IQR/1.349 of its draws); " +
      "0 without either.",
  }),
  noise_quantile: z.number().openapi({
    description: "Quantile the noise is multiplied by: Student-t with n − 2 df for a " +
      "regression's σ, else z.",
  }),
  model_sd_log: z.number().openapi({
    description: "Model error: the source's rolling-origin error per e-fold of extrapolation " +
      "(`recommendation.scores`) × ln max(extrapolation, 1).",
  }),
  z: z.number().openapi({ description: "Normal quantile of the confidence level." }),
  widened_to: z.array(z.enum(["isoflop", "additive", "joint"])).openapi({
    description: "Other candidates whose forecasts lay outside z·σ and widened the interval to " +
      "contain them (the approaches' disagreement).",
  }),
}).openapi("IntervalComponents");

/** One compute-optimal allocation. */
export const TableRowSchema = z.object({
  approach: z.enum(["isoflop", "parametric", "recommended"]).openapi({
    description: "`parametric` (Approach 3, the request's form), `isoflop` (Approach 2), or " +
      "`recommended`: the one row per budget chosen by the rule in `recommendation`.",
  }),
  C: z.number().openapi({ description: "Budget in FLOPs." }),
  N: z.number().openapi({ description: "Compute-optimal parameters." }),
  D: z.number().openapi({ description: "Compute-optimal data (the points' units)." }),
  D_per_N: z.number(),
  loss: z.number().openapi({
    description: "Predicted (expected) loss at the optimum; Approach 2: the loss frontier " +
      "(the power law when no frontier could be fitted).",
  }),
  loss_power_law: z.number().nullable().openapi({
    description: "Approach 2 rows: the pure power law's L_opt (the reported alternative); " +
      "null for Approach 3.",
  }),
  ci: RowIntervalsSchema.nullable(),
  prediction_interval: IntervalSchema.nullable().openapi({
    description: "Loss of ONE new run at (N, D): the expected loss's bootstrap spread plus " +
      "run-to-run noise (`noise.sd_log_loss`). Null without bootstrap or noise estimate.",
  }),
  extrapolation: z.number().openapi({ description: "C / the largest budget in the data." }),
  recommended: z.boolean().optional().openapi({
    description: "True on exactly one row per requested budget (approach `recommended`), false " +
      "on every other row; always present in a response (optional only for callers building rows).",
  }),
  E_constraint: AppliedEConstraintSchema.optional().openapi({
    description: "The E constraint this row's loss was computed under: the request's kind when " +
      "applied, `free` when none was requested or it could not be applied (an `E_not_applied` " +
      "warning then says why). Always present in a response.",
  }),
  interval_components: z.object({
    N: IntervalComponentsSchema,
    loss: IntervalComponentsSchema,
  }).optional().openapi({
    description: "Recommended rows only: where the N (and D = C/(m·N)) and loss intervals come " +
      "from. `ci` and `prediction_interval` are exp(ln q̂ ± max(t·noise, z·model)), widened to " +
      "the other candidates' forecasts; the prediction interval adds run-to-run noise.",
  }),
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
    "bootstrap_reduced",
    "flops_mismatch",
    "isoflop_unavailable",
    "E_at_bound",
    "frontier_unavailable",
    "fragile_forecast",
    "backtest_miss",
    "sensitivity_skipped",
    "E_unidentified",
    "E_not_applied",
    "below_floor",
  ]),
  message: z.string(),
}).openapi("FitWarning");

/** A compute optimum: N, D and the loss there. */
const OptimumSchema = z.object({ N: z.number(), D: z.number(), loss: z.number() })
  .openapi("Optimum");

/** Intervals of a compute optimum. */
export const OptimumIntervalsSchema = z.object({
  N: IntervalSchema,
  D: IntervalSchema,
  loss: IntervalSchema,
}).openapi("OptimumIntervals");

/** Signed errors of a forecast, 100·(predicted − observed)/observed. */
const ErrorPctSchema = z.object({ N: z.number(), D: z.number(), loss: z.number() })
  .openapi("ForecastErrorPct");

/** Whether the observed value lies inside the forecast's interval. */
const InsideSchema = z.object({ N: z.boolean(), D: z.boolean(), loss: z.boolean() })
  .openapi("ForecastInside");

/** One approach's forecast of a held-out budget's compute optimum. */
export const ForecastSchema = z.object({
  approach: z.enum(["isoflop", "parametric"]),
  N: z.number(),
  D: z.number(),
  loss: z.number().openapi({ description: "Expected loss at the forecast optimum." }),
  ci: OptimumIntervalsSchema.nullable().openapi({
    description: "Bootstrap intervals of the fit on the training budgets (null with bootstrap 0).",
  }),
  prediction_interval: IntervalSchema.nullable().openapi({
    description: "Loss of one new run: `ci.loss` widened by run-to-run noise.",
  }),
  error_pct: ErrorPctSchema.nullable().openapi({
    description: "100·(predicted − observed)/observed against the held-out vertex; null when " +
      "the held-out budget has no parabola minimum.",
  }),
  inside: InsideSchema.nullable().openapi({
    description: "Per quantity, the observed vertex lies inside `ci`; null without both.",
  }),
  inside_prediction: z.boolean().nullable().openapi({
    description: "Observed optimum loss inside `prediction_interval`.",
  }),
}).openapi("Forecast");

/** The recommended row's forecast of a held-out budget: its rule applied to the training budgets. */
export const RecommendedForecastSchema = ForecastSchema.extend({
  approach: z.literal("recommended"),
}).openapi("RecommendedForecast");

/** One held-out budget: its own optimum and each approach's forecast of it. */
export const HeldOutBudgetSchema = z.object({
  label: z.string(),
  C: z.number(),
  n_points: z.number().int(),
  extrapolation: z.number().openapi({ description: "C / the largest training budget." }),
  observed: OptimumSchema.nullable().openapi({
    description: "The budget's own parabola vertex (N, D) and minimum loss; null without one.",
  }),
  observed_ci: OptimumIntervalsSchema.nullable().openapi({
    description: "Residual-bootstrap intervals of that vertex (its own sampling noise).",
  }),
  forecasts: z.array(ForecastSchema).openapi({
    description: "One forecast per approach: Approach 3, then Approach 2 when it could be fitted.",
  }),
  recommended: RecommendedForecastSchema.nullable().optional().openapi({
    description: "The recommended row's forecast (its rule applied to the training budgets), " +
      "scored the same way; null when no candidate could be fitted. Always present in a response.",
  }),
  predicted_loss: z.array(z.number()).openapi({
    description: "Approach 3 (fitted without it) loss for each of its runs, in request order.",
  }),
  observed_loss: z.array(z.number()),
  rmse_log_loss: z.number(),
}).openapi("HeldOutBudget");

/** Fit on the budgets up to a threshold; forecast and score every budget above it. */
export const BacktestResultSchema = z.object({
  hold_out_above: z.number().openapi({ description: "Budgets with C above this were held out." }),
  train_budgets: z.array(
    z.object({ label: z.string(), C: z.number(), n_points: z.number().int() }),
  ),
  n_train_points: z.number().int(),
  held_out: z.array(HeldOutBudgetSchema),
  rmse_log_loss: z.number().openapi({
    description: "Approach 3: RMS of ln L̂ − ln L over every held-out run.",
  }),
  max_abs_rel_error: z.number().openapi({ description: "Approach 3: largest |L̂ − L|/L." }),
}).openapi("BacktestResult");

/** The budget whose removal moves a forecast most. */
const InfluenceSchema = z.object({ label: z.string(), C: z.number(), shift_pct: z.number() })
  .openapi("Influence");

/** How one table row moves when each budget is dropped in turn. */
export const SensitivityRowSchema = z.object({
  approach: z.enum(["isoflop", "parametric"]),
  C: z.number(),
  spread_pct: z.object({
    N: z.number().nullable(),
    D: z.number().nullable(),
    loss: z.number().nullable(),
  }).openapi({
    description: "100·(max − min)/full-fit value over the leave-one-out refits (null when no " +
      "refit gave the quantity).",
  }),
  most_influential: z.object({
    N: InfluenceSchema.nullable(),
    D: InfluenceSchema.nullable(),
    loss: InfluenceSchema.nullable(),
  }).openapi({
    description: "Per quantity, the budget whose removal moves it most, and the signed shift " +
      "100·(refit − full)/full.",
  }),
  drops: z.array(z.object({
    label: z.string(),
    C: z.number(),
    N: z.number().nullable(),
    D: z.number().nullable(),
    loss: z.number().nullable(),
  })).openapi({ description: "The refit without each budget (null when it failed)." }),
}).openapi("SensitivityRow");

/** Leave-one-budget-out sensitivity of the table. */
export const SensitivityResultSchema = z.object({
  method: z.string(),
  rows: z.array(SensitivityRowSchema),
}).openapi("SensitivityResult");

/** Runs that share N and D (seeds of one configuration). */
export const ReplicateGroupSchema = z.object({
  N: z.number(),
  D: z.number(),
  n_runs: z.number().int(),
  mean_loss: z.number(),
  sd_log_loss: z.number().openapi({ description: "Sample sd of ln L within the group." }),
  indices: z.array(z.number().int()).openapi({ description: "Point indices, request order." }),
}).openapi("ReplicateGroup");

/** Run-to-run noise of one loss. */
export const NoiseResultSchema = z.object({
  source: z.enum(["replicates", "parabola_residuals", "none"]).openapi({
    description: "`replicates`: pooled within-group sd of ln L; `parabola_residuals` (no " +
      "replicates): pooled residual sd around the IsoFLOP parabolas (an upper bound: it " +
      "includes any lack of fit); `none`: neither is available.",
  }),
  sd_log_loss: z.number().nullable().openapi({ description: "σ of ln L for one run." }),
  df: z.number().int().openapi({ description: "Degrees of freedom of the estimate." }),
  n_replicate_groups: z.number().int(),
  n_replicate_points: z.number().int(),
  groups: z.array(ReplicateGroupSchema),
}).openapi("NoiseResult");

/** A detected budget: the points that share (about) one C. */
export const BudgetGroupSchema = z.object({
  label: z.string(),
  C: z.number().openapi({ description: "Median C of its points." }),
  n_points: z.number().int(),
}).openapi("BudgetGroup");

/** One candidate's rolling-origin errors at one target budget (natural logs). */
const OriginErrorSchema = z.object({ N: z.number(), loss: z.number() }).nullable();

/** The rule behind the recommended rows and the history it was scored on. */
export const RecommendationSchema = z.object({
  rule: z.string().openapi({ description: "The rule, in words." }),
  sources: z.object({
    N: z.enum(["isoflop", "additive", "joint"]),
    loss: z.enum(["isoflop", "additive", "joint"]),
  }).openapi({ description: "Which candidate gives the point forecast of N_opt and of L_opt." }),
  origins: z.array(z.object({
    label: z.string(),
    C: z.number(),
    train: z.array(z.number()).openapi({ description: "Training budgets (FLOPs)." }),
    ratio: z.number().openapi({ description: "C / the largest training budget." }),
    observed: z.object({ N: z.number(), loss: z.number() }),
    errors: z.object({
      isoflop: OriginErrorSchema,
      additive: OriginErrorSchema,
      joint: OriginErrorSchema,
    }).openapi({ description: "ln(forecast / observed) per candidate; null: no fit." }),
  })).openapi({
    description: "Rolling origins: each budget forecast from the budgets ≥ 2× below it.",
  }),
  scores: z.record(
    z.string(),
    z.object({
      N: z.number(),
      loss: z.number(),
      n_origins: z.number().int(),
    }),
  ).openapi({
    description:
      "Per candidate: the error per e-fold of extrapolation √((ν₀s₀² + Σu²)/(ν₀ + n)), " +
      "u = ln(forecast/observed)/ln(ratio), shrunk toward the prior s₀ (N 0.05, loss 0.005).",
  }),
  E_identified: z.object({
    isoflop: z.boolean().nullable(),
    additive: z.boolean().nullable(),
    joint: z.boolean().nullable(),
  }).openapi({
    description: "Per candidate: E is identified (its bootstrap interval spans < half of " +
      "[0, lowest loss) and it is off its bounds); null: no E (no frontier) or not fitted.",
  }),
}).openapi("Recommendation");

/** Response of `POST /v1/fit` and return value of {@linkcode fitScalingLaws}. */
export const FitResultSchema = z.object({
  n_points: z.number().int(),
  flops_per_param_token: z.number(),
  budgets: z.array(BudgetGroupSchema),
  isoflop: IsoflopResultSchema.nullable(),
  parametric: ParametricResultSchema,
  bootstrap: BootstrapResultSchema.nullable(),
  table: z.array(TableRowSchema),
  recommendation: RecommendationSchema.nullable().openapi({
    description: "The rule behind the `recommended` rows, its rolling-origin history and scores.",
  }),
  markdown: z.string().openapi({ description: "The table as markdown." }),
  warnings: z.array(FitWarningSchema),
  backtest: BacktestResultSchema.nullable(),
  sensitivity: SensitivityResultSchema.nullable(),
  noise: NoiseResultSchema,
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
/** One held-out budget of a backtest. */
export type HeldOutBudget = z.output<typeof HeldOutBudgetSchema>;
/** One forecast of a held-out optimum. */
export type Forecast = z.output<typeof ForecastSchema>;
/** The recommended row's forecast of a held-out budget. */
export type RecommendedForecast = z.output<typeof RecommendedForecastSchema>;
/** Intervals of an optimum. */
export type OptimumIntervals = z.output<typeof OptimumIntervalsSchema>;
/** Leave-one-budget-out result. */
export type SensitivityResult = z.output<typeof SensitivityResultSchema>;
/** One row of it. */
export type SensitivityRow = z.output<typeof SensitivityRowSchema>;
/** Noise estimate. */
export type NoiseResult = z.output<typeof NoiseResultSchema>;
/** Replicate group. */
export type ReplicateGroup = z.output<typeof ReplicateGroupSchema>;
/** Saturating loss frontier. */
export type LossFrontier = z.output<typeof LossFrontierSchema>;
/** E constraint. */
export type EConstraint = z.output<typeof EConstraintSchema>;
/** The recommendation's rule and history. */
export type Recommendation = z.output<typeof RecommendationSchema>;
/** Interval components of a recommended row. */
export type IntervalComponents = z.output<typeof IntervalComponentsSchema>;
/** The E constraint a row was computed under. */
export type AppliedEConstraint = z.output<typeof AppliedEConstraintSchema>;
/** Detected budget. */
export type BudgetGroup = z.output<typeof BudgetGroupSchema>;
