/**
 * The fit of a sweep: the finished points fitted with the same library as `POST /v1/fit`, and
 * the study's checks on that fit (computed once per report).
 *
 * @module
 */
import { median } from "../stats.ts";
import { checkableThreshold, type FitResult, fitScalingLaws } from "../fit/mod.ts";
import type { Forecast, RecommendedForecast } from "../fit/mod.ts";
import { plainExponents } from "./format.ts";
import type { PlotRun } from "./plots.ts";
import type { ResultRecord } from "./results.ts";

/** Which loss of each run the fit uses. */
export type FitLoss = "eval_loss" | "loss";

/** Inputs of {@linkcode fitSweep}. */
export interface FitSweepInput {
  /** Finished points. */
  records: readonly ResultRecord[];
  /** The swept budgets (FLOPs). */
  budgets: readonly number[];
  /** Budgets to tabulate; default: the swept ones, ×10 and ×100 of the largest. */
  tableBudgets?: readonly number[];
  /** Bootstrap resamples. */
  bootstrap: number;
  /** Seed of the bootstrap. */
  seed: number;
  /** Fit the held-out loss when runs report one (else the training loss). */
  fitLoss: FitLoss;
  /** The source's entropy rate, when the registry knows it: a second fit with E fixed at it. */
  entropyNats?: number;
  /**
   * Hold out every budget above this (FLOPs) and forecast it; `undefined` detects a budget ≥ 3×
   * above the ones below it (the fitter's `checkableThreshold`); `null` holds out nothing.
   */
  holdOutAbove?: number | null;
}

/** A fitted sweep. */
export interface SweepFit {
  /** The fitter's full answer with E free (its backtest holds the forecast check). */
  fit: FitResult;
  /** The same fit with E fixed at the source's entropy, when it is known. */
  constrained: FitResult | null;
  /** The runs in the order they were fitted. */
  runs: PlotRun[];
  /** Budgets of the printed table. */
  tableBudgets: number[];
  /** Budgets above this were held out and forecast (null: none). */
  holdOutAbove: number | null;
  /** The study's checks, computed once. */
  checks: SweepChecks;
}

/**
 * A fitted E below this many nats counts as collapsed to zero: no language source here has an
 * entropy under 0.01 nats per token, so such an E says the data cannot see the floor.
 */
export const E_COLLAPSED_NATS = 0.01;

/** The loss error (percent) the default study's forecast check targets. */
export const FORECAST_TARGETS = { lossErrorPct: 1 } as const;

/**
 * The budget label of a curve: the planned budget in compact exponent form, e.g. `3e11`.
 *
 * @param flops Budget (FLOPs).
 * @returns The label.
 */
export function budgetLabel(flops: number): string {
  return plainExponents(flops.toExponential());
}

/**
 * Fit the finished points (Approaches 2 and 3 with bootstrap CIs): once with E free and, when the
 * source's entropy is known, once with E fixed at it; both hold out the budgets above the
 * hold-out threshold and forecast them.
 *
 * @param input Records, budgets and fit options.
 * @returns The fits, the runs as fitted and the checks.
 * @throws {FitInputError} When the points cannot be fitted (e.g. too few).
 */
