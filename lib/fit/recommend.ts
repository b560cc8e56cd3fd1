/**
 * The recommended forecast: one row per requested budget, by a stated rule, with intervals sized by
 * how the approaches fared on the sweep's own history (model error) and widened to their
 * disagreement.
 *
 * Method.
 * 1. Candidates. `isoflop` (Approach 2: N_opt = k·C^a through the budgets' parabola vertices; L_opt
 *    from the floored frontier E + k·C^−γ, or from the pure power law k·C^c when the frontier is
 *    missing or its E is not identified), and Approach 3 in both forms, `additive` and `joint` (the
 *    form the request did not ask for is fitted here as well, only as a candidate of this row).
 * 2. Rule (fixed; stated in the answer as {@linkcode RECOMMENDATION_RULE}). N_opt from `isoflop`
 *    (else `joint`); D_opt = C/(m·N_opt), so the row spends exactly C. The loss from `joint`, else
 *    `isoflop`, else `additive`, skipping any whose forecast lies below a known floor (`E.fixed`,
 *    `E.min`). On the published sweeps these are the forecasters that hold (docs/fit_forecasts.md);
 *    the history below sizes their intervals rather than picks them.
 * 3. Rolling origins. For each budget B_j that has a parabola vertex (the {@linkcode MAX_ORIGINS}
 *    largest such budgets), every candidate is refitted on the budgets with
 *    C ≤ C_j / {@linkcode ORIGIN_MIN_RATIO} (with {@linkcode ORIGIN_RATIO_SLACK}: measured budgets
 *    miss their planned 2× steps by rounding; at least two of them) and forecasts B_j. Its log-errors
 *    e = ln(forecast / vertex) of N_opt and L_opt are divided by the extrapolation's log-ratio
 *    ln r_j (r_j = C_j / the largest training C): u = e / ln r, the error per e-fold of
 *    extrapolation.
 * 4. Scores. s_q = √((ν₀·s₀_q² + Σ u²) / (ν₀ + n)) for q ∈ {N, loss}: the RMS of the scaled errors,
 *    shrunk toward a prior s₀_q with ν₀ = {@linkcode PRIOR_ORIGINS} pseudo-origins, so that one or
 *    two origins cannot make it 0 ({@linkcode PRIOR_SCALE_N}, {@linkcode PRIOR_SCALE_LOSS}); per
 *    candidate, and `pooled` over every candidate's errors — the sweep's own difficulty of
 *    forecasting q, whoever forecasts it — which sizes the interval. Why pooled, not the source's
 *    own history, for N_opt: Approach 2's own errors give tighter, still calibrated intervals on
 *    synthetic drifting sweeps, but where the vertices bend (the default study: Approach 2 +11 %
 *    and +19 % at 2–2.5×, then +93 % at 10×) its own short history understates its miss, and the
 *    other approaches' larger misses at the same origins (+15 to +38 %) are the evidence that the
 *    sweep's allocation is hard to forecast. Two alternatives that also cover that study widen the
 *    published sweeps' median N_opt interval past 3× (their noise term leads): adding a new
 *    vertex's scatter to the power law's standard error (√(1 + 1/n + …)), and Student-t's quantile
 *    for the scale's ν₀ + n degrees of freedom.
 * 5. Interval. In logs: ln q̂ ± max(t·σ_noise, z·σ_model), z the normal quantile of the confidence,
 *    σ_model = s_q(pooled)·ln max(R, 1), R = C / the largest data budget. σ_noise: for N_opt from
 *    `isoflop` the power law's prediction standard error through the vertices
 *    ({@linkcode powerLawNoise}, t = Student-t with n − 2 df); otherwise the source's bootstrap
 *    spread (IQR/1.349 of its ln q draws, robust to the few degenerate refits that blow percentile
 *    bounds up; t = z). The larger term leads, not the sum: the history's errors already hold the
 *    noise of fits on fewer budgets. The interval is then widened to contain every other
 *    candidate's forecast (the approaches' disagreement is part of the answer); a loss interval is
 *    clipped at a known floor. The prediction interval adds the run-to-run σ in quadrature.
 *
 * @module
 */
import { fitIsoflop, isoflopOptimum } from "./isoflop.ts";
import {
  computeOptimal,
  type EConstraint,
  fitParametric,
  type LawForm,
  type ParametricFit,
  type Theta,
} from "./parametric.ts";
import type { LawOptions } from "./law.ts";
import { type Budget, type PointSet, subsetPoints } from "./points.ts";
import { type BootstrapOutput, quantile, runBootstrap } from "./bootstrap.ts";
import type {
  AppliedEConstraint,
  FitWarning,
  IntervalComponents,
  IsoflopResult,
  Recommendation,
  TableRow,
} from "./schema.ts";
import type { BudgetSamples } from "./bootstrap.ts";

