/**
 * Synthetic IsoFLOP sweeps drawn from a known law, for the fit tests.
 *
 * @module
 */
import { mulberry32, normalDraw } from "../../../lib/random.ts";
import { computeOptimal, type Law, predictLoss } from "../../../lib/fit/parametric.ts";
import type { FitPoint } from "../../../lib/fit/schema.ts";

/** Chinchilla's published law (Hoffmann et al. 2022, eq. 10). */
export const TRUTH: Law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

/** Options of {@linkcode isoflopPoints}. */
export interface SweepOptions {
  /** Budgets in FLOPs. */
  budgets: number[];
  /** Points per budget, evenly spaced in ln N. */
  perBudget: number;
  /** Half-width of the sweep in ln N around the true optimum. */
  halfWidth: number;
  /** Sd of the multiplicative noise on L (i.e. of ln L). @default 0 */
  noiseSd?: number;
  /** Seed of the noise. @default 1 */
  seed?: number;
  /** Law to draw from. @default TRUTH */
  law?: Law;
}

/**
 * Points on IsoFLOP curves C = 6·N·D centred (in ln N) on the law's optimum.
 *
 * @param o Sweep options.
 * @returns The points.
 */
export function isoflopPoints(o: SweepOptions): FitPoint[] {
  const law = o.law ?? TRUTH;
  const random = mulberry32(o.seed ?? 1);
  const gauss = () => normalDraw(random);
  const out: FitPoint[] = [];
  for (const c of o.budgets) {
    const nOpt = computeOptimal(law, c, 6).params;
    for (let k = 0; k < o.perBudget; k++) {
      const N = nOpt * Math.exp(-o.halfWidth + (2 * o.halfWidth * k) / (o.perBudget - 1));
      const D = c / (6 * N);
      const clean = law.gamma === undefined
        ? law.E + law.A / N ** law.alpha + law.B / D ** law.beta
        : predictLoss(law, N, D);
      out.push({ N, D, loss: clean * Math.exp((o.noiseSd ?? 0) * gauss()) });
    }
  }
  return out;
}

/** Six budgets a factor ~3 apart, 1e17 … 3e19 FLOPs. */
export const SIX_BUDGETS = [1e17, 3e17, 1e18, 3e18, 1e19, 3e19];
