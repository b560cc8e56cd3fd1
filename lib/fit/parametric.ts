/**
 * Chinchilla Approach 3: L(N, D) = E + A/N^α + B/D^β fitted under a Huber loss on ln L.
 *
 * Method (Hoffmann et al. 2022, §D.2). With θ = (a, b, e, α, β), A = e^a, B = e^b,
 * E = e^e, minimise the SUM over points
 *
 *   f(θ) = Σ_i w_i · Huber_δ(LSE(a − α·ln N_i, b − β·ln D_i, e) − ln L_i),
 *   Huber_δ(r) = r²/2 for |r| ≤ δ, δ·(|r| − δ/2) otherwise, δ = 1e-3,
 *
 * (w_i = 1, or the bootstrap's resample counts) with L-BFGS and analytic gradients:
 * with ψ = Huber'_δ(r) and p = softmax(a − α ln N, b − β ln D, e),
 * ∂f/∂a = Σ w ψ p₁, ∂f/∂α = −Σ w ψ p₁ ln N, ∂f/∂b = Σ w ψ p₂, ∂f/∂β = −Σ w ψ p₂ ln D,
 * ∂f/∂e = Σ w ψ p₃.
 *
 * Internally a and b are measured at the data's centre (a' = a − α·mean ln N), which
 * is the same objective in better-conditioned coordinates.
 *
 * Starts. `grid` runs L-BFGS from every one of Chinchilla's 4,500 starts
 * (α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}). `varpro`
 * (default) scores far more starts for less: (1) variable projection — for each
 * (α, β) on a 0.025-spaced grid over (0, 2.5]², the model is linear in (E, A, B),
 * solved by least squares in relative error (≈ log error); (2) the exact objective at
 * all 4,500 Chinchilla starts; then L-BFGS polishes the best distinct starts of both
 * lists on the exact objective and keeps the lowest f, which a damped Newton polish
 * ({@link ./newton.ts}) then finishes where the objective is smooth. `tests/lib/fit/parametric_test.ts`
 * checks that it reaches the `grid` optimum.
 *
 * A known floor. With `E: {fixed: x}` the objective is minimised over (a, b, α, β) with
 * e = ln x held (VarPro then solves for (A', B') only, on L − x). With bounds `{min, max}`
 * the free fit is kept when its E lies inside them; otherwise E is fixed at the bound it
 * crossed and the law refitted (for an objective unimodal in e — its profile over e — the
 * constrained optimum lies on the bound the free optimum crossed).
 *
 * The joint form (`form: "joint"`). L = E + (A/N^α + B/D^β)^γ, θ = (a, b, e, α, β, g = ln γ),
 * minimised on the same Huber objective ({@link ./objective.ts} `jointLogObjective`): the additive
 * fit above first (its starts and polish), then L-BFGS from that optimum rescaled to each γ in
 * {@linkcode JOINT_GAMMAS} (inner a, b, α, β divided by γ, so that γ·(a/γ − α/γ·ln N) keeps the
 * additive fit's N term) and from any extra 6-parameter starts; the lowest f, Newton-polished,
 * wins. It is never worse on the fitted points than the additive fit (γ = 1 is a start).
 *
 * @module
 */
import { lbfgs, type LbfgsResult } from "./lbfgs.ts";
import { type EConstraint, type Law, type ParametricData, type Theta, thetaToLaw } from "./law.ts";
import { newtonPolish } from "./newton.ts";
import {
  centre,
  fromCentred,
  huberLogObjective,
  jointLogObjective,
  toCentred,
} from "./objective.ts";
import {
  chinchillaGrid,
  distinctBest,
  type Start,
  VARPRO_MAX_EXPONENT,
  VARPRO_STEP,
  VARPRO_STEP_QUICK,
  varproStarts,
} from "./starts.ts";

export * from "./law.ts";
export { huberLogObjective } from "./objective.ts";
export { chinchillaGrid } from "./starts.ts";

/** Result of {@linkcode fitParametric}. */
export interface ParametricFit {
  /** The law. */
  law: Law;
  /** θ in the original coordinates. */
  theta: Theta;
  /** Σ Huber at the optimum. */
  objective: number;
  /** L-BFGS outcome of the winning start. */
  converged: boolean;
  /** L-BFGS stop reason of the winning start. */
  status: string;
  /** L-BFGS iterations of the winning start. */
  iterations: number;
  /** Starts scored. */
  nStarts: number;
  /** Starts polished with L-BFGS. */
  nPolished: number;
  /** Objective evaluations over all polishes. */
  evaluations: number;
  /** E is fixed by the constraint, or sits on one of its bounds. */
  eAtBound: boolean;
  /** The law's form: additive E + A/N^α + B/D^β, or joint E + (A/N^α + B/D^β)^γ. */
  form: LawForm;
}