/** A rolling origin trains on budgets at least this factor below its target. */
export const ORIGIN_MIN_RATIO = 2;
/**
 * Relative slack on {@linkcode ORIGIN_MIN_RATIO}: a budget's C is the median of its runs' measured
 * FLOPs, which miss the planned value by the rounding of model shapes (the default study's planned
 * 6e9 and 1.2e10 measure 5.9965e9 and 1.19911e10, a 2× step of 1.9997×). Without it a planned 2×
 * step is not an origin. 1 % is far below the spacing of distinct budgets (≥ 5 % apart).
 */
export const ORIGIN_RATIO_SLACK = 0.01;
/** Most rolling origins (the largest targets): each costs one refit per candidate. */
export const MAX_ORIGINS = 4;
/** Fewest training budgets of a rolling origin (Approach 3 cannot separate N and D on one). */
export const MIN_ORIGIN_BUDGETS = 2;
/**
 * Weight of the prior scale, in pseudo-origins: as much as two measured origins, so a sweep with
 * two origins is half prior, one with eight mostly its own history.
 */
export const PRIOR_ORIGINS = 2;
/**
 * Prior error of ln N_opt per e-fold of extrapolation: 0.05, the spread of the allocation exponent
 * a between methods fitted to one sweep (Chinchilla's three approaches: 0.46–0.50; Besiroglu et
 * al. 2024's replication 0.51 ± 0.03). A drift of the exponent by that much moves ln N_opt by
 * 0.05 per e-fold of C.
 */
export const PRIOR_SCALE_N = 0.05;
/**
 * Prior error of ln L_opt per e-fold of extrapolation: 0.005 (0.5 % per e-fold, ~1.2 % at 10×):
 * the size of the loss frontier's misfit inside well-sampled sweeps (about 1 % at the edges).
 */
export const PRIOR_SCALE_LOSS = 0.005;
/**
 * E counts as unidentified when its bootstrap interval spans more than this fraction of the range
 * it may take, [0, lowest observed loss): the data then say little more about the floor than that
 * it lies below the losses.
 */
export const E_UNIDENTIFIED_FRACTION = 0.5;
/** A rolling-origin extrapolation ratio is never taken below this (ln r in the denominator). */
const MIN_LOG_RATIO = Math.log(ORIGIN_MIN_RATIO);
/** IQR of a normal distribution in units of σ: 2·Φ⁻¹(0.75). */
const NORMAL_IQR = 1.3489795003921634;

/** Names of the forecasters the rule chooses among. */
export type CandidateName = "isoflop" | LawForm;

/** One candidate's forecast at one budget. */
export interface CandidateForecast {
  /** N_opt. */
  N: number;
  /** L_opt. */
  loss: number;
  /** The loss depends on an E the data do not identify (or it sits on a bound). */
  eUnidentified: boolean;
}

/** One rolling origin: a target budget forecast from the budgets well below it. */
export interface Origin {
  /** Target budget (FLOPs). */
  C: number;
  /** Its label. */
  label: string;
  /** Training budgets (FLOPs). */
  train: number[];
  /** C / largest training C. */
  ratio: number;
  /** Observed vertex: N_opt and L_opt. */
  observed: { N: number; loss: number };
  /** Per candidate: the log-errors ln(forecast/observed), null when it could not be fitted. */
  errors: Partial<Record<CandidateName, { N: number; loss: number } | null>>;
}

/** A function that fits a candidate on a subset and forecasts the given budgets. */
export type Forecaster = (set: PointSet, flops: readonly number[]) => CandidateForecast[] | null;

/** Options of {@linkcode forecasters}. */
export interface ForecasterOptions extends LawOptions {
  /** Full-data optima (θ) per Approach 3 form: warm starts that make each refit a quick one. */
  warm?: Partial<Record<LawForm, Theta>>;
}

/**
 * The candidates as forecasters: a refit on a point set, then each budget's N_opt and L_opt.
 *
 * @param options δ, m and E.
 * @returns One forecaster per candidate.
 */
