/**
 * Held-out forecasts: fit on the budgets up to a threshold, forecast every budget above it.
 *
 * Method. `backtest: true` holds out the largest budget; `{"hold_out_above": C}` every budget
 * with C above C. Both approaches are refitted on the training budgets alone (Approach 3 with a
 * full multi-start fit, Approach 2 with its parabolas, power laws and loss frontier, the E
 * constraint applied to both), and bootstrapped on them like the main fit ({@link ./bootstrap.ts},
 * same method, count and seed), with the held-out budgets as the table's budgets. Each held-out
 * budget's own optimum is its loss-vs-ln N parabola vertex (N, and the minimum loss; D from the
 * loss-vs-ln D parabola), with a residual-bootstrap interval from its own residuals. Scores per
 * forecast: error_pct = 100·(predicted − observed)/observed for N, D and loss, and whether the
 * observed value lies inside the forecast's interval. Per run, Approach 3's predicted loss, the
 * RMSE of ln L̂ − ln L, and the largest |L̂ − L|/L. Each held-out budget also gets the recommended
 * row's forecast ({@link ./recommend.ts}) from the training budgets, scored the same way, as
 * `recommended` (beside `forecasts`, which keeps one entry per approach).
 *
 * @module
 */
import { quadraticLeverages, quantile, runBootstrap } from "./bootstrap.ts";
import { FitInputError } from "./errors.ts";
import { fitIsoflop, fitParabola, isoflopOptimum } from "./isoflop.ts";
import type { LawOptions } from "./law.ts";
import { estimateNoise } from "./noise.ts";
import { recommendRows } from "./recommend.ts";
import {
  computeOptimal,
  fitParametric,
  type LawForm,
  type ParametricFit,
  predictLoss,
} from "./parametric.ts";
import { type Budget, type PointSet, subsetPoints } from "./points.ts";
import { mulberry32 } from "../random.ts";
import type {
  BacktestResult,
  Forecast,
  HeldOutBudget,
  OptimumIntervals,
  RecommendedForecast,
  RowIntervals,
} from "./schema.ts";

/** Options of {@linkcode runBacktest}. */
export interface BacktestOptions extends LawOptions {
  /** `true`: hold out the largest budget; a number: every budget above it. @default true */
  holdOutAbove?: number | true;
  /** Bootstrap resamples for the forecasts' intervals (0: none). @default 0 */
  resamples?: number;
  /** Bootstrap seed. @default 0 */
  seed?: number;
  /** Interval level. @default 0.95 */
  confidence?: number;
  /** Bootstrap resampling scheme. @default "residual" */
  method?: "residual" | "points";
  /** Form of the Approach 3 law. @default "additive" */
  form?: LawForm;
}

/** Fewest training budgets: two (Approach 3 cannot separate N and D on one). */
export const MIN_TRAIN_BUDGETS = 2;
/** Fewest budgets a backtest needs: two to train on and one to hold out. */
export const MIN_BACKTEST_BUDGETS = MIN_TRAIN_BUDGETS + 1;

/** A budget this many times above the next one below it can be held out and checked. */
export const CHECKABLE_GAP = 3;

/**
 * The `hold_out_above` threshold that makes a study's forecast checkable: the largest budget
 * C_{k−1} with C_k ≥ {@linkcode CHECKABLE_GAP}·C_{k−1} and at least 2 budgets at or below it —
 * so every budget from C_k up is held out and forecast from the ones below the gap.
 *
 * @param flops The study's budgets (FLOPs, any order; equal values count once).
 * @param gap Required ratio across the gap.
 * @returns The threshold, or null when no budget stands that far above the ones below it.
 *
 * @example
 * ```ts
 * import { checkableThreshold } from "./backtest.ts";
 * if (checkableThreshold([1e18, 2e18, 4e18, 4e19]) !== 4e18) throw new Error("expected 4e18");
 * if (checkableThreshold([1e18, 2e18, 4e18]) !== null) throw new Error("no 3× gap");
 * ```
 */
export function checkableThreshold(
  flops: readonly number[],
  gap: number = CHECKABLE_GAP,
): number | null {
  const c = [...new Set(flops)].sort((a, b) => a - b);
  for (let k = c.length - 1; k >= MIN_TRAIN_BUDGETS; k--) {
    if (c[k]! >= gap * c[k - 1]!) return c[k - 1]!;
  }
  return null;
}

/**
 * Split the budgets into training and held-out ones.
 *
 * @param budgets Budgets, ascending in C.
 * @param holdOutAbove `true` or a threshold in FLOPs.
 * @returns The two lists and the threshold used.
 * @throws {FitInputError} When fewer than 2 budgets train or none is held out.
 */
