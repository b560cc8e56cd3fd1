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
 * lists on the exact objective and keeps the lowest f. `tests/lib/fit/parametric_test.ts`
 * checks that it reaches the `grid` optimum.
 *
 * @module
 */
import { lbfgs, type LbfgsResult } from "./lbfgs.ts";
import { solve3 } from "./linalg.ts";

/** Data for the objective, already in logs. */
export interface ParametricData {
  /** ln N per point. */
  lnParams: Float64Array;
  /** ln D per point. */
  lnData: Float64Array;
  /** ln L per point. */
  lnLoss: Float64Array;
}

/** θ = [a, b, e, α, β] with A = e^a, B = e^b, E = e^e. */
export type Theta = Float64Array;

/** The fitted law in natural units. */
export interface Law {
  /** Irreducible loss. */
  E: number;
  /** Parameter-term coefficient. */
  A: number;
  /** Data-term coefficient. */
  B: number;
  /** Parameter exponent. */
  alpha: number;
  /** Data exponent. */
  beta: number;
}

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
}

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
/** VarPro grid spacing in α and β (full fit). */
export const VARPRO_STEP = 0.025;
/** VarPro grid spacing in α and β for bootstrap refits (coarser, warm-started). */
export const VARPRO_STEP_QUICK = 0.1;
/** Largest exponent on the VarPro grid (Chinchilla's grid stops at 2). */
export const VARPRO_MAX_EXPONENT = 2.5;
/** Best distinct VarPro cells polished in a full fit. */
const VARPRO_POLISH = 6;
/** Best Chinchilla-grid starts polished in a full fit. */
const GRID_POLISH = 6;
/** Starts closer than this (max-norm in θ) count as the same start. */
const SAME_START = 0.05;

/**
 * The objective f(θ) and its gradient, in coordinates centred at (cN, cD).
 *
 * @param theta [a', b', e, α, β] with a' = a − α·cN, b' = b − β·cD.
 * @param grad Receives ∇f.
 * @param xN ln N − cN.
 * @param xD ln D − cD.
 * @param lnLoss ln L.
 * @param delta Huber δ.
 * @param weights Per-point weights or undefined for all 1.
 * @returns f(θ).
 */
export function huberLogObjective(
  theta: Float64Array,
  grad: Float64Array,
  xN: Float64Array,
  xD: Float64Array,
  lnLoss: Float64Array,
  delta: number,
  weights?: Float64Array,
): number {
  const a = theta[0]!, b = theta[1]!, e = theta[2]!, alpha = theta[3]!, beta = theta[4]!;
  let f = 0, ga = 0, gb = 0, ge = 0, gal = 0, gbe = 0;
  const n = lnLoss.length;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) continue;
    const xn = xN[i]!, xd = xD[i]!;
    const u = a - alpha * xn;
    const v = b - beta * xd;
    const m = u > v ? (u > e ? u : e) : (v > e ? v : e);
    const eu = Math.exp(u - m), ev = Math.exp(v - m), ee = Math.exp(e - m);
    const s = eu + ev + ee;
    const r = m + Math.log(s) - lnLoss[i]!;
    let psi: number;
    if (r > delta) {
      f += w * delta * (r - 0.5 * delta);
      psi = delta;
    } else if (r < -delta) {
      f += w * delta * (-r - 0.5 * delta);
      psi = -delta;
    } else {
      f += w * 0.5 * r * r;
      psi = r;
    }
    const q = (w * psi) / s;
    const pu = q * eu, pv = q * ev;
    ga += pu;
    gb += pv;
    ge += q * ee;
    gal -= pu * xn;
    gbe -= pv * xd;
  }
  grad[0] = ga;
  grad[1] = gb;
  grad[2] = ge;
  grad[3] = gal;
  grad[4] = gbe;
  return f;
}

/** Centred copies of the data plus the centres. */
interface Centred {
  xN: Float64Array;
  xD: Float64Array;
  lnLoss: Float64Array;
  loss: Float64Array;
  cN: number;
  cD: number;
}

function centre(data: ParametricData, weights?: Float64Array): Centred {
  let sw = 0, sN = 0, sD = 0;
  for (let i = 0; i < data.lnLoss.length; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    sw += w;
    sN += w * data.lnParams[i]!;
    sD += w * data.lnData[i]!;
  }
  const cN = sN / sw, cD = sD / sw;
  return {
    xN: data.lnParams.map((v) => v - cN),
    xD: data.lnData.map((v) => v - cD),
    lnLoss: data.lnLoss,
    loss: data.lnLoss.map(Math.exp),
    cN,
    cD,
  };
}

/** Original θ → centred θ. */
function toCentred(theta: ArrayLike<number>, c: Centred): Float64Array {
  return Float64Array.of(
    theta[0]! - theta[3]! * c.cN,
    theta[1]! - theta[4]! * c.cD,
    theta[2]!,
    theta[3]!,
    theta[4]!,
  );
}

