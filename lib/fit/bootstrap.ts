/**
 * Bootstrap percentile intervals for both approaches.
 *
 * Method `residual` (default). Every resample keeps each run's (N, D) — the sweep's design — and
 * redraws its loss: L*_i = L̂_i·exp(r*_i), r* drawn with replacement from a pool of centred,
 * leverage-corrected log residuals.
 * - Approach 2: L̂ is the run's budget's loss-vs-ln N parabola; residuals r_i = ln L_i − ln L̂_i
 *   are divided by √(1 − h_ii) (h_ii: the parabola's hat-matrix diagonal, so a budget of 5 runs
 *   and 3 coefficients does not shrink them) and pooled over all budgets, so a budget of 5 runs
 *   draws from every budget's residuals. Budgets without a parabola keep their losses.
 * - Approach 3: L̂ is the fitted law; residuals ln L_i − ln L̂_i are scaled by √(n/(n − p)),
 *   p = 5 (4 with E fixed).
 * Unlike resampling runs, this never produces a budget with fewer than 3 distinct sizes (the
 * degenerate parabolas that made intervals meaningless with 5 runs per budget); the coverage
 * test (`tests/lib/fit/coverage_test.ts`) checks the intervals on synthetic sweeps of 5 runs per
 * budget with a known law.
 *
 * Method `points`. Resample runs with replacement, stratified by budget: each budget of n_g
 * points draws n_g of its own points. Budgets too small for a parabola (< 3 points) are pooled
 * into one stratum. A resample is a weight vector w (draw counts), so both fits run on the
 * original arrays with weights.
 *
 * Either way, each refit of Approach 3 polishes from the full-data optimum and from the best
 * cells of a coarse (0.1-spaced) VarPro grid of the resample; the lowest objective wins (the
 * test suite checks this matches a full multi-start refit). Approach 2 refits its parabolas,
 * power laws and loss frontier. Intervals are the (1−c)/2 and (1+c)/2 sample quantiles (linear
 * interpolation) of the refits that succeeded; failures are counted, never silently dropped.
 *
 * Prediction intervals. For one new run at a row's (N, D): each resample's expected loss times
 * exp(σ·t), t a Student-t draw with the noise estimate's df, σ = `noise.sd_log_loss`
 * ({@link ./noise.ts}); the interval is the quantiles of those draws.
 *
 * Random numbers: mulberry32 (32-bit state), seeded by the request's `seed`. The resampling draws
 * one stream; each (approach, budget) pair draws its prediction noise from its own stream, seeded
 * by the seed, the approach and the budget's C ({@linkcode streamSeed}), so a budget's interval
 * does not depend on which other budgets are requested.
 *
 * @module
 */
import { fitIsoflop, isoflopOptimum, MIN_PARABOLA_POINTS } from "./isoflop.ts";
import type { LawOptions } from "./law.ts";
import { parabolaLogResiduals, studentTDraw } from "./noise.ts";
import {
  computeOptimal,
  exponentsOf,
  fitParametric,
  logResiduals,
  type ParametricFit,
  type Theta,
} from "./parametric.ts";
import { hashString, mulberry32, normalDraw } from "../random.ts";
import type { PointSet } from "./points.ts";
import type { BootstrapResult, IsoflopResult, RowIntervals } from "./schema.ts";
import { solve3 } from "./linalg.ts";

/**
 * Draw one stratified resample as per-point counts (method `points`).
 *
 * @param set The points and budgets.
 * @param random Uniform generator.
 * @returns Counts per point (summing to n).
 */
export function resampleWeights(set: PointSet, random: () => number): Float64Array {
  const w = new Float64Array(set.n);
  const pooled: number[] = [];
  const draw = (indices: readonly number[]) => {
    const k = indices.length;
    for (let j = 0; j < k; j++) {
      const i = indices[Math.floor(random() * k)]!;
      w[i] = w[i]! + 1;
    }
  };
  for (const b of set.budgets) {
    if (b.indices.length < MIN_PARABOLA_POINTS) pooled.push(...b.indices);
    else draw(b.indices);
  }
  draw(pooled);
  return w;
}

/**
 * Leverages h_ii of a quadratic least-squares fit in x: h_ii = x̃_iᵀ (X̃ᵀX̃)⁻¹ x̃_i with
 * x̃ = (1, t, t²), t = x − mean(x).
 *
 * @param x Abscissae.
 * @returns One leverage per point (NaN when the design is singular).
 */