export function forecasters(options: ForecasterOptions): Record<CandidateName, Forecaster> {
  const m = options.flopsPerParamToken;
  const isoflop: Forecaster = (set, flops) => {
    const iso = fitIsoflop(set, set.budgets, undefined, options.E);
    if (iso === null) return null;
    const unidentified = frontierUnidentified(iso, options.E);
    return flops.map((c) => {
      const o = isoflopOptimum(iso, c);
      return {
        N: o.params,
        loss: unidentified ? o.lossPowerLaw : o.loss,
        eUnidentified: unidentified,
      };
    });
  };
  const parametric = (form: LawForm): Forecaster => (set, flops) => {
    try {
      const warm = options.warm?.[form];
      const fit = fitParametric(set, {
        huberDelta: options.huberDelta,
        multistart: "varpro",
        E: options.E,
        form,
        quick: warm !== undefined,
        extraStarts: warm === undefined ? undefined : [warm],
      });
      if (!(fit.law.alpha > 0 && fit.law.beta > 0)) return null;
      const atZero = eAtZero(fit.law.E, set.lnLoss);
      return flops.map((c) => {
        const o = computeOptimal(fit.law, c, m);
        return { N: o.params, loss: o.loss, eUnidentified: atZero };
      });
    } catch (error) {
      if (error instanceof RangeError) return null;
      throw error;
    }
  };
  return { isoflop, additive: parametric("additive"), joint: parametric("joint") };
}

/**
 * E this close to 0, relative to the lowest observed loss, counts as at its lower bound (0): the
 * fit put the whole loss into the power-law terms, and E is not identified. 1e-3 of the loss is
 * below any loss difference a sweep resolves (run-to-run noise is ≥ 1e-3 in relative terms).
 */
export const E_ZERO_REL = 1e-3;

/**
 * Whether a fitted E sits at the 0 bound: below {@linkcode E_ZERO_REL} × the lowest loss.
 *
 * @param E The fitted E.
 * @param lnLoss ln L per point.
 * @returns True when E ≈ 0.
 */
export function eAtZero(E: number, lnLoss: ArrayLike<number>): boolean {
  let lowest = Infinity;
  for (let i = 0; i < lnLoss.length; i++) lowest = Math.min(lowest, Math.exp(lnLoss[i]!));
  return E < E_ZERO_REL * lowest;
}

/**
 * Whether Approach 2's frontier cannot be trusted for its floor: missing, or a free E that ran to
 * a bound (0 or the lowest optimum). A fixed E is given, not fitted: identified by the caller.
 */
function frontierUnidentified(iso: IsoflopResult, E: EConstraint | undefined): boolean {
  const fr = iso.loss_frontier;
  if (fr === null) return true;
  if (E?.fixed !== undefined) return false;
  return fr.E_at_bound;
}

/**
 * Run the rolling origins.
 *
 * @param set All points (budgets ascending).
 * @param isoflop The full-data Approach 2 fit (for the targets' vertices).
 * @param candidates The forecasters to score.
 * @returns The origins, largest target last.
 */
export function rollingOrigins(
  set: PointSet,
  isoflop: IsoflopResult | null,
  candidates: Partial<Record<CandidateName, Forecaster>>,
): Origin[] {
  if (isoflop === null) return [];
  const targets: { budget: Budget; N: number; loss: number; train: Budget[] }[] = [];
  set.budgets.forEach((b, j) => {
    const row = isoflop.budgets[j];
    if (row === undefined || row.status !== "ok" || row.N === null || row.loss_opt === null) return;
    const train = set.budgets.filter((t) =>
      t.flops <= b.flops / ORIGIN_MIN_RATIO * (1 + ORIGIN_RATIO_SLACK)
    );
    if (train.length < MIN_ORIGIN_BUDGETS) return;
    targets.push({ budget: b, N: row.N.vertex, loss: row.loss_opt, train });
  });
  return targets.slice(-MAX_ORIGINS).map((t) => {
    const sub = subsetPoints(set, t.train);
    const maxTrain = t.train[t.train.length - 1]!.flops;
    const errors: Origin["errors"] = {};
    for (const [name, forecast] of Object.entries(candidates) as [CandidateName, Forecaster][]) {
      const f = forecast(sub, [t.budget.flops])?.[0];
      errors[name] = f === undefined || !(f.N > 0 && f.loss > 0)
        ? null
        : { N: Math.log(f.N / t.N), loss: Math.log(f.loss / t.loss) };
    }
    return {
      C: t.budget.flops,
      label: t.budget.label,
      train: t.train.map((b) => b.flops),
      ratio: t.budget.flops / maxTrain,
      observed: { N: t.N, loss: t.loss },
      errors,
    };
  });
}

