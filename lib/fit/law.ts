/**
 * The law L(N, D) = E + A/N^α + B/D^β and what follows from it: predicted loss, the
 * compute-optimal allocation, and residuals.
 *
 * The `joint` form L(N, D) = E + (A/N^α + B/D^β)^γ (γ > 0; γ = 1 is the additive law above)
 * nests Chinchilla's form and Kaplan et al. (2020, eq. 1.5) L = ((N_c/N)^(α_N/α_D) + D_c/D)^α_D
 * (E = 0, β = 1, γ = α_D). Because x ↦ x^γ is increasing, both forms share the compute-optimal
 * allocation of their inner terms A/N^α + B/D^β; only the loss there differs.
 *
 * @module
 */

/** Data for the objective, already in logs. */
export interface ParametricData {
  /** ln N per point. */
  lnParams: Float64Array;
  /** ln D per point. */
  lnData: Float64Array;
  /** ln L per point. */
  lnLoss: Float64Array;
}

/** A constraint on E (the request's `E`). */
export interface EConstraint {
  /** E is this value. */
  fixed?: number;
  /** E ≥ this. */
  min?: number;
  /** E ≤ this. */
  max?: number;
}

/**
 * What every refit of a sweep's laws shares, under one set of names: the bootstrap, the backtest,
 * leave-one-budget-out sensitivity and the recommendation's forecasters each take these. The law's
 * form travels with the fit being refitted (`ParametricFit.form`); only the backtest, which fits
 * its training budgets afresh, takes a `form` of its own.
 */
export interface LawOptions {
  /** Huber δ of the log-loss residuals. */
  huberDelta: number;
  /** m in C = m·N·D. */
  flopsPerParamToken: number;
  /** Constraint on E (Approach 3 and the loss frontier). */
  E?: EConstraint;
}

/** θ = [a, b, e, α, β] with A = e^a, B = e^b, E = e^e; the joint form appends g = ln γ. */
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
  /** Outer exponent γ of the joint form E + (A/N^α + B/D^β)^γ; absent for the additive form. */
  gamma?: number;
}

/**
 * θ = [a, b, e, α, β] → {E, A, B, α, β}.
 *
 * @param theta Parameters in log space.
 * @returns The law.
 */
export function thetaToLaw(theta: ArrayLike<number>): Law {
  const law: Law = {
    E: Math.exp(theta[2]!),
    A: Math.exp(theta[0]!),
    B: Math.exp(theta[1]!),
    alpha: theta[3]!,
    beta: theta[4]!,
  };
  if (theta.length > 5) law.gamma = Math.exp(theta[5]!);
  return law;
}

/**
 * Loss the law predicts: E + A/N^α + B/D^β, or E + (A/N^α + B/D^β)^γ for the joint form.
 *
 * @param law The law.
 * @param params N.
 * @param data D.
 * @returns Predicted loss.
 */
export function predictLoss(law: Law, params: number, data: number): number {
  const inner = law.A * Math.pow(params, -law.alpha) + law.B * Math.pow(data, -law.beta);
  return law.E + (law.gamma === undefined ? inner : Math.pow(inner, law.gamma));
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
 * G = (αA/(βB))^{1/(α+β)}; the same for the joint form (it minimises the same inner sum).
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
