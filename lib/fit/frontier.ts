/**
 * Approach 2's loss frontier with a floor: L_opt(C) = E + k·C^(−γ) through the per-budget optima.
 *
 * Method. Minimise S(E, k, γ) = Σ_j (ln(E + k·C_j^(−γ)) − ln L_j)² over the budgets' parabola
 * minima (C_j, L_j) — the form of GPT-4's and Llama 3's loss forecasts. For fixed E the model is
 * linear after a change of variable: ln(L_j − E) = ln k − γ·ln C_j, solved by least squares with
 * the delta-method weights ((L_j − E)/L_j)² (so its residuals approximate those in ln L), then
 * polished by Gauss–Newton steps on S itself in (ln k, γ). E is profiled: S at every E of a grid
 * over the allowed range [E_lo, E_hi) — by default [0, min_j L_j), clipped by the request's E
 * constraint — then a golden-section search in the best grid cell. With `E.fixed` only the inner
 * fit runs. E (3 parameters) needs 4 budgets; a fixed E, 3.
 *
 * @module
 */
import type { EConstraint } from "./law.ts";
import type { LossFrontier } from "./schema.ts";

/** Fewest budgets for a free-E frontier (3 parameters + 1 degree of freedom). */
export const MIN_FRONTIER_BUDGETS = 4;
/** Fewest budgets for a frontier with E fixed (2 parameters + 1). */
export const MIN_FRONTIER_BUDGETS_FIXED_E = 3;
/** Grid points of the E profile. */
const E_GRID = 48;
/** Golden-section iterations in the best cell (shrinks it by 0.618^40 ≈ 4e-9). */
const GOLDEN_ITERATIONS = 40;
/** Gauss–Newton steps of the inner (ln k, γ) fit. */
const GAUSS_NEWTON_STEPS = 6;
/** E closer than this fraction of the range to its end counts as on the bound. */
const AT_BOUND_REL = 1e-3;

/** The inner fit at one E. */
interface Inner {
  lnK: number;
  gamma: number;
  ssr: number;
}

/**
 * Fit ln(L − E) = ln k − γ·ln C at one E, then Gauss–Newton on Σ(ln(E + k·C^−γ) − ln L)².
 * Returns null when some L_j ≤ E or the normal equations are singular.
 */
function innerFit(lnC: readonly number[], loss: readonly number[], e: number): Inner | null {
  const n = lnC.length;
  let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let j = 0; j < n; j++) {
    const gap = loss[j]! - e;
    if (!(gap > 0)) return null;
    const w = (gap / loss[j]!) ** 2;
    const y = Math.log(gap);
    sw += w, sx += w * lnC[j]!, sy += w * y, sxx += w * lnC[j]! ** 2, sxy += w * lnC[j]! * y;
  }
  const det = sw * sxx - sx * sx;
  if (!(det > 0)) return null;
  const slope = (sw * sxy - sx * sy) / det;
  let lnK = (sy - slope * sx) / sw;
  let gamma = -slope;
  let ssr = frontierSsr(lnC, loss, e, lnK, gamma);
  // Gauss–Newton in (ln k, γ): r_j = ln(E + k·C^−γ) − ln L_j, u_j = k·C_j^−γ,
  // ∂r/∂ln k = u/(E + u), ∂r/∂γ = −ln C·u/(E + u).
  for (let step = 0; step < GAUSS_NEWTON_STEPS; step++) {
    let a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;
    for (let j = 0; j < n; j++) {
      const u = Math.exp(lnK - gamma * lnC[j]!);
      const r = Math.log(e + u) - Math.log(loss[j]!);
      const j1 = u / (e + u), j2 = -lnC[j]! * j1;
      a11 += j1 * j1, a12 += j1 * j2, a22 += j2 * j2, b1 += j1 * r, b2 += j2 * r;
    }
    const d = a11 * a22 - a12 * a12;
    if (!(d > 0)) break;
    const dK = -(a22 * b1 - a12 * b2) / d, dG = -(a11 * b2 - a12 * b1) / d;
    const next = frontierSsr(lnC, loss, e, lnK + dK, gamma + dG);
    if (!(next < ssr)) break;
    lnK += dK, gamma += dG, ssr = next;
  }
  return Number.isFinite(ssr) ? { lnK, gamma, ssr } : null;
}

/** S = Σ_j (ln(E + e^{ln k − γ·ln C_j}) − ln L_j)². */
function frontierSsr(
  lnC: readonly number[],
  loss: readonly number[],
  e: number,
  lnK: number,
  gamma: number,
): number {
  let s = 0;
  for (let j = 0; j < lnC.length; j++) {
    s += (Math.log(e + Math.exp(lnK - gamma * lnC[j]!)) - Math.log(loss[j]!)) ** 2;
  }
  return s;
}