/** Form of the Approach 3 law: `additive` (Chinchilla) or `joint` (with an outer exponent γ). */
export type LawForm = "additive" | "joint";

/** Options of {@linkcode fitParametric}. */
export interface ParametricOptions {
  /** Huber δ. */
  huberDelta: number;
  /** Start strategy. */
  multistart: "varpro" | "grid";
  /** Per-point weights (bootstrap counts); all 1 when omitted. */
  weights?: Float64Array;
  /** Extra starts (θ in original coordinates), e.g. the full-data optimum for a bootstrap refit. */
  extraStarts?: Theta[];
  /** Skip the 4,500-start scoring and use a coarser VarPro grid (bootstrap refits). */
  quick?: boolean;
  /** Constraint on E; free when omitted. */
  E?: EConstraint;
  /** Form of the law. @default "additive" */
  form?: LawForm;
}

/**
 * L-BFGS tolerances for polishing on the summed objective: tighter than SciPy's
 * defaults so noiseless data recover the law to 1e-4 relative; the ftol is relative
 * to max(|f|, 1), i.e. ~1e-14 absolute for a near-zero noiseless objective.
 */
export const POLISH_GTOL = 1e-10;
/** See {@linkcode POLISH_GTOL}. */
export const POLISH_FTOL = 1e-14;
/** Iteration cap for one polish (typical runs need 30–300). */
export const POLISH_MAX_ITER = 3000;
/** Best distinct VarPro cells polished in a full fit. */
const VARPRO_POLISH = 6;
/** Best Chinchilla-grid starts polished in a full fit. */
const GRID_POLISH = 6;
/** Starting γ of the joint form's polish (full fit), around γ = 1 (the additive optimum). */
export const JOINT_GAMMAS = [0.2, 0.3, 0.45, 0.7, 1, 1.5, 2.5];
/** Starting γ of a quick (bootstrap) joint refit, besides the warm starts. */
const JOINT_GAMMAS_QUICK = [0.45, 1];

/**
 * Fit Approach 3.
 *
 * @param data ln N, ln D, ln L per point.
 * @param options Huber δ, start strategy, weights.
 * @returns The best fit over all polished starts.
 *
 * @example
 * ```ts
 * import { fitParametric } from "./parametric.ts";
 * const lnParams = [], lnData = [], lnLoss = [];
 * for (const C of [1e18, 1e19, 1e20]) for (const N of [3e7, 1e8, 3e8, 1e9]) {
 *   const D = C / (6 * N);
 *   lnParams.push(Math.log(N)); lnData.push(Math.log(D));
 *   lnLoss.push(Math.log(1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28));
 * }
 * const fit = fitParametric({ lnParams: Float64Array.from(lnParams), lnData: Float64Array.from(lnData), lnLoss: Float64Array.from(lnLoss) }, { huberDelta: 1e-3, multistart: "varpro" });
 * if (Math.abs(fit.law.E - 1.69) > 1e-3) throw new Error("E not recovered");
 * ```
 */
export function fitParametric(data: ParametricData, options: ParametricOptions): ParametricFit {
  const canonical = canonicalOrder(data, options.weights);
  if (canonical !== null) {
    return fitParametric(canonical.data, { ...options, weights: canonical.weights });
  }
  const e = options.E;
  const fit = options.form === "joint" ? fitJointWithE : fitWithE;
  if (e?.fixed !== undefined) return fit(data, options, Math.log(e.fixed));
  const free = fit(data, options, undefined);
  if (e?.min !== undefined && free.law.E < e.min) return fit(data, options, Math.log(e.min));
  if (e?.max !== undefined && free.law.E > e.max) return fit(data, options, Math.log(e.max));
  return free;
}

/**
 * The points in one canonical order — ascending (ln N, ln D, ln L, weight) — so that the
 * optimiser's sums, starts and stopping point do not depend on the order the caller listed them
 * in (floating-point sums are not associative: without this, L-BFGS could stop one iteration
 * apart, with `converged` differing, on the same points shuffled).
 *
 * @returns The permuted data and weights, or null when the points are already in that order.
 */