/** A candidate's score on one quantity. */
export interface Score {
  /** Shrunk RMS error per e-fold of extrapolation. */
  scale: number;
  /** Origins it was measured on. */
  n: number;
  /** Raw RMS of u = e / ln r over them (null with none). */
  rms: number | null;
}

/**
 * Score a candidate on one quantity: s = √((ν₀·s₀² + Σ u²)/(ν₀ + n)), u = e / ln r.
 *
 * @param origins The rolling origins.
 * @param name The candidate, or `pooled`: every candidate's errors together (the sweep's own
 *   difficulty of forecasting the quantity, whoever forecasts it).
 * @param quantity `N` or `loss`.
 * @returns The score.
 *
 * @example
 * ```ts
 * import { scoreCandidate, PRIOR_SCALE_N } from "./recommend.ts";
 * const s = scoreCandidate([], "isoflop", "N");
 * if (s.scale !== PRIOR_SCALE_N || s.n !== 0) throw new Error("no history: the prior");
 * ```
 */
export function scoreCandidate(
  origins: readonly Origin[],
  name: CandidateName | "pooled",
  quantity: "N" | "loss",
): Score {
  const prior = quantity === "N" ? PRIOR_SCALE_N : PRIOR_SCALE_LOSS;
  const names: CandidateName[] = name === "pooled" ? ["isoflop", "additive", "joint"] : [name];
  let sum = 0, n = 0;
  for (const o of origins) {
    for (const k of names) {
      const e = o.errors[k];
      if (e === undefined || e === null) continue;
      const u = e[quantity] / Math.max(Math.log(o.ratio), MIN_LOG_RATIO);
      sum += u * u, n++;
    }
  }
  return {
    scale: Math.sqrt((PRIOR_ORIGINS * prior * prior + sum) / (PRIOR_ORIGINS + n)),
    n,
    rms: n === 0 ? null : Math.sqrt(sum / n),
  };
}

/**
 * Robust σ of draws: their interquartile range / 1.349 (σ for a normal sample), so a handful of
 * degenerate refits cannot widen it the way they widen percentile bounds.
 *
 * @param draws Samples (logs).
 * @returns σ, or 0 with fewer than 4 draws.
 */
export function robustSd(draws: readonly number[]): number {
  const s = draws.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length < 4) return 0;
  return (quantile(s, 0.75) - quantile(s, 0.25)) / NORMAL_IQR;
}

/**
 * The standard normal quantile Φ⁻¹(p) (Acklam's rational approximation, relative error < 1.2e-9).
 *
 * @param p Probability in (0, 1).
 * @returns z with Φ(z) = p.
 *
 * @example
 * ```ts
 * import { normalQuantile } from "./recommend.ts";
 * if (Math.abs(normalQuantile(0.975) - 1.959964) > 1e-6) throw new Error("bad quantile");
 * ```
 */