/** Centred θ → original θ. */
function fromCentred(theta: ArrayLike<number>, c: Centred): Theta {
  return Float64Array.of(
    theta[0]! + theta[3]! * c.cN,
    theta[1]! + theta[4]! * c.cD,
    theta[2]!,
    theta[3]!,
    theta[4]!,
  );
}

/**
 * Chinchilla's 4,500 starts: α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}.
 *
 * @returns θ = [a, b, e, α, β] per start.
 */
export function chinchillaGrid(): Theta[] {
  const out: Theta[] = [];
  for (let ia = 0; ia <= 5; ia++) {
    for (let ib = 0; ib <= 5; ib++) {
      for (let ie = 0; ie <= 4; ie++) {
        for (let ial = 0; ial <= 4; ial++) {
          for (let ibe = 0; ibe <= 4; ibe++) {
            out.push(Float64Array.of(5 * ia, 5 * ib, -1 + 0.5 * ie, 0.5 * ial, 0.5 * ibe));
          }
        }
      }
    }
  }
  return out;
}

/** A scored start in centred coordinates. */
interface Start {
  theta: Float64Array;
  score: number;
}

/**
 * Variable projection over an (α, β) grid: for fixed exponents the law is linear in
 * (E, A', B') with features 1, e^{−α·xN}, e^{−β·xD}; solve the least squares in
 * relative error Σ w·((Ê − L)/L)² (≈ Σ w·(ln Ê − ln L)²) through 3×3 normal
 * equations, keep cells with E, A', B' > 0, and return the local minima of the
 * residual over the grid, best first.
 *
 * Per-α and per-β sums are computed once; only the cross sum Σ q·x·y is per cell.
 */
function varproStarts(c: Centred, step: number, keep: number, weights?: Float64Array): Start[] {
  const n = c.lnLoss.length;
  const count = Math.round(VARPRO_MAX_EXPONENT / step);
  const exps = Array.from({ length: count }, (_, k) => (k + 1) * step);
  const q = new Float64Array(n); // w / L²
  let s1 = 0, sL = 0, sLL = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    const L = c.loss[i]!;
    q[i] = w / (L * L);
    s1 += q[i]!;
    sL += q[i]! * L;
    sLL += q[i]! * L * L;
  }
  const feats = (x: Float64Array) =>
    exps.map((p) => {
      const f = new Float64Array(n);
      let sx = 0, sxx = 0, sxL = 0;
      for (let i = 0; i < n; i++) {
        const v = Math.exp(-p * x[i]!);
        f[i] = v;
        sx += q[i]! * v;
        sxx += q[i]! * v * v;
        sxL += q[i]! * v * c.loss[i]!;
      }
      return { f, sx, sxx, sxL };
    });
  const fa = feats(c.xN);
  const fb = feats(c.xD);
  const ssr = new Float64Array(count * count).fill(Infinity);
  const coef: (Float64Array | null)[] = new Array(count * count).fill(null);
  const m = new Float64Array(9);
  const r = new Float64Array(3);
  for (let ia = 0; ia < count; ia++) {
    const A = fa[ia]!;
    for (let ib = 0; ib < count; ib++) {
      const B = fb[ib]!;
      let sxy = 0;
      const x = A.f, y = B.f;
      for (let i = 0; i < n; i++) sxy += q[i]! * x[i]! * y[i]!;
      m[0] = s1, m[1] = A.sx, m[2] = B.sx;
      m[3] = A.sx, m[4] = A.sxx, m[5] = sxy;
      m[6] = B.sx, m[7] = sxy, m[8] = B.sxx;
      r[0] = sL, r[1] = A.sxL, r[2] = B.sxL;
      const sol = solve3(m, r);
      if (sol === null || !(sol[0] > 0 && sol[1] > 0 && sol[2] > 0)) continue;
      // SSR = Σq·L² − 2·solᵀr + solᵀ·M·sol = Σq·L² − solᵀr at the least-squares solution.
      ssr[ia * count + ib] = sLL - (sol[0] * r[0]! + sol[1] * r[1]! + sol[2] * r[2]!);
      coef[ia * count + ib] = Float64Array.of(sol[0], sol[1], sol[2]);
    }
  }
  const minima: Start[] = [];
  for (let ia = 0; ia < count; ia++) {
    for (let ib = 0; ib < count; ib++) {
      const v = ssr[ia * count + ib]!;
      if (!Number.isFinite(v)) continue;
      let isMin = true;
      for (let da = -1; da <= 1 && isMin; da++) {
        for (let db = -1; db <= 1; db++) {
          const ja = ia + da, jb = ib + db;
          if ((da || db) && ja >= 0 && jb >= 0 && ja < count && jb < count) {
            if (ssr[ja * count + jb]! < v) {
              isMin = false;
              break;
            }
          }
        }
      }
      if (!isMin) continue;
      const k = coef[ia * count + ib]!;
      minima.push({
        theta: Float64Array.of(
          Math.log(k[1]!),
          Math.log(k[2]!),
          Math.log(k[0]!),
          exps[ia]!,
          exps[ib]!,
        ),
        score: v,
      });
    }
  }
  minima.sort((s, t) => s.score - t.score);
  return minima.slice(0, keep);
}