function canonicalOrder(
  data: ParametricData,
  weights: Float64Array | undefined,
): { data: ParametricData; weights: Float64Array | undefined } | null {
  const n = data.lnParams.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const key = (
    i: number,
  ) => [data.lnParams[i]!, data.lnData[i]!, data.lnLoss[i]!, weights?.[i] ?? 1];
  order.sort((i, j) => {
    const a = key(i), b = key(j);
    for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
    return 0;
  });
  if (order.every((v, i) => v === i)) return null;
  const pick = (values: ArrayLike<number>) => Float64Array.from(order, (i) => values[i]!);
  return {
    data: { lnParams: pick(data.lnParams), lnData: pick(data.lnData), lnLoss: pick(data.lnLoss) },
    weights: weights === undefined ? undefined : pick(weights),
  };
}

/**
 * The joint form with e = ln E free (`lnE` undefined) or held: the additive fit, then L-BFGS
 * from its optimum rescaled to each starting γ and from the 6-parameter extra starts.
 */
function fitJointWithE(
  data: ParametricData,
  options: ParametricOptions,
  lnE: number | undefined,
): ParametricFit {
  const extra = options.extraStarts ?? [];
  const additive = fitWithE(data, {
    ...options,
    form: "additive",
    extraStarts: extra.map((t) => t.slice(0, 5)),
  }, lnE);
  const c = centre(data, options.weights);
  const fg6 = (t: Float64Array, g: Float64Array) =>
    jointLogObjective(t, g, c.xN, c.xD, c.lnLoss, options.huberDelta, options.weights);
  // With E fixed, optimise over (a', b', α, β, g): ∂f/∂e dropped.
  const full6 = new Float64Array(6);
  const g6 = new Float64Array(6);
  const fg = lnE === undefined ? fg6 : (t: Float64Array, g: Float64Array) => {
    full6[0] = t[0]!, full6[1] = t[1]!, full6[2] = lnE, full6[3] = t[2]!;
    full6[4] = t[3]!, full6[5] = t[4]!;
    const f = fg6(full6, g6);
    g[0] = g6[0]!, g[1] = g6[1]!, g[2] = g6[3]!, g[3] = g6[4]!, g[4] = g6[5]!;
    return f;
  };
  const reduce = (t: Float64Array) =>
    lnE === undefined ? t : Float64Array.of(t[0]!, t[1]!, t[3]!, t[4]!, t[5]!);
  const expand = (t: ArrayLike<number>) =>
    lnE === undefined
      ? Float64Array.from(t)
      : Float64Array.of(t[0]!, t[1]!, lnE, t[2]!, t[3]!, t[4]!);
  const t0 = toCentred(additive.theta, c);
  const starts: Float64Array[] = (options.quick ? JOINT_GAMMAS_QUICK : JOINT_GAMMAS).map((gamma) =>
    Float64Array.of(
      t0[0]! / gamma,
      t0[1]! / gamma,
      t0[2]!,
      t0[3]! / gamma,
      t0[4]! / gamma,
      Math.log(gamma),
    )
  );
  for (const t of extra) if (t.length === 6) starts.push(toCentred(t, c));
  let best: LbfgsResult | null = null;
  let evaluations = additive.evaluations;
  for (const s of starts) {
    const res = lbfgs(fg, reduce(s), {
      gtol: POLISH_GTOL,
      ftol: POLISH_FTOL,
      maxIterations: POLISH_MAX_ITER,
    });
    evaluations += res.evaluations;
    if (
      Number.isFinite(res.f) && res.x.every(Number.isFinite) &&
      (best === null || res.f < best.f)
    ) best = res;
  }
  if (best === null) throw new RangeError("no joint-form start gave a finite objective");
  const polished = newtonPolish(fg, best.x);
  const x = expand(polished.f < best.f ? polished.x : best.x);
  const theta = fromCentred(x, c);
  return {
    law: thetaToLaw(theta),
    theta,
    objective: Math.min(polished.f, best.f),
    converged: best.converged,
    status: polished.steps > 0
      ? `${best.status}; then ${polished.steps} Newton step(s)`
      : best.status,
    iterations: best.iterations,
    nStarts: additive.nStarts + starts.length,
    nPolished: additive.nPolished + starts.length,
    evaluations,
    eAtBound: lnE !== undefined,
    form: "joint",
  };
}