export function splitBudgets(
  budgets: readonly Budget[],
  holdOutAbove: number | true,
): { train: Budget[]; held: Budget[]; threshold: number } {
  const field = holdOutAbove === true ? "backtest" : "backtest.hold_out_above";
  if (holdOutAbove === true && budgets.length < MIN_BACKTEST_BUDGETS) {
    throw new FitInputError(
      field,
      `a backtest needs at least ${MIN_BACKTEST_BUDGETS} budgets (2 to fit, 1 to hold out); ` +
        `the points form ${budgets.length}`,
    );
  }
  const threshold = holdOutAbove === true ? budgets[budgets.length - 2]!.flops : holdOutAbove;
  const train = budgets.filter((b) => b.flops <= threshold);
  const held = budgets.filter((b) => b.flops > threshold);
  if (held.length === 0) {
    throw new FitInputError(
      field,
      `no budget lies above hold_out_above = ${threshold.toPrecision(3)} FLOPs ` +
        `(the largest is ${budgets[budgets.length - 1]!.flops.toPrecision(3)})`,
    );
  }
  if (train.length < MIN_TRAIN_BUDGETS) {
    throw new FitInputError(
      field,
      `only ${train.length} budget(s) lie at or below hold_out_above = ` +
        `${threshold.toPrecision(3)} FLOPs; a backtest fits on at least ${MIN_TRAIN_BUDGETS}`,
    );
  }
  return { train, held, threshold };
}

/**
 * Run the backtest.
 *
 * @param set Points and budgets (ascending C).
 * @param options δ, m, the split, bootstrap settings and E.
 * @returns Forecasts and scores for every held-out budget.
 * @throws {FitInputError} When the split leaves fewer than 2 training budgets or none held out,
 *   or Approach 3 has no valid law on the training budgets.
 */
export function runBacktest(set: PointSet, options: BacktestOptions): BacktestResult {
  const { train, held, threshold } = splitBudgets(set.budgets, options.holdOutAbove ?? true);
  const m = options.flopsPerParamToken;
  const confidence = options.confidence ?? 0.95;
  const resamples = options.resamples ?? 0;
  const sub = subsetPoints(set, train);
  const field = options.holdOutAbove === undefined || options.holdOutAbove === true
    ? "backtest"
    : "backtest.hold_out_above";
  let fit: ParametricFit;
  try {
    fit = fitParametric(sub, {
      huberDelta: options.huberDelta,
      multistart: "varpro",
      E: options.E,
      form: options.form,
    });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new FitInputError(field, `the training budgets cannot be fitted: ${error.message}`);
  }
  if (!(fit.law.alpha > 0 && fit.law.beta > 0)) {
    // No compute optimum without both exponents > 0: nothing to forecast with.
    throw new FitInputError(
      field,
      `on the ${train.length} training budgets Approach 3 has a non-positive exponent ` +
        `(α = ${fit.law.alpha.toPrecision(3)}, β = ${
          fit.law.beta.toPrecision(3)
        }); hold out fewer budgets`,
    );
  }
  const iso = fitIsoflop(sub, sub.budgets, undefined, options.E);
  const noise = estimateNoise(sub, iso);
  const heldFlops = held.map((b) => b.flops);
  const boot = resamples > 0
    ? runBootstrap(sub, fit, iso, {
      resamples,
      seed: options.seed ?? 0,
      confidence,
      huberDelta: options.huberDelta,
      flopsPerParamToken: m,
      budgets: heldFlops,
      method: options.method,
      E: options.E,
      noise: noise.sd_log_loss === null ? null : { sd: noise.sd_log_loss, df: noise.df },
    })
    : null;
  const maxTrain = train[train.length - 1]!.flops;
  const rec = recommendRows({
    set: sub,
    fit,
    isoflop: iso,
    boot,
    budgets: heldFlops,
    maxDataFlops: maxTrain,
    options: {
      huberDelta: options.huberDelta,
      multistart: "varpro",
      flopsPerParamToken: m,
      E: options.E,
      seed: options.seed ?? 0,
      confidence,
      method: options.method ?? "residual",
    },
    resamples,
    noiseSd: noise.sd_log_loss,
  });
  let sqAll = 0, nAll = 0, worst = 0;
  const heldOut: HeldOutBudget[] = held.map((b, j) => {
    const predicted = b.indices.map((i) => predictLoss(fit.law, set.params[i]!, set.data[i]!));
    const observedLoss = b.indices.map((i) => set.loss[i]!);
    let sq = 0;
    predicted.forEach((p, k) => {
      sq += (Math.log(p) - Math.log(observedLoss[k]!)) ** 2;
      worst = Math.max(worst, Math.abs(p - observedLoss[k]!) / observedLoss[k]!);
    });
    sqAll += sq, nAll += predicted.length;
    const vertex = heldVertex(set, b, resamples, options.seed ?? 0, confidence);
    const observed = vertex?.optimum ?? null;
    const forecasts: Forecast[] = [];
    const opt = computeOptimal(fit.law, b.flops, m);
    forecasts.push(score(
      "parametric",
      { N: opt.params, D: opt.data, loss: opt.loss },
      boot?.parametricRows[j] ?? null,
      boot?.parametricPrediction?.[j] ?? null,
      observed,
    ));
    if (iso !== null) {
      const o = isoflopOptimum(iso, b.flops);
      forecasts.push(score(
        "isoflop",
        { N: o.params, D: o.data, loss: o.loss },
        boot?.isoflopRows?.[j] ?? null,
        boot?.isoflopPrediction?.[j] ?? null,
        observed,
      ));
    }
    const r = rec?.rows[j];
    const recommended: RecommendedForecast | null = r === undefined ? null : {
      ...score(
        "parametric",
        { N: r.N, D: r.D, loss: r.loss },
        resamples > 0 ? r.ci : null,
        r.prediction_interval,
        observed,
      ),
      approach: "recommended",
    };
    return {
      label: b.label,
      C: b.flops,
      n_points: b.indices.length,
      extrapolation: b.flops / maxTrain,
      observed,
      observed_ci: vertex?.ci ?? null,
      forecasts,
      recommended,
      predicted_loss: predicted,
      observed_loss: observedLoss,
      rmse_log_loss: Math.sqrt(sq / predicted.length),
    };
  });
  return {
    hold_out_above: threshold,
    train_budgets: train.map((b) => ({ label: b.label, C: b.flops, n_points: b.indices.length })),
    n_train_points: sub.n,
    held_out: heldOut,
    rmse_log_loss: Math.sqrt(sqAll / nAll),
    max_abs_rel_error: worst,
  };
}

