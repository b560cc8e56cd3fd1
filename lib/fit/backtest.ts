/**
 * Backtest: fit on every budget but the largest, predict the held-out budget.
 *
 * Method. Held-out points get weight 0 in Approach 3 (so its objective sums over the
 * training points only) and their budget is dropped from Approach 2. Scores: per-point
 * predicted losses, RMSE of ln L̂ − ln L, the largest |L̂ − L|/L, and the predicted
 * compute optimum of both approaches next to the held-out budget's own parabola vertex.
 *
 * @module
 */
import { FitInputError } from "./errors.ts";
import { evalPowerLaw, fitIsoflop, fitParabola } from "./isoflop.ts";
import { computeOptimal, fitParametric, predictLoss } from "./parametric.ts";
import type { PointSet } from "./points.ts";
import type { BacktestResult } from "./schema.ts";

/** Options of {@linkcode runBacktest}. */
export interface BacktestOptions {
  /** Huber δ. */
  huberDelta: number;
  /** m in C = m·N·D. */
  flopsPerParamToken: number;
}

/** Fewest budgets a backtest needs: two to train on and one to hold out. */
export const MIN_BACKTEST_BUDGETS = 3;

/**
 * Run the backtest.
 *
 * @param set Points and budgets (ascending C).
 * @param options δ and m.
 * @returns Scores on the held-out (largest) budget.
 * @throws {FitInputError} With fewer than 3 budgets.
 */
export function runBacktest(set: PointSet, options: BacktestOptions): BacktestResult {
  if (set.budgets.length < MIN_BACKTEST_BUDGETS) {
    throw new FitInputError(
      "backtest",
      `a backtest needs at least ${MIN_BACKTEST_BUDGETS} budgets (2 to fit, 1 to hold out); ` +
        `the points form ${set.budgets.length}`,
    );
  }
  const held = set.budgets[set.budgets.length - 1]!;
  const train = set.budgets.slice(0, -1);
  const weights = new Float64Array(set.n).fill(1);
  for (const i of held.indices) weights[i] = 0;
  const fit = fitParametric(set, { huberDelta: options.huberDelta, multistart: "varpro", weights });
  const predicted = held.indices.map((i) => predictLoss(fit.law, set.params[i]!, set.data[i]!));
  const observed = held.indices.map((i) => set.loss[i]!);
  let sq = 0;
  let worst = 0;
  predicted.forEach((p, j) => {
    sq += (Math.log(p) - Math.log(observed[j]!)) ** 2;
    worst = Math.max(worst, Math.abs(p - observed[j]!) / observed[j]!);
  });
  const ys = held.indices.map((i) => set.loss[i]!);
  const nFit = fitParabola(held.indices.map((i) => set.lnParams[i]!), ys);
  const dFit = fitParabola(held.indices.map((i) => set.lnData[i]!), ys);
  const opt = computeOptimal(fit.law, held.flops, options.flopsPerParamToken);
  const iso = fitIsoflop(set, train);
  return {
    held_out: { label: held.label, C: held.flops, n_points: held.indices.length },
    n_train_points: set.n - held.indices.length,
    predicted_loss: predicted,
    observed_loss: observed,
    rmse_log_loss: Math.sqrt(sq / predicted.length),
    max_abs_rel_error: worst,
    observed_optimum: typeof nFit === "string" || typeof dFit === "string"
      ? null
      : { N: nFit.vertex, D: dFit.vertex, loss: nFit.minimum },
    parametric_optimum: { N: opt.params, D: opt.data, loss: opt.loss },
    isoflop_optimum: iso === null ? null : {
      N: evalPowerLaw(iso.N_opt, held.flops),
      D: evalPowerLaw(iso.D_opt, held.flops),
      loss: evalPowerLaw(iso.loss_opt, held.flops),
    },
  };
}