export function fitSweep(input: FitSweepInput): SweepFit {
  const runs: PlotRun[] = [...input.records]
    .sort((a, b) => a.budget_flops - b.budget_flops || a.N - b.N || a.loss - b.loss)
    .map((r) => ({
      N: r.N,
      D: r.D,
      C: r.C,
      loss: input.fitLoss === "eval_loss" && r.eval_loss !== undefined ? r.eval_loss : r.loss,
      budget: budgetLabel(r.budget_flops),
    }));
  const largest = Math.max(...input.budgets);
  const tableBudgets = [
    ...(input.tableBudgets ?? [...input.budgets, largest * 10, largest * 100]),
  ].sort((a, b) => a - b);
  const trained = new Set(runs.map((r) => r.budget));
  const swept = input.budgets.filter((b) => trained.has(budgetLabel(b)));
  const holdOutAbove = input.holdOutAbove === undefined
    ? checkableThreshold(swept)
    : input.holdOutAbove;
  const request = {
    points: runs.map((r) => ({ N: r.N, D: r.D, loss: r.loss, C: r.C, budget: r.budget })),
    // Only the table's budgets: the fitter's warnings and sensitivity then speak of exactly the
    // rows printed, and the plots draw their CI bands through the same rows.
    budgets: tableBudgets,
    flops_per_param_token: flopsPerParamToken(runs),
    bootstrap: input.bootstrap,
    seed: input.seed,
    ...(holdOutAbove === null ? {} : { backtest: { hold_out_above: holdOutAbove } }),
  };
  const fit = fitScalingLaws(request);
  const constrained = input.entropyNats === undefined
    ? null
    : fitScalingLaws({ ...request, E: { fixed: input.entropyNats } });
  const checks = checkSweep(fit, {
    ...(input.entropyNats === undefined ? {} : { entropyNats: input.entropyNats }),
    constrained,
  });
  return { fit, constrained, runs, tableBudgets, holdOutAbove, checks };
}

/**
 * The sweep's effective FLOPs per parameter per unit of D, m = median of C / (N·D), used by the
 * fit to turn a budget into (N, D) (C = m·N·D). The exact counts of tiny transformers exceed
 * Kaplan's 6 (attention over the context and the output head are large next to N), so the
 * default 6 would misplace Approach 3's optimum; the median is robust to the spread over sizes.
 *
 * @param runs The runs.
 * @returns m.
 */
export function flopsPerParamToken(runs: readonly { N: number; D: number; C: number }[]): number {
  return median(runs.map((r) => r.C / (r.N * r.D)));
}

/** One forecast of a held-out optimum, scored against what the held-out budget observed. */
export interface ForecastCheck {
  /** `free` (E fitted) or `entropy` (E fixed at the source's entropy was requested). */
  fit: "free" | "entropy";
  /**
   * Whether the fit's E constraint reached this forecast's loss: false on every `free` forecast,
   * and on an `entropy` one whose loss could not use the fixed E (see {@linkcode eReached}).
   */
  eApplied: boolean;
  /** Which approach: `recommended` is the fit's recommended row, forecast by its rule. */
  approach: "recommended" | "isoflop" | "parametric";
  /** Held-out budget (FLOPs) and how far above the largest fitted one it lies. */
  C: number;
  extrapolation: number;
  /** Predicted and observed N_opt, the interval and whether it holds the observed one. */
  N: { predicted: number; observed: number; ci: [number, number] | null; inside: boolean | null };
  /** Predicted and observed optimum loss. */
  loss: {
    predicted: number;
    observed: number;
    ci: [number, number] | null;
    inside: boolean | null;
    errorPct: number;
  };
  /** Signed N_opt error in percent. */
  nErrorPct: number;
}

/** What the study's checks found. */
export interface SweepChecks {
  /** Every budget's parabola has positive curvature (and was accepted). */
  positiveCurvature: boolean;
  /** N_opt rises with C across budgets. */
  nOptRising: boolean;
  /** Fitted E minus the source's entropy (nats), when the entropy is known. */
  entropyGap?: number;
  /** The entropy lies inside the free fit's E interval (when known and bootstrapped). */
  entropyInsideE?: boolean;
  /** Forecasts of each held-out budget's optimum (free fit first, then E fixed). */
  forecasts: ForecastCheck[];
}

/**
 * The study's checks: the two properties a sound IsoFLOP study shows, the fitted E against the
 * source's entropy, and every held-out forecast scored against the held-out budget's own vertex.
 *
 * @param fit The free fit.
 * @param options The source's entropy, and the fit with E fixed at it.
 * @returns The checks.
 */