type Optimum = { N: number; D: number; loss: number };

/** A forecast scored against the observed optimum. */
function score(
  approach: "parametric" | "isoflop",
  predicted: Optimum,
  ci: RowIntervals | null,
  prediction: [number, number] | null,
  observed: Optimum | null,
): Forecast {
  const intervals: OptimumIntervals | null = ci === null
    ? null
    : { N: ci.N, D: ci.D, loss: ci.loss };
  const pct = (k: keyof Optimum) => 100 * (predicted[k] - observed![k]) / observed![k];
  const inside = (k: keyof Optimum) =>
    intervals![k][0] <= observed![k] && observed![k] <= intervals![k][1];
  return {
    approach,
    ...predicted,
    ci: intervals,
    prediction_interval: prediction,
    error_pct: observed === null ? null : { N: pct("N"), D: pct("D"), loss: pct("loss") },
    inside: observed === null || intervals === null
      ? null
      : { N: inside("N"), D: inside("D"), loss: inside("loss") },
    inside_prediction: observed === null || prediction === null
      ? null
      : prediction[0] <= observed.loss && observed.loss <= prediction[1],
  };
}

/**
 * The held-out budget's own optimum, and a residual-bootstrap interval from its own residuals
 * (leverage-corrected, centred): refit both parabolas on L̂·exp(r*) per resample.
 */
function heldVertex(
  set: PointSet,
  budget: Budget,
  resamples: number,
  seed: number,
  confidence: number,
): { optimum: Optimum; ci: OptimumIntervals | null } | null {
  const xN = budget.indices.map((i) => set.lnParams[i]!);
  const xD = budget.indices.map((i) => set.lnData[i]!);
  const y = budget.indices.map((i) => set.loss[i]!);
  const nFit = fitParabola(xN, y);
  const dFit = fitParabola(xD, y);
  if (typeof nFit === "string" || typeof dFit === "string") return null;
  const optimum = { N: nFit.vertex, D: dFit.vertex, loss: nFit.minimum };
  const [c0, c1, c2] = nFit.coefficients;
  const fitted = xN.map((x) => c0 + c1 * x + c2 * x * x);
  const h = quadraticLeverages(xN);
  const pool: number[] = [];
  y.forEach((v, k) => {
    if (fitted[k]! > 0 && h[k]! < 1 - 1e-9) {
      pool.push(Math.log(v / fitted[k]!) / Math.sqrt(1 - h[k]!));
    }
  });
  if (resamples === 0 || pool.length === 0 || fitted.some((f) => !(f > 0))) {
    return { optimum, ci: null };
  }
  const mean = pool.reduce((s, v) => s + v, 0) / pool.length;
  const random = mulberry32(seed ^ 0x9e3779b9);
  const samples = { N: [] as number[], D: [] as number[], loss: [] as number[] };
  for (let r = 0; r < resamples; r++) {
    const ys = fitted.map((f) => f * Math.exp(pool[Math.floor(random() * pool.length)]! - mean));
    const n = fitParabola(xN, ys);
    const d = fitParabola(xD, ys);
    if (typeof n === "string" || typeof d === "string") continue;
    samples.N.push(n.vertex), samples.D.push(d.vertex), samples.loss.push(n.minimum);
  }
  if (samples.N.length === 0) return { optimum, ci: null };
  const iv = (v: number[]): [number, number] => {
    const s = v.sort((a, b) => a - b);
    return [quantile(s, (1 - confidence) / 2), quantile(s, (1 + confidence) / 2)];
  };
  return { optimum, ci: { N: iv(samples.N), D: iv(samples.D), loss: iv(samples.loss) } };
}