/** Drop θ's e (index 2): the coordinates of a fit with E fixed. */
function withoutE(t: ArrayLike<number>): Float64Array {
  return Float64Array.of(t[0]!, t[1]!, t[3]!, t[4]!);
}

/** The fit with e = ln E free (`lnE` undefined) or held at `lnE`. */
function fitWithE(
  data: ParametricData,
  options: ParametricOptions,
  lnE: number | undefined,
): ParametricFit {
  const c = centre(data, options.weights);
  const grad = new Float64Array(5);
  const fg5 = (t: Float64Array, g: Float64Array) =>
    huberLogObjective(t, g, c.xN, c.xD, c.lnLoss, options.huberDelta, options.weights);
  // With E fixed, optimise over (a', b', α, β): θ = (a', b', ln E, α, β), ∂f/∂e dropped.
  const full5 = new Float64Array(5);
  const g5 = new Float64Array(5);
  const fg = lnE === undefined ? fg5 : (t: Float64Array, g: Float64Array) => {
    full5[0] = t[0]!, full5[1] = t[1]!, full5[2] = lnE, full5[3] = t[2]!, full5[4] = t[3]!;
    const f = fg5(full5, g5);
    g[0] = g5[0]!, g[1] = g5[1]!, g[2] = g5[3]!, g[3] = g5[4]!;
    return f;
  };
  const reduce = (t: Float64Array) => lnE === undefined ? t : withoutE(t);
  const expand = (t: ArrayLike<number>) =>
    lnE === undefined ? Float64Array.from(t) : Float64Array.of(t[0]!, t[1]!, lnE, t[2]!, t[3]!);
  const fixedE = lnE === undefined ? undefined : Math.exp(lnE);
  const score = (t: Float64Array): Start => ({ theta: t, score: fg(reduce(t), grad) });
  let starts: Start[];
  let nStarts: number;
  const extra = (options.extraStarts ?? []).map((t) => score(toCentred(t, c)));
  if (options.multistart === "grid") {
    starts = chinchillaGrid().map((t) => score(toCentred(t, c)));
    nStarts = starts.length;
    starts.push(...extra);
  } else if (options.quick) {
    const vp = varproStarts(c, VARPRO_STEP_QUICK, 2, options.weights, fixedE)
      .map((s) => score(s.theta));
    nStarts = Math.round(VARPRO_MAX_EXPONENT / VARPRO_STEP_QUICK) ** 2 + extra.length;
    starts = [...extra, ...distinctBest(vp, 2)];
  } else {
    const count = Math.round(VARPRO_MAX_EXPONENT / VARPRO_STEP) ** 2;
    const vp = varproStarts(c, VARPRO_STEP, 4 * VARPRO_POLISH, options.weights, fixedE)
      .map((s) => score(s.theta));
    const grid = chinchillaGrid().map((t) => score(toCentred(t, c)));
    nStarts = count + grid.length + extra.length;
    starts = [
      ...extra,
      ...distinctBest(vp, VARPRO_POLISH),
      ...distinctBest(grid, GRID_POLISH),
    ];
  }
  let best: LbfgsResult | null = null;
  let nPolished = 0;
  let evaluations = 0;
  for (const s of starts) {
    if (!Number.isFinite(s.score)) continue;
    const res = lbfgs(fg, reduce(s.theta), {
      gtol: POLISH_GTOL,
      ftol: POLISH_FTOL,
      maxIterations: POLISH_MAX_ITER,
    });
    nPolished++;
    evaluations += res.evaluations;
    if (
      Number.isFinite(res.f) && res.x.every(Number.isFinite) &&
      (best === null || res.f < best.f)
    ) best = res;
  }
  if (best === null) throw new RangeError("no start gave a finite objective");
  // L-BFGS stalls on very flat optima (e.g. a term worth 1e-4 of the loss); Newton
  // steps on the winner finish the job where the objective is smooth.
  const polished = newtonPolish(fg, best.x);
  const x = expand(polished.f < best.f ? polished.x : best.x);
  const objective = Math.min(polished.f, best.f);
  const theta = fromCentred(x, c);
  return {
    law: thetaToLaw(theta),
    theta,
    objective,
    converged: best.converged,
    status: polished.steps > 0
      ? `${best.status}; then ${polished.steps} Newton step(s)`
      : best.status,
    iterations: best.iterations,
    nStarts,
    nPolished,
    evaluations,
    eAtBound: lnE !== undefined,
    form: "additive",
  };
}
