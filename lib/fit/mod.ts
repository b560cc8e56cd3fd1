/**
 * Scaling-law fitting without HTTP: the entry point the route and the sweep share.
 *
 * {@linkcode fitScalingLaws} takes exactly the body of `POST /v1/fit`, validates it once
 * ({@linkcode parseFitRequest}: the same zod schema the route uses) and runs
 * {@linkcode fitParsed}: budgets ({@link ./points.ts}), Approach 2 with its loss frontier
 * ({@link ./isoflop.ts}, {@link ./frontier.ts}), Approach 3 ({@link ./parametric.ts}), run-to-run
 * noise ({@link ./noise.ts}), the bootstrap ({@link ./bootstrap.ts}), the table
 * ({@link ./table.ts}), held-out forecasts ({@link ./backtest.ts}), leave-one-budget-out
 * sensitivity ({@link ./sensitivity.ts}) and warnings. The HTTP route validates the body with
 * the same schema and hands the parsed options to {@linkcode fitParsed} on a fit worker.
 *
 * @module
 */
import { runBacktest, splitBudgets } from "./backtest.ts";
import { runBootstrap } from "./bootstrap.ts";
import { FitInputError } from "./errors.ts";
import { summarizeIssues } from "../errors.ts";
import { fitIsoflop, MIN_PARABOLA_POINTS } from "./isoflop.ts";
import { exponentsOf, fitParametric, logResiduals } from "./parametric.ts";
import { estimateNoise } from "./noise.ts";
import { preparePoints } from "./points.ts";
import {
  DEFAULT_BOOTSTRAP,
  type FitOptions,
  type FitRequest,
  FitRequestSchema,
  type FitResult,
  type FitWarning,
} from "./schema.ts";
import { runSensitivity } from "./sensitivity.ts";
import {
  buildTable,
  renderBacktestMarkdown,
  renderMarkdown,
  renderSensitivityMarkdown,
} from "./table.ts";
import { collectWarnings } from "./warnings.ts";
import { recommendRows } from "./recommend.ts";

export { FitInputError } from "./errors.ts";
export { CHECKABLE_GAP, checkableThreshold } from "./backtest.ts";
export { parsePointsCsv } from "./csv.ts";
export { renderBacktestMarkdown, renderMarkdown, renderSensitivityMarkdown } from "./table.ts";
export type { CsvPoint, CsvTable } from "./csv.ts";
export * from "./schema.ts";
/** The curve-fitting pieces the planner reuses (lib/plan/). */
export { quantile } from "./bootstrap.ts";
export {
  evalParabola,
  fitParabola,
  fitQuadratic,
  isoflopOptimum,
  parabolaMinimum,
  type QuadraticFit,
} from "./isoflop.ts";
export { fitLine } from "./linalg.ts";

/**
 * Most (points × bootstrap resamples) one fit may cost: ~10 s of refits on one core
 * (a refit costs ~10 µs per point). A request past it with an explicit `bootstrap` is refused (422); with the
 * default count the count is lowered to fit, and a warning says so.
 */
export const MAX_BOOTSTRAP_POINT_FITS = 1_000_000;
/** Most points for `multistart: "grid"` (4,500 L-BFGS runs; ~13 s at 250 points). */
export const MAX_GRID_POINTS = 500;

/** Limits the service applies (from its configuration); unlimited when omitted. */
export interface FitLimits {
  /** Most points (413 past it). */
  maxPoints?: number;
  /** Largest bootstrap count (422 past it). */
  maxBootstrap?: number;
  /** Most points × resamples. @default MAX_BOOTSTRAP_POINT_FITS */
  maxBootstrapPointFits?: number;
}

/**
 * Fit Chinchilla Approaches 2 and 3 to trained runs, with bootstrap intervals.
 *
 * @param input Exactly the body of `POST /v1/fit` (options may be omitted).
 * @param limits Size limits (the service passes its configuration).
 * @returns The fit.
 * @throws {FitInputError} When the input cannot be fitted; `field` names the culprit
 *   and `status` is 413 for too many points, 422 otherwise.
 *
 * @example
 * ```ts
 * import { fitScalingLaws } from "./mod.ts";
 * const points = [];
 * for (const C of [1e17, 1e18, 1e19]) for (const k of [-1, -0.5, 0, 0.5, 1]) {
 *   const N = 0.3 * (C / 6) ** 0.45 * Math.exp(k), D = C / (6 * N);
 *   points.push({ N, D, loss: 1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28 });
 * }
 * const fit = fitScalingLaws({ points, bootstrap: 0 });
 * if (Math.abs(fit.parametric.alpha - 0.34) > 1e-4) throw new Error("alpha not recovered");
 * ```
 */
export function fitScalingLaws(input: FitRequest, limits: FitLimits = {}): FitResult {
  return fitParsed(parseFitRequest(input, limits), limits);
}

/**
 * Validate a request once: the point count first (413, before any per-point check), then the zod
 * schema (422 naming the field).
 *
 * @param input The body of `POST /v1/fit`.
 * @param limits Size limits.
 * @returns The parsed options, defaults filled in (`bootstrap` stays undefined when omitted).
 * @throws {FitInputError} On a bad request.
 */