/**
 * Fit L_opt(C) = E + k·C^(−γ) to per-budget optima.
 *
 * @param flops The budgets' C (FLOPs).
 * @param loss The budgets' optimum losses (parabola minima).
 * @param constraint The request's E constraint, if any.
 * @returns The frontier, or null with too few budgets, no feasible E, or γ ≤ 0.
 *
 * @example
 * ```ts
 * import { fitLossFrontier } from "./frontier.ts";
 * const flops = [1e18, 3e18, 1e19, 3e19, 1e20];
 * const loss = flops.map((c) => 1.8 + 2e3 * c ** -0.2);
 * const f = fitLossFrontier(flops, loss);
 * if (f === null || Math.abs(f.E - 1.8) > 1e-3) throw new Error("E not recovered");
 * ```
 */
export function fitLossFrontier(
  flops: readonly number[],
  loss: readonly number[],
  constraint?: EConstraint,
): LossFrontier | null {
  const n = flops.length;
  const lnC = flops.map(Math.log);
  const lowest = Math.min(...loss);
  if (!loss.every((l) => Number.isFinite(l) && l > 0)) return null;
  let best: (Inner & { e: number }) | null = null;
  let atBound = false;
  if (constraint?.fixed !== undefined) {
    if (n < MIN_FRONTIER_BUDGETS_FIXED_E) return null;
    const inner = innerFit(lnC, loss, constraint.fixed);
    if (inner !== null) best = { ...inner, e: constraint.fixed };
    atBound = true;
  } else {
    if (n < MIN_FRONTIER_BUDGETS) return null;
    const lo = constraint?.min ?? 0;
    // E must stay below every optimum: stop just short of the lowest.
    const hi = Math.min(constraint?.max ?? Infinity, lowest * (1 - 1e-9));
    if (!(hi > lo)) return null;
    const grid = Array.from({ length: E_GRID + 1 }, (_, i) => lo + ((hi - lo) * i) / E_GRID);
    const fits = grid.map((e) => innerFit(lnC, loss, e));
    let k = -1;
    fits.forEach((f, i) => {
      if (f !== null && (k < 0 || f.ssr < fits[k]!.ssr)) k = i;
    });
    if (k < 0) return null;
    // Golden section on the profile within the neighbouring cells.
    let a = grid[Math.max(0, k - 1)]!, b = grid[Math.min(E_GRID, k + 1)]!;
    const phi = (Math.sqrt(5) - 1) / 2;
    const prof = (e: number) => innerFit(lnC, loss, e)?.ssr ?? Infinity;
    let x1 = b - phi * (b - a), x2 = a + phi * (b - a);
    let f1 = prof(x1), f2 = prof(x2);
    for (let it = 0; it < GOLDEN_ITERATIONS; it++) {
      if (f1 < f2) b = x2, x2 = x1, f2 = f1, x1 = b - phi * (b - a), f1 = prof(x1);
      else a = x1, x1 = x2, f1 = f2, x2 = a + phi * (b - a), f2 = prof(x2);
    }
    const candidates = [grid[k]!, (a + b) / 2];
    for (const e of candidates) {
      const f = innerFit(lnC, loss, e);
      if (f !== null && (best === null || f.ssr < best.ssr)) best = { ...f, e };
    }
    if (best !== null) {
      const tol = AT_BOUND_REL * (hi - lo);
      atBound = best.e - lo < tol || hi - best.e < tol;
    }
  }
  if (best === null || !(best.gamma > 0)) return null;
  const lnL = loss.map(Math.log);
  const mean = lnL.reduce((s, v) => s + v, 0) / n;
  const ssTot = lnL.reduce((s, v) => s + (v - mean) ** 2, 0);
  return {
    E: best.e,
    k: Math.exp(best.lnK),
    gamma: best.gamma,
    r2: ssTot > 0 ? 1 - best.ssr / ssTot : 1,
    rmse_log: Math.sqrt(best.ssr / n),
    E_at_bound: atBound,
  };
}

/**
 * Evaluate the frontier at C.
 *
 * @param frontier The frontier.
 * @param flops C in FLOPs.
 * @returns E + k·C^(−γ).
 */
export function evalFrontier(frontier: LossFrontier, flops: number): number {
  return frontier.E + frontier.k * Math.pow(flops, -frontier.gamma);
}