export function quadraticLeverages(x: readonly number[]): number[] {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const m = new Float64Array(9);
  for (const xi of x) {
    const t = xi - mean;
    const row = [1, t, t * t];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) m[3 * a + b]! += row[a]! * row[b]!;
  }
  return x.map((xi) => {
    const t = xi - mean;
    const row = Float64Array.of(1, t, t * t);
    const sol = solve3(Float64Array.from(m), row);
    return sol === null ? NaN : row[0]! * sol[0] + row[1]! * sol[1] + row[2]! * sol[2];
  });
}

/** A pool of residuals to draw from and how to rebuild a loss vector from a draw. */
export interface ResidualModel {
  /** ln L̂ per point (NaN: the point keeps its loss). */
  lnFitted: Float64Array;
  /** Centred, corrected residuals. */
  pool: Float64Array;
}

/**
 * Residual model of Approach 2: parabola fits per budget, leverage-corrected, pooled.
 *
 * @param set The points.
 * @param isoflop The full-data Approach 2 fit of `set.budgets`.
 * @returns The model, or null when no budget leaves residuals to draw.
 */
export function isoflopResidualModel(set: PointSet, isoflop: IsoflopResult): ResidualModel | null {
  const r = parabolaLogResiduals(set, set, isoflop);
  const lnFitted = new Float64Array(set.n).fill(NaN);
  const pool: number[] = [];
  for (const b of set.budgets) {
    if (!Number.isFinite(r[b.indices[0]!]!)) continue;
    const h = quadraticLeverages(b.indices.map((i) => set.lnParams[i]!));
    b.indices.forEach((i, j) => {
      lnFitted[i] = set.lnLoss[i]! - r[i]!;
      const lev = h[j]!;
      // A point the parabola passes through (h = 1) has no residual to give.
      if (Number.isFinite(r[i]!) && lev < 1 - 1e-9) pool.push(r[i]! / Math.sqrt(1 - lev));
    });
  }
  return pool.length === 0 ? null : { lnFitted, pool: centred(pool) };
}

/**
 * Residual model of Approach 3: the law's fitted values, residuals scaled by √(n/(n − p)).
 *
 * @param set The points.
 * @param fit The full-data fit.
 * @param nParams p: 5, or 4 with E fixed.
 * @returns The model, or null with no degrees of freedom.
 */
export function parametricResidualModel(
  set: PointSet,
  fit: ParametricFit,
  nParams: number,
): ResidualModel | null {
  if (set.n <= nParams) return null;
  const predicted = logResiduals(fit.law, set); // ln L̂ − ln L
  const scale = Math.sqrt(set.n / (set.n - nParams));
  const lnFitted = Float64Array.from(predicted, (d, i) => set.lnLoss[i]! + d);
  return { lnFitted, pool: centred(predicted.map((d) => -d * scale)) };
}

function centred(values: readonly number[]): Float64Array {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Float64Array.from(values, (v) => v - mean);
}

/**
 * One residual resample: ln L*_i = ln L̂_i + r*, r* drawn from the pool (points with no fitted
 * value keep their loss).
 *
 * @param set The points (for the losses kept).
 * @param model Fitted values and residual pool.
 * @param random Uniform generator.
 * @returns ln L* per point.
 */
export function residualResample(
  set: PointSet,
  model: ResidualModel,
  random: () => number,
): Float64Array {
  const out = new Float64Array(set.n);
  const k = model.pool.length;
  for (let i = 0; i < set.n; i++) {
    const f = model.lnFitted[i]!;
    out[i] = Number.isFinite(f) ? f + model.pool[Math.floor(random() * k)]! : set.lnLoss[i]!;
  }
  return out;
}

/**
 * Sample quantile with linear interpolation between order statistics (Hyndman–Fan type 7).
 *
 * @param sorted Ascending values.
 * @param p Probability in [0, 1].
 * @returns The quantile.
 */
export function quantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * The seed of one purpose's own random stream: FNV-1a ({@linkcode hashString}) of the seed, the
 * purpose and the budget's C written to 17 significant digits (its exact float64), so the stream
 * depends on nothing else in the request.
 *
 * @param seed The request's seed.
 * @param purpose What the stream draws (e.g. `"prediction:isoflop"`).
 * @param flops The budget's C (FLOPs).
 * @returns A 32-bit seed for {@linkcode mulberry32}.
 *
 * @example
 * ```ts
 * import { streamSeed } from "./bootstrap.ts";
 * if (streamSeed(0, "prediction:isoflop", 1e20) !== streamSeed(0, "prediction:isoflop", 1e20)) {
 *   throw new Error("not deterministic");
 * }
 * ```
 */