/** Keep the `keep` best starts that differ by more than SAME_START in max-norm. */
function distinctBest(starts: Start[], keep: number): Start[] {
  const out: Start[] = [];
  for (const s of [...starts].sort((p, q) => p.score - q.score)) {
    if (!Number.isFinite(s.score)) continue;
    if (out.some((o) => o.theta.every((v, i) => Math.abs(v - s.theta[i]!) < SAME_START))) continue;
    out.push(s);
    if (out.length === keep) break;
  }
  return out;
}

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
  const c = centre(data, options.weights);
  const grad = new Float64Array(5);
  const fg = (t: Float64Array, g: Float64Array) =>
    huberLogObjective(t, g, c.xN, c.xD, c.lnLoss, options.huberDelta, options.weights);
  const score = (t: Float64Array): Start => ({ theta: t, score: fg(t, grad) });
  let starts: Start[];
  let nStarts: number;
  const extra = (options.extraStarts ?? []).map((t) => score(toCentred(t, c)));
  if (options.multistart === "grid") {
    starts = chinchillaGrid().map((t) => score(toCentred(t, c)));
    nStarts = starts.length;
    starts.push(...extra);
  } else if (options.quick) {
    const vp = varproStarts(c, VARPRO_STEP_QUICK, 2, options.weights).map((s) => score(s.theta));
    nStarts = Math.round(VARPRO_MAX_EXPONENT / VARPRO_STEP_QUICK) ** 2 + extra.length;
    starts = [...extra, ...distinctBest(vp, 2)];
  } else {
    const count = Math.round(VARPRO_MAX_EXPONENT / VARPRO_STEP) ** 2;
    const vp = varproStarts(c, VARPRO_STEP, 4 * VARPRO_POLISH, options.weights)
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
    const res = lbfgs(fg, s.theta, {
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
  const theta = fromCentred(best.x, c);
  return {
    law: thetaToLaw(theta),
    theta,
    objective: best.f,
    converged: best.converged,
    status: best.status,
    iterations: best.iterations,
    nStarts,
    nPolished,
    evaluations,
  };
}

/**
 * θ = [a, b, e, α, β] → {E, A, B, α, β}.
 *
 * @param theta Parameters in log space.
 * @returns The law.
 */
export function thetaToLaw(theta: ArrayLike<number>): Law {
  return {
    E: Math.exp(theta[2]!),
    A: Math.exp(theta[0]!),
    B: Math.exp(theta[1]!),
    alpha: theta[3]!,
    beta: theta[4]!,
  };
}

/**
 * Loss the law predicts: E + A/N^α + B/D^β, computed as exp(LSE(...)) for range safety.
 *
 * @param law The law.
 * @param params N.
 * @param data D.
 * @returns Predicted loss.
 */
export function predictLoss(law: Law, params: number, data: number): number {
  return law.E + law.A * Math.pow(params, -law.alpha) + law.B * Math.pow(data, -law.beta);
}

/** Compute-optimal allocation of one budget. */
export interface Allocation {
  /** N_opt. */
  params: number;
  /** D_opt. */
  data: number;
  /** Predicted loss at the optimum. */
  loss: number;
}

/**
 * Compute-optimal allocation under C = m·N·D (Hoffmann et al. eq. 4, with 6 → m):
 * N_opt = G·(C/m)^a, D_opt = G⁻¹·(C/m)^b, a = β/(α+β), b = α/(α+β),
 * G = (αA/(βB))^{1/(α+β)}.
 *
 * @param law The law (α, β > 0).
 * @param flops C.
 * @param flopsPerParamToken m.
 * @returns N_opt, D_opt and the loss there.
 */
export function computeOptimal(law: Law, flops: number, flopsPerParamToken: number): Allocation {
  const { a, b, G } = exponentsOf(law);
  const base = flops / flopsPerParamToken;
  const params = G * Math.pow(base, a);
  const data = Math.pow(base, b) / G;
  return { params, data, loss: predictLoss(law, params, data) };
}

/**
 * a = β/(α+β), b = α/(α+β), G = (αA/(βB))^{1/(α+β)}, computed in logs.
 *
 * @param law The law.
 * @returns a, b and G.
 */
export function exponentsOf(law: Law): { a: number; b: number; G: number } {
  const s = law.alpha + law.beta;
  const lnG = (Math.log(law.alpha) + Math.log(law.A) - Math.log(law.beta) - Math.log(law.B)) / s;
  return { a: law.beta / s, b: law.alpha / s, G: Math.exp(lnG) };
}

/**
 * Per-point residuals ln L̂ − ln L.
 *
 * @param law The law.
 * @param data ln N, ln D, ln L.
 * @returns Residuals in point order.
 */
export function logResiduals(law: Law, data: ParametricData): number[] {
  return Array.from(
    data.lnLoss,
    (lnL, i) =>
      Math.log(predictLoss(law, Math.exp(data.lnParams[i]!), Math.exp(data.lnData[i]!))) - lnL,
  );
}