export function parseFitRequest(input: unknown, limits: FitLimits = {}): FitOptions {
  const maxPoints = limits.maxPoints ?? Infinity;
  const raw = input as { points?: unknown } | null;
  if (Array.isArray(raw?.points) && raw.points.length > maxPoints) {
    throw new FitInputError(
      "points",
      `${raw.points.length} points exceed the limit of ${maxPoints} per fit`,
      {
        status: 413,
        limit: { name: "max_fit_points", value: maxPoints, actual: raw.points.length },
      },
    );
  }
  const parsed = FitRequestSchema.safeParse(input);
  if (!parsed.success) {
    const { field, detail } = summarizeIssues(parsed.error.issues);
    throw new FitInputError(field, detail);
  }
  return parsed.data;
}

/**
 * Fit an already validated request (what the route's validator or {@linkcode parseFitRequest}
 * returned) — the fit worker's entry point, so the body is validated once.
 *
 * @param opts Parsed options.
 * @param limits Size limits.
 * @returns The fit.
 * @throws {FitInputError} When the points cannot be fitted.
 */
export function fitParsed(opts: FitOptions, limits: FitLimits = {}): FitResult {
  try {
    return fitOrThrow(opts, limits);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new FitInputError("points", `the points cannot be fitted: ${error.message}`);
    }
    throw error;
  }
}