export function streamSeed(seed: number, purpose: string, flops: number): number {
  return hashString(`${seed >>> 0}:${purpose}:${flops.toPrecision(17)}`);
}

/** Options of {@linkcode runBootstrap}. */
export interface BootstrapOptions extends LawOptions {
  /** Resamples. */
  resamples: number;
  /** PRNG seed. */
  seed: number;
  /** Interval level. */
  confidence: number;
  /** Budgets for the per-budget intervals. */
  budgets: readonly number[];
  /** Resampling scheme. @default "residual" */
  method?: "residual" | "points";
  /** Run-to-run noise for prediction intervals; none when omitted or null. */
  noise?: { sd: number; df: number } | null;
}

/** Intervals per table row, by approach, in the order of `budgets`. */
export interface BootstrapOutput {
  /** The summary sent in the response. */
  result: BootstrapResult;
  /** Approach 3 row intervals. */
  parametricRows: RowIntervals[];
  /** Approach 2 row intervals (null when it could not be bootstrapped). */
  isoflopRows: RowIntervals[] | null;
  /** Approach 3 prediction intervals for one new run, per budget (null without noise). */
  parametricPrediction: [number, number][] | null;
  /** Approach 2 prediction intervals, per budget. */
  isoflopPrediction: [number, number][] | null;
  /** Every successful refit's ln N_opt, ln D_opt and ln L_opt per budget, by approach. */
  samples: { parametric: BudgetSamples[]; isoflop: BudgetSamples[] | null };
}

/** One budget's bootstrap draws of an approach's forecast, in natural logs. */
export interface BudgetSamples {
  /** ln N_opt per successful refit. */
  lnN: number[];
  /** ln D_opt per successful refit. */
  lnD: number[];
  /** ln L_opt per successful refit. */
  lnLoss: number[];
}

/** Collects per-quantity samples and turns them into intervals. */
class Samples {
  readonly values = new Map<string, number[]>();
  add(key: string, v: number): void {
    const list = this.values.get(key);
    if (list) list.push(v);
    else this.values.set(key, [v]);
  }
  interval(key: string, confidence: number): [number, number] {
    const s = (this.values.get(key) ?? []).filter(Number.isFinite).sort((a, b) => a - b);
    if (s.length === 0) return [NaN, NaN];
    return [quantile(s, (1 - confidence) / 2), quantile(s, (1 + confidence) / 2)];
  }
}

/**
 * Run the bootstrap.
 *
 * @param set Points and budgets.
 * @param full The full-data Approach 3 fit (warm start for every refit, fitted values).
 * @param isoflop The full-data Approach 2 fit (fitted parabolas), or null.
 * @param options Count, seed, level, δ, m, budgets, method, E, noise.
 * @returns Intervals.
 */