export function normalQuantile(p: number): number {
  const a = [
    -3.969683028665376e1,
    2.209460984245205e2,
    -2.759285104469687e2,
    1.38357751867269e2,
    -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1,
    1.615858368580409e2,
    -1.556989798598866e2,
    6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3,
    -3.223964580411365e-1,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5, r = q * q;
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/**
 * Student-t quantile t_ν(p): exact for ν = 1 (tan(π(p − ½))) and ν = 2 ((2p − 1)/√(2p(1 − p))),
 * else the Cornish–Fisher expansion in 1/ν to the fourth order (error < 0.2 % at ν = 3, p = 0.975);
 * the normal quantile for ν = ∞.
 *
 * @param p Probability in (0, 1).
 * @param df Degrees of freedom (≥ 1).
 * @returns t with P(T ≤ t) = p.
 *
 * @example
 * ```ts
 * import { studentQuantile } from "./recommend.ts";
 * if (Math.abs(studentQuantile(0.975, 3) - 3.182) > 0.01) throw new Error("bad t quantile");
 * ```
 */
export function studentQuantile(p: number, df: number): number {
  if (df === Infinity) return normalQuantile(p);
  if (df <= 1) return Math.tan(Math.PI * (p - 0.5));
  if (df <= 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = normalQuantile(p);
  const z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4);
}

/**
 * The prediction standard error of ln N_opt from Approach 2's line ln N = ln k + a·ln C through
 * the budgets' vertices: s·√(1/n + (x₀ − x̄)²/Sxx), s² = Σ residual²/(n − 2), x = ln C.
 *
 * @param iso The Approach 2 fit.
 * @param flops The budgets to forecast.
 * @returns σ and n − 2 degrees of freedom per budget, or undefined with fewer than 3 vertices.
 */
export function powerLawNoise(
  iso: IsoflopResult,
  flops: readonly number[],
): { sd: number; df: number }[] | undefined {
  const ok = iso.budgets.filter((b) => b.status === "ok" && b.N !== null);
  const n = ok.length;
  if (n < 3) return undefined;
  const x = ok.map((b) => Math.log(b.C));
  const y = ok.map((b) => Math.log(b.N!.vertex));
  const xBar = x.reduce((s, v) => s + v, 0) / n;
  const sxx = x.reduce((s, v) => s + (v - xBar) ** 2, 0);
  let ssr = 0;
  x.forEach((xi, i) => {
    ssr += (y[i]! - (Math.log(iso.N_opt.k) + iso.N_opt.exponent * xi)) ** 2;
  });
  const sd = Math.sqrt(ssr / (n - 2));
  return flops.map((c) => ({
    sd: sd * Math.sqrt(1 / n + (Math.log(c) - xBar) ** 2 / sxx),
    df: n - 2,
  }));
}

/** A fitted candidate on the full data: its forecasts and its bootstrap draws. */
export interface FittedCandidate {
  /** Forecast per requested budget. */
  forecasts: CandidateForecast[];
  /** Bootstrap draws per requested budget (null without a bootstrap). */
  samples: BudgetSamples[] | null;
  /** E is identified (null: the candidate has no fitted E). */
  eIdentified: boolean | null;
  /** The E constraint its loss was computed under. */
  eConstraint: AppliedEConstraint;
  /**
   * Noise of ln N_opt per budget from a regression (σ and its degrees of freedom), used instead of
   * the bootstrap draws when present (Approach 2: the power law's prediction standard error).
   */
  nNoise?: { sd: number; df: number }[];
}

/** Inputs of {@linkcode recommend}. */
export interface RecommendInput {
  /** Requested budgets (FLOPs). */
  budgets: readonly number[];
  /** Largest data budget (FLOPs). */
  maxDataFlops: number;
  /** m in C = m·N·D. */
  flopsPerParamToken: number;
  /** Interval level. */
  confidence: number;
  /** The fitted candidates (absent: could not be fitted). */
  candidates: Partial<Record<CandidateName, FittedCandidate>>;
  /** The rolling origins. */
  origins: Origin[];
  /** Run-to-run σ of ln L (null: unknown; no prediction interval). */
  runSdLog: number | null;
  /** A known floor: `E.fixed` or `E.min` (null: none). */
  floor: number | null;
}

/** What {@linkcode recommend} returns. */
export interface RecommendOutput {
  /** One recommended row per budget, in budget order. */
  rows: TableRow[];
  /** The rule, history and scores. */
  recommendation: Recommendation;
  /** Warnings about the choice. */
  warnings: FitWarning[];
}

/** The rule, as the answer states it. */
export const RECOMMENDATION_RULE =
  "N_opt: Approach 2's power law N_opt = k·C^a (the measured vertices), else Approach 3; " +
  "D_opt = C/(m·N_opt). Loss: Approach 3 in the joint form E + (A/N^α + B/D^β)^γ (it nests " +
  "the additive law and uses every run), else Approach 2's frontier (or its power law when its E " +
  "is not identified), else the additive law; never a forecast below a known floor. Interval: " +
  "exp(ln q̂ ± max(t·noise, z·model)), noise the power law's prediction standard error " +
  "(Approach 2's N, Student-t with n − 2 df) or the source's bootstrap spread (IQR/1.349, t = z), model its " +
  "rolling-origin error per e-fold of extrapolation × ln max(C/largest budget, 1), then widened " +
  "to contain every other candidate's forecast.";

/**
 * Build the recommended rows: the point from the rule's source, the interval from noise, model
 * error and the other candidates' forecasts (see the module's Method).
 *
 * @param input Budgets, fitted candidates, rolling origins, noise, floor.
 * @returns The rows, the recommendation and its warnings; null when no candidate was fitted.
 */
export function recommend(input: RecommendInput): RecommendOutput | null {
  const c = input.candidates;
  const fitted = (Object.keys(c) as CandidateName[]).filter((k) => c[k] !== undefined);
  if (fitted.length === 0) return null;
  const above = (name: CandidateName) =>
    input.floor === null ||
    c[name]!.forecasts.every((f) => f.loss > input.floor! && Number.isFinite(f.loss));
  const nSource: CandidateName = c.isoflop !== undefined
    ? "isoflop"
    : c.joint !== undefined
    ? "joint"
    : fitted[0]!;
  const lossOrder: CandidateName[] = ["joint", "isoflop", "additive"];
  const lossSource = lossOrder.find((k) => c[k] !== undefined && above(k)) ?? nSource;
  const z = normalQuantile((1 + input.confidence) / 2);
  const scores = Object.fromEntries(
    (["isoflop", "additive", "joint", "pooled"] as const).map((k) => {
      const sN = scoreCandidate(input.origins, k, "N"),
        sL = scoreCandidate(input.origins, k, "loss");
      return [k, { N: sN.scale, loss: sL.scale, n_origins: Math.max(sN.n, sL.n) }];
    }),
  );
  const warnings: FitWarning[] = [];
  const rows = input.budgets.map((flops, j): TableRow => {
    const extrapolation = flops / input.maxDataFlops;
    const lnR = Math.log(Math.max(extrapolation, 1));
    const band = (
      source: CandidateName,
      pick: (f: CandidateForecast) => number,
      draws: (s: BudgetSamples) => number[],
      quantity: "N" | "loss",
      extraSd = 0,
    ) => {
      const centre = Math.log(pick(c[source]!.forecasts[j]!));
      const regression = quantity === "N" ? c[source]!.nNoise?.[j] : undefined;
      const own = c[source]!.samples?.[j];
      const noise = regression !== undefined
        ? regression.sd
        : own === undefined
        ? 0
        : robustSd(draws(own));
      // A regression's σ is estimated from few residuals: its quantile is Student-t's.
      const noiseQuantile = regression === undefined
        ? z
        : studentQuantile((1 + input.confidence) / 2, regression.df);
      const model = scores.pooled![quantity] * lnR;
      // The history's errors already hold the noise of fits on fewer budgets: the larger term
      // leads (model error far out, the fit's own noise near the data), never their sum.
      const half = Math.hypot(Math.max(noiseQuantile * noise, z * model), z * extraSd);
      let lo = centre - half, hi = centre + half;
      const widened: CandidateName[] = [];
      for (const k of fitted) {
        if (k === source || (quantity === "loss" && !above(k))) continue;
        const v = Math.log(pick(c[k]!.forecasts[j]!));
        if (!Number.isFinite(v)) continue;
        if (v < lo || v > hi) widened.push(k);
        lo = Math.min(lo, v), hi = Math.max(hi, v);
      }
      const components: IntervalComponents = {
        source,
        noise_sd_log: noise,
        noise_quantile: noiseQuantile,
        model_sd_log: model,
        z,
        widened_to: widened,
      };
      return {
        value: Math.exp(centre),
        interval: [Math.exp(lo), Math.exp(hi)] as [number, number],
        components,
      };
    };
    const n = band(nSource, (f) => f.N, (s) => s.lnN, "N");
    const l = band(lossSource, (f) => f.loss, (s) => s.lnLoss, "loss");
    const floorClip = (iv: [number, number]): [number, number] =>
      input.floor === null ? iv : [Math.max(iv[0], input.floor), iv[1]];
    const pi = input.runSdLog === null ? null : floorClip(
      band(lossSource, (f) => f.loss, (s) => s.lnLoss, "loss", input.runSdLog).interval,
    );
    const m = input.flopsPerParamToken;
    const D = flops / (m * n.value);
    const dInterval: [number, number] = [flops / (m * n.interval[1]), flops / (m * n.interval[0])];
    return {
      approach: "recommended",
      C: flops,
      N: n.value,
      D,
      D_per_N: D / n.value,
      loss: l.value,
      loss_power_law: null,
      ci: {
        N: n.interval,
        D: dInterval,
        D_per_N: [dInterval[0] / n.interval[1], dInterval[1] / n.interval[0]],
        loss: floorClip(l.interval),
      },
      prediction_interval: pi,
      extrapolation,
      recommended: true,
      E_constraint: c[lossSource]!.eConstraint,
      interval_components: { N: n.components, loss: l.components },
    };
  });
  const identified = (k: CandidateName) => c[k] === undefined ? null : c[k]!.eIdentified;
  return {
    rows,
    recommendation: {
      rule: RECOMMENDATION_RULE,
      sources: { N: nSource, loss: lossSource },
      origins: input.origins.map((o) => ({
        label: o.label,
        C: o.C,
        train: o.train,
        ratio: o.ratio,
        observed: o.observed,
        errors: {
          isoflop: o.errors.isoflop ?? null,
          additive: o.errors.additive ?? null,
          joint: o.errors.joint ?? null,
        },
      })),
      scores,
      E_identified: {
        isoflop: identified("isoflop"),
        additive: identified("additive"),
        joint: identified("joint"),
      },
    },
    warnings,
  };
}

/**
 * Whether an E is identified: off its bounds, and (with a bootstrap) its interval spans less than
 * {@linkcode E_UNIDENTIFIED_FRACTION} of [0, lowest loss).
 *
 * @param atBound E sits on a bound (0, the lowest optimum, or a requested bound).
 * @param interval Its bootstrap interval, if any.
 * @param lowestLoss The lowest observed loss.
 * @returns True when identified.
 *
 * @example
 * ```ts
 * import { eIdentified } from "./recommend.ts";
 * if (eIdentified(false, [0, 3], 3.4)) throw new Error("[0, 3] of [0, 3.4) says nothing");
 * if (!eIdentified(false, [2.1, 2.4], 2.4)) throw new Error("a tight interval identifies E");
 * ```
 */
export function eIdentified(
  atBound: boolean,
  interval: readonly [number, number] | null | undefined,
  lowestLoss: number,
): boolean {
  if (atBound) return false;
  if (interval === null || interval === undefined) return true;
  return interval[1] - interval[0] < E_UNIDENTIFIED_FRACTION * lowestLoss;
}

/**
 * The E constraint a parametric fit's loss was computed under.
 *
 * @param E The request's constraint.
 * @returns Its kind, or `free`.
 */
export function appliedKind(E: EConstraint | undefined): AppliedEConstraint {
  if (E === undefined) return "free";
  if (E.fixed !== undefined) return "fixed";
  if (E.min !== undefined && E.max !== undefined) return "min_max";
  return E.min !== undefined ? "min" : "max";
}

/**
 * A full-data Approach 3 fit as a candidate.
 *
 * @param fit The fit.
 * @param options Budgets, m, the request's E, lowest loss, bootstrap E interval and draws.
 * @returns The candidate, or undefined when its exponents give no optimum.
 */
export function parametricCandidate(
  fit: ParametricFit,
  options: {
    budgets: readonly number[];
    flopsPerParamToken: number;
    E?: EConstraint;
    lowestLoss: number;
    eInterval: readonly [number, number] | null;
    samples: BudgetSamples[] | null;
  },
): FittedCandidate | undefined {
  if (!(fit.law.alpha > 0 && fit.law.beta > 0)) return undefined;
  const fixed = options.E?.fixed !== undefined;
  const atBound = !fixed && (fit.eAtBound || fit.law.E < E_ZERO_REL * options.lowestLoss);
  const eId = fixed ? true : eIdentified(atBound, options.eInterval, options.lowestLoss);
  return {
    forecasts: options.budgets.map((c) => {
      const o = computeOptimal(fit.law, c, options.flopsPerParamToken);
      return { N: o.params, loss: o.loss, eUnidentified: !eId };
    }),
    samples: options.samples,
    eIdentified: eId,
    eConstraint: appliedKind(options.E),
  };
}

/**
 * Approach 2 as a candidate: the power laws for N; the frontier for the loss when its E is
 * identified (or fixed), else the pure power law, which needs no floor.
 *
 * @param iso The full-data Approach 2 fit.
 * @param options Budgets, the request's E, lowest loss, bootstrap E interval and draws.
 * @returns The candidate.
 */
export function isoflopCandidate(
  iso: IsoflopResult,
  options: {
    budgets: readonly number[];
    E?: EConstraint;
    lowestLoss: number;
    eInterval: readonly [number, number] | null;
    samples: BudgetSamples[] | null;
  },
): FittedCandidate {
  const fr = iso.loss_frontier;
  const fixed = options.E?.fixed !== undefined;
  const eId = fr === null
    ? null
    : fixed
    ? true
    : eIdentified(fr.E_at_bound, options.eInterval, options.lowestLoss);
  const useFrontier = fr !== null && (eId === true || options.E !== undefined);
  return {
    forecasts: options.budgets.map((c) => {
      const o = isoflopOptimum(iso, c);
      return {
        N: o.params,
        loss: useFrontier ? o.loss : o.lossPowerLaw,
        eUnidentified: eId === false,
      };
    }),
    // The bootstrap's loss draws are the frontier's; with the power law leading they do not apply.
    samples: useFrontier || fr === null
      ? options.samples
      : options.samples?.map((s) => ({ ...s, lnLoss: [] })) ?? null,
    eIdentified: eId,
    eConstraint: useFrontier ? appliedKind(options.E) : "free",
    nNoise: powerLawNoise(iso, options.budgets),
  };
}

/**
 * Most resamples of the joint form's own bootstrap when the request asked for the additive form
 * (the joint form is then fitted only as the recommendation's loss candidate): its draws give the
 * loss's noise σ (an IQR, within ~±25 % from 30 draws) and E's interval; a joint refit costs ~5× an
 * additive one, so the full count would triple a default request's time.
 */
export const JOINT_CANDIDATE_BOOTSTRAP = 30;

/** Inputs of {@linkcode recommendRows}. */
export interface RecommendRowsInput {
  /** All points. */
  set: PointSet;
  /** The full-data Approach 3 fit in the request's form. */
  fit: ParametricFit;
  /** The full-data Approach 2 fit. */
  isoflop: IsoflopResult | null;
  /** The main bootstrap (null without one). */
  boot: BootstrapOutput | null;
  /** Requested budgets (FLOPs). */
  budgets: readonly number[];
  /** Largest data budget (FLOPs). */
  maxDataFlops: number;
  /** The fit's settings. */
  options: {
    huberDelta: number;
    multistart: "varpro" | "grid";
    flopsPerParamToken: number;
    E?: EConstraint;
    seed: number;
    confidence: number;
    method: "residual" | "points";
  };
  /** Bootstrap resamples of the main fit (0: none). */
  resamples: number;
  /** Run-to-run σ of ln L (null: unknown). */
  noiseSd: number | null;
}

/**
 * The recommended rows from the full-data fits: fit Approach 3's other form, bootstrap it when it
 * may lead the loss (the joint form), run the rolling origins, apply {@linkcode recommend}.
 *
 * @param input Points, fits, bootstrap, budgets and settings.
 * @returns The rows, the recommendation and its warnings; null when no candidate was fitted.
 */
export function recommendRows(input: RecommendRowsInput): RecommendOutput | null {
  const { set, fit, isoflop, boot, budgets, options: opts } = input;
  const E = opts.E;
  const m = opts.flopsPerParamToken;
  let lowestLoss = Infinity;
  for (const l of set.loss) lowestLoss = Math.min(lowestLoss, l);
  const other = fit.form === "joint" ? "additive" : "joint";
  let otherFit: ParametricFit | null = null;
  try {
    otherFit = fitParametric(set, {
      huberDelta: opts.huberDelta,
      multistart: opts.multistart,
      E,
      form: other,
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
  }
  // The joint form may lead the loss: give it its own bootstrap when the request did not.
  const otherBoot = otherFit !== null && other === "joint" && input.resamples > 0 &&
      otherFit.law.alpha > 0 && otherFit.law.beta > 0
    ? runBootstrap(set, otherFit, null, {
      resamples: Math.min(input.resamples, JOINT_CANDIDATE_BOOTSTRAP),
      seed: opts.seed,
      confidence: opts.confidence,
      huberDelta: opts.huberDelta,
      flopsPerParamToken: m,
      budgets,
      method: opts.method,
      E,
      noise: null,
    })
    : null;
  const candidates: Partial<Record<CandidateName, FittedCandidate>> = {};
  candidates[fit.form] = parametricCandidate(fit, {
    budgets,
    flopsPerParamToken: m,
    E,
    lowestLoss,
    eInterval: boot?.result.parametric.E ?? null,
    samples: boot?.samples.parametric ?? null,
  });
  if (otherFit !== null) {
    candidates[other] = parametricCandidate(otherFit, {
      budgets,
      flopsPerParamToken: m,
      E,
      lowestLoss,
      eInterval: otherBoot?.result.parametric.E ?? null,
      samples: otherBoot?.samples.parametric ?? null,
    });
  }
  if (isoflop !== null) {
    candidates.isoflop = isoflopCandidate(isoflop, {
      budgets,
      E,
      lowestLoss,
      eInterval: boot?.result.isoflop?.E_frontier ?? null,
      samples: boot?.samples.isoflop ?? null,
    });
  }
  const warm = { [fit.form]: fit.theta, ...(otherFit === null ? {} : { [other]: otherFit.theta }) };
  const origins = rollingOrigins(
    set,
    isoflop,
    forecasters({ huberDelta: opts.huberDelta, flopsPerParamToken: m, E, warm }),
  );
  return recommend({
    budgets,
    maxDataFlops: input.maxDataFlops,
    flopsPerParamToken: m,
    confidence: opts.confidence,
    candidates,
    origins,
    runSdLog: input.noiseSd,
    floor: E?.fixed ?? E?.min ?? null,
  });
}