function fitOrThrow(opts: FitOptions, limits: FitLimits): FitResult {
  const t0 = performance.now();
  const maxPoints = limits.maxPoints ?? Infinity;
  if (opts.points.length > maxPoints) {
    throw new FitInputError(
      "points",
      `${opts.points.length} points exceed the limit of ${maxPoints} per fit`,
      {
        status: 413,
        limit: { name: "max_fit_points", value: maxPoints, actual: opts.points.length },
      },
    );
  }
  const warnings: FitWarning[] = [];
  const maxBootstrap = limits.maxBootstrap ?? Infinity;
  const explicitBootstrap = opts.bootstrap !== undefined;
  let resamples = opts.bootstrap ?? DEFAULT_BOOTSTRAP;
  if (resamples > maxBootstrap) {
    throw new FitInputError(
      "bootstrap",
      `bootstrap = ${resamples} exceeds the limit of ${maxBootstrap} resamples`,
      { limit: { name: "max_bootstrap", value: maxBootstrap, actual: resamples } },
    );
  }
  const n = opts.points.length;
  const maxPointFits = limits.maxBootstrapPointFits ?? MAX_BOOTSTRAP_POINT_FITS;
  // A backtest bootstraps its training budgets too: about twice the refits.
  const passes = opts.backtest === false ? 1 : 2;
  if (resamples * n * passes > maxPointFits) {
    const fitting = Math.floor(maxPointFits / (n * passes));
    if (explicitBootstrap) {
      throw new FitInputError(
        "bootstrap",
        `bootstrap × points${passes === 2 ? " × 2 (the backtest's own bootstrap)" : ""} = ` +
          `${resamples} × ${n}${passes === 2 ? " × 2" : ""} exceeds ${maxPointFits}; ` +
          `ask for at most ${fitting} resamples`,
        { limit: { name: "max_bootstrap", value: fitting, actual: resamples } },
      );
    }
    resamples = Math.min(DEFAULT_BOOTSTRAP, fitting);
    warnings.push({
      code: "bootstrap_reduced",
      message: `with ${n} points the default bootstrap was lowered to ${resamples} resamples`,
    });
  }
  if (opts.multistart === "grid" && n > MAX_GRID_POINTS) {
    throw new FitInputError(
      "multistart",
      `multistart "grid" runs 4,500 L-BFGS fits and allows at most ${MAX_GRID_POINTS} points; ` +
        `use "varpro" for ${n}`,
      { limit: { name: "max_grid_points", value: MAX_GRID_POINTS, actual: n } },
    );
  }
  const m = opts.flops_per_param_token;
  const set = preparePoints(opts.points, {
    flopsPerParamToken: m,
    budgetRelTol: opts.budget_rel_tol,
  });
  const E = opts.E;
  checkFloor(E, set.loss);
  // Refuse an impossible split before any fitting.
  if (opts.backtest !== false) {
    splitBudgets(set.budgets, opts.backtest === true ? true : opts.backtest.hold_out_above);
  }
  const isoflop = fitIsoflop(set, set.budgets, undefined, E);
  const fit = fitParametric(set, {
    huberDelta: opts.huber_delta,
    multistart: opts.multistart,
    E,
    form: opts.form,
  });
  const law = fit.law;
  if (!(law.alpha > 0 && law.beta > 0)) {
    throw new FitInputError(
      "points",
      `the best Approach 3 fit has a non-positive exponent (α = ${law.alpha.toPrecision(3)}, ` +
        `β = ${law.beta.toPrecision(3)}): loss does not fall with both N and D in these points`,
    );
  }
  const { a, b, G } = exponentsOf(law);
  const budgets = opts.budgets ?? set.budgets.map((bg) => bg.flops);
  const noise = estimateNoise(set, isoflop);
  const boot = resamples > 0
    ? runBootstrap(set, fit, isoflop, {
      resamples,
      seed: opts.seed,
      confidence: opts.confidence,
      huberDelta: opts.huber_delta,
      flopsPerParamToken: m,
      budgets,
      method: opts.bootstrap_method,
      E,
      noise: noise.sd_log_loss === null ? null : { sd: noise.sd_log_loss, df: noise.df },
    })
    : null;
  const maxDataFlops = set.budgets[set.budgets.length - 1]!.flops;
  const table = buildTable({
    budgets,
    maxDataFlops,
    flopsPerParamToken: m,
    law,
    isoflop,
    parametricCi: boot?.parametricRows ?? null,
    isoflopCi: boot?.isoflopRows ?? null,
    parametricPrediction: boot?.parametricPrediction ?? null,
    isoflopPrediction: boot?.isoflopPrediction ?? null,
    E,
  });
  const rec = recommendRows({
    set,
    fit,
    isoflop,
    boot,
    budgets,
    maxDataFlops,
    options: {
      huberDelta: opts.huber_delta,
      multistart: opts.multistart,
      flopsPerParamToken: m,
      E,
      seed: opts.seed,
      confidence: opts.confidence,
      method: opts.bootstrap_method,
    },
    resamples,
    noiseSd: noise.sd_log_loss,
  });
  if (rec !== null) table.push(...rec.rows);
  const backtest = opts.backtest === false ? null : runBacktest(set, {
    huberDelta: opts.huber_delta,
    flopsPerParamToken: m,
    holdOutAbove: opts.backtest === true ? true : opts.backtest.hold_out_above,
    resamples,
    seed: opts.seed,
    confidence: opts.confidence,
    method: opts.bootstrap_method,
    E,
    form: opts.form,
  });
  // One quick refit per IsoFLOP budget: capped like the bootstrap, by points × refits.
  const refits = set.budgets.filter((bg) => bg.indices.length >= MIN_PARABOLA_POINTS).length;
  const sensitivityFits = opts.sensitivity && refits * n <= maxPointFits;
  if (opts.sensitivity && !sensitivityFits) {
    warnings.push({
      code: "sensitivity_skipped",
      message: `leave-one-budget-out needs ${refits} refits of ${n} points, past the limit of ` +
        `${maxPointFits} point-fits; it was skipped`,
    });
  }
  const sensitivity = sensitivityFits
    ? runSensitivity(set, fit, isoflop, {
      budgets,
      huberDelta: opts.huber_delta,
      flopsPerParamToken: m,
      E,
    })
    : null;
  warnings.push(...collectWarnings({
    set,
    flopsPerParamToken: m,
    givenFlops: opts.points.map((p) => p.C),
    isoflop,
    parametric: fit,
    table,
    bootstrap: boot?.result ?? null,
    E: E ?? null,
    sensitivity,
    backtest,
    recommendation: rec?.recommendation ?? null,
    form: opts.form,
  }));
  return {
    n_points: set.n,
    flops_per_param_token: m,
    budgets: set.budgets.map((bg) => ({
      label: bg.label,
      C: bg.flops,
      n_points: bg.indices.length,
    })),
    isoflop,
    parametric: {
      ...law,
      form: fit.form,
      gamma: law.gamma ?? 1,
      a,
      b,
      G,
      objective: fit.objective,
      huber_delta: opts.huber_delta,
      residuals: logResiduals(law, set),
      converged: fit.converged,
      status: fit.status,
      iterations: fit.iterations,
      multistart: opts.multistart,
      n_starts: fit.nStarts,
      n_polished: fit.nPolished,
      E_constraint: E ?? null,
      E_at_bound: fit.eAtBound,
    },
    bootstrap: boot?.result ?? null,
    table,
    recommendation: rec?.recommendation ?? null,
    // The check leads whenever one was asked for: the table's worth is how well it held.
    markdown: (backtest === null ? "" : renderBacktestMarkdown(backtest, opts.confidence) + "\n") +
      renderMarkdown(table, opts.confidence, { form: fit.form, warnings }) +
      (sensitivity === null ? "" : "\n" + renderSensitivityMarkdown(sensitivity)),
    warnings,
    backtest,
    sensitivity,
    noise,
    elapsed_ms: performance.now() - t0,
  };
}

/**
 * Refuse a floor at or above the lowest observed loss: L = E + A/N^α + B/D^β > E for every run.
 */
function checkFloor(E: FitOptions["E"], loss: Float64Array): void {
  if (E === undefined) return;
  let lowest = Infinity;
  for (const l of loss) lowest = Math.min(lowest, l);
  for (const key of ["fixed", "min"] as const) {
    const v = E[key];
    if (v !== undefined && v >= lowest) {
      throw new FitInputError(
        `E.${key}`,
        `E.${key} = ${v} is not below the lowest observed loss (${lowest}); every run's loss ` +
          "exceeds the irreducible loss E",
      );
    }
  }
}