export function runBootstrap(
  set: PointSet,
  full: ParametricFit,
  isoflop: IsoflopResult | null,
  options: BootstrapOptions,
): BootstrapOutput {
  const random = mulberry32(options.seed);
  const method = options.method ?? "residual";
  const par = new Samples();
  const iso = new Samples();
  let failedPar = 0;
  let failedIso = 0;
  const warm: Theta[] = [full.theta];
  const parModel = method === "residual"
    ? parametricResidualModel(
      set,
      full,
      (options.E?.fixed === undefined ? 5 : 4) + (full.form === "joint" ? 1 : 0),
    )
    : null;
  const isoModel = method === "residual" && isoflop !== null
    ? isoflopResidualModel(set, isoflop)
    : null;
  const noise = options.noise ?? null;
  const frontier = isoflop?.loss_frontier != null;
  // Residuals need the full fit's parabolas; without them Approach 2 is not bootstrapped.
  const isoRuns = method === "points" || isoModel !== null;
  // Each (approach, budget) draws its run-to-run noise from its own stream.
  const jitterFor = (approach: string) =>
    options.budgets.map((c) => {
      const own = mulberry32(streamSeed(options.seed, `prediction:${approach}`, c));
      const ownNormal = () => normalDraw(own);
      return () => noise === null ? 1 : Math.exp(noise.sd * studentTDraw(ownNormal, noise.df));
    });
  const parJitter = jitterFor("parametric");
  const isoJitter = jitterFor("isoflop");
  for (let r = 0; r < options.resamples; r++) {
    const w = method === "points" ? resampleWeights(set, random) : undefined;
    const lnPar = parModel === null ? set.lnLoss : residualResample(set, parModel, random);
    try {
      const fit = fitParametric({ ...set, lnLoss: lnPar }, {
        huberDelta: options.huberDelta,
        multistart: "varpro",
        quick: true,
        weights: w,
        extraStarts: warm,
        E: options.E,
        form: full.form,
      });
      const law = fit.law;
      if (!(law.alpha > 0 && law.beta > 0)) throw new RangeError("non-positive exponent");
      const { a, b, G } = exponentsOf(law);
      for (const [k, v] of Object.entries({ ...law, a, b, G })) par.add(k, v);
      options.budgets.forEach((c, j) => {
        const opt = computeOptimal(law, c, options.flopsPerParamToken);
        par.add(`N${j}`, opt.params);
        par.add(`D${j}`, opt.data);
        par.add(`R${j}`, opt.data / opt.params);
        par.add(`L${j}`, opt.loss);
        par.add(`P${j}`, opt.loss * parJitter[j]!());
      });
    } catch {
      failedPar++;
    }
    const isoData = isoModel === null
      ? set
      : { ...set, loss: residualResample(set, isoModel, random).map(Math.exp) };
    if (!isoRuns) continue;
    const isoFit = fitIsoflop(isoData, set.budgets, w, options.E);
    if (isoFit === null) failedIso++;
    else {
      iso.add("a", isoFit.a);
      iso.add("b", isoFit.b);
      iso.add("k_N", isoFit.N_opt.k);
      iso.add("k_D", isoFit.D_opt.k);
      const fr = isoFit.loss_frontier;
      if (fr !== null) {
        iso.add("E_frontier", fr.E);
        iso.add("k_frontier", fr.k);
        iso.add("gamma_frontier", fr.gamma);
      }
      options.budgets.forEach((c, j) => {
        const opt = isoflopOptimum(isoFit, c);
        // Keep one loss model across resamples: the full fit's (frontier or power law).
        const loss = !frontier ? opt.lossPowerLaw : fr === null ? NaN : opt.loss;
        iso.add(`N${j}`, opt.params);
        iso.add(`D${j}`, opt.data);
        iso.add(`R${j}`, opt.data / opt.params);
        iso.add(`L${j}`, loss);
        iso.add(`P${j}`, loss * isoJitter[j]!());
      });
    }
  }
  const conf = options.confidence;
  const rows = (s: Samples): RowIntervals[] =>
    options.budgets.map((_, j) => ({
      N: s.interval(`N${j}`, conf),
      D: s.interval(`D${j}`, conf),
      D_per_N: s.interval(`R${j}`, conf),
      loss: s.interval(`L${j}`, conf),
    }));
  const budgetSamples = (s: Samples): BudgetSamples[] =>
    options.budgets.map((_, j) => {
      const logs = (key: string) =>
        (s.values.get(key) ?? []).filter((v) => v > 0 && Number.isFinite(v)).map(Math.log);
      return { lnN: logs(`N${j}`), lnD: logs(`D${j}`), lnLoss: logs(`L${j}`) };
    });
  const predictions = (s: Samples) =>
    noise === null ? null : options.budgets.map((_, j) => s.interval(`P${j}`, conf));
  const isoOk = isoRuns && options.resamples - failedIso > 0;
  const parKeys = [
    "E",
    "A",
    "B",
    "alpha",
    "beta",
    ...(full.form === "joint" ? ["gamma"] : []),
    "a",
    "b",
    "G",
  ];
  const isoKeys = ["a", "b", "k_N", "k_D", "E_frontier", "k_frontier", "gamma_frontier"]
    .filter((k) => iso.values.has(k));
  return {
    result: {
      n_resamples: options.resamples,
      seed: options.seed,
      confidence: conf,
      method:
        (method === "residual"
          ? "percentile; each run's loss redrawn as its fitted value times a resampled " +
            "leverage-corrected log residual (Approach 2: around its budget's parabola, pooled " +
            "over budgets; Approach 3: around the law)"
          : "percentile; points resampled with replacement within each budget") +
        "; Approach 3 refits warm-started from the full-data optimum plus a 0.1-spaced VarPro grid",
      resampling: method,
      n_failed_parametric: failedPar,
      n_failed_isoflop: failedIso,
      parametric: Object.fromEntries(parKeys.map((k) => [k, par.interval(k, conf)])),
      isoflop: isoOk ? Object.fromEntries(isoKeys.map((k) => [k, iso.interval(k, conf)])) : null,
    },
    parametricRows: rows(par),
    isoflopRows: isoOk ? rows(iso) : null,
    parametricPrediction: predictions(par),
    isoflopPrediction: isoOk ? predictions(iso) : null,
    samples: { parametric: budgetSamples(par), isoflop: isoOk ? budgetSamples(iso) : null },
  };
}