export function checkSweep(
  fit: FitResult,
  options: { entropyNats?: number; constrained?: FitResult | null } = {},
): SweepChecks {
  const budgets = fit.isoflop?.budgets ?? [];
  const positiveCurvature = budgets.length > 0 &&
    budgets.every((b) => b.status === "ok" && b.N !== null && b.N.coefficients[2] > 0);
  const vertices = budgets.filter((b) => b.N !== null).sort((a, b) => a.C - b.C)
    .map((b) => b.N!.vertex);
  const nOptRising = vertices.length >= 2 &&
    vertices.every((v, i) => i === 0 || v > vertices[i - 1]!);
  const entropy = options.entropyNats;
  const eCi = fit.bootstrap?.parametric.E;
  return {
    positiveCurvature,
    nOptRising,
    ...(entropy === undefined ? {} : { entropyGap: fit.parametric.E - entropy }),
    ...(entropy === undefined || eCi === undefined
      ? {}
      : { entropyInsideE: eCi[0] <= entropy && entropy <= eCi[1] }),
    forecasts: [
      ...forecastChecks(fit, null),
      ...(options.constrained ? forecastChecks(options.constrained, fit) : []),
    ],
  };
}

/** A held-out budget's forecasts, the recommended one first. */
function heldForecasts(
  held: { forecasts: Forecast[]; recommended?: RecommendedForecast | null },
): (Forecast | RecommendedForecast)[] {
  return [...(held.recommended == null ? [] : [held.recommended]), ...held.forecasts];
}

/**
 * Whether a constrained fit's E reached one held-out forecast's loss. Approach 3 always fits with
 * E fixed, and so does a recommended loss taken from it (the constrained fit's
 * `recommendation.sources.loss`). Approach 2 (and a recommended loss taken from it) applies E
 * only through its loss frontier: not when the full constrained fit's rows of that approach say
 * `E_constraint: free` (no frontier on all budgets, so none on fewer), nor when the forecast's loss
 * is the very number the free fit forecast (both fell back to the pure power law, which has no E).
 *
 * @param constrained The fit with E fixed.
 * @param free The fit with E free.
 * @param C The held-out budget.
 * @param f The constrained fit's forecast there.
 * @returns True when the fixed E shaped the forecast's loss.
 */
export function eReached(
  constrained: FitResult,
  free: FitResult,
  C: number,
  f: Forecast | RecommendedForecast,
): boolean {
  if (f.approach === "parametric") return true;
  const source = constrained.recommendation?.sources.loss;
  if (f.approach === "recommended" && source !== undefined && source !== "isoflop") return true;
  const rows = constrained.table.filter((r) => r.approach === f.approach);
  if (rows.length > 0 && rows.every((r) => r.E_constraint === "free")) return false;
  const held = free.backtest?.held_out.find((h) => h.C === C);
  const twin = held === undefined
    ? undefined
    : heldForecasts(held).find((g) => g.approach === f.approach);
  return twin === undefined || twin.loss !== f.loss;
}

function forecastChecks(fit: FitResult, free: FitResult | null): ForecastCheck[] {
  const out: ForecastCheck[] = [];
  for (const held of fit.backtest?.held_out ?? []) {
    const observed = held.observed;
    if (observed === null) continue;
    for (const f of heldForecasts(held)) {
      const inside = (v: number, ci: [number, number] | undefined) =>
        ci === undefined ? null : ci[0] <= v && v <= ci[1];
      out.push({
        fit: free === null ? "free" : "entropy",
        eApplied: free !== null && eReached(fit, free, held.C, f),
        approach: f.approach,
        C: held.C,
        extrapolation: held.extrapolation,
        N: {
          predicted: f.N,
          observed: observed.N,
          ci: f.ci?.N ?? null,
          inside: inside(observed.N, f.ci?.N),
        },
        loss: {
          predicted: f.loss,
          observed: observed.loss,
          ci: f.ci?.loss ?? null,
          inside: inside(observed.loss, f.ci?.loss),
          errorPct: 100 * (f.loss - observed.loss) / observed.loss,
        },
        nErrorPct: 100 * (f.N - observed.N) / observed.N,
      });
    }
  }
  return out;
}
