/**
 * The Approach 3 objective and the centred coordinates it is minimised in.
 *
 * f(θ) = Σ_i w_i · Huber_δ(LSE(a − α·ln N_i, b − β·ln D_i, e) − ln L_i),
 * Huber_δ(r) = r²/2 for |r| ≤ δ, δ·(|r| − δ/2) otherwise. With ψ = Huber'_δ(r) and
 * p = softmax(a − α ln N, b − β ln D, e): ∂f/∂a = Σ w ψ p₁, ∂f/∂α = −Σ w ψ p₁ ln N,
 * ∂f/∂b = Σ w ψ p₂, ∂f/∂β = −Σ w ψ p₂ ln D, ∂f/∂e = Σ w ψ p₃.
 *
 * Centring: a − α·ln N = (a − α·c_N) − α·(ln N − c_N), so measuring a at the data's
 * mean ln N (and b at mean ln D) is the same objective in better-conditioned
 * coordinates; {@linkcode toCentred} / {@linkcode fromCentred} convert θ.
 *
 * @module
 */
import type { ParametricData, Theta } from "./law.ts";

/** Huber_δ(r) = r²/2 for |r| ≤ δ, δ·(|r| − δ/2) otherwise. */
function huber(r: number, delta: number): number {
  if (r > delta) return delta * (r - 0.5 * delta);
  if (r < -delta) return delta * (-r - 0.5 * delta);
  return 0.5 * r * r;
}

/** Huber'_δ(r) = r clamped to [−δ, δ]. */
function huberSlope(r: number, delta: number): number {
  return r > delta ? delta : r < -delta ? -delta : r;
}

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
    f += w * huber(r, delta);
    const psi = huberSlope(r, delta);
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

/**
 * The joint-form objective f(θ) = Σ_i w_i · Huber_δ(LSE(γ·T_i, e) − ln L_i) with
 * T_i = LSE(a − α·ln N_i, b − β·ln D_i), γ = e^g, i.e. ln(E + (A/N^α + B/D^β)^γ), and its
 * gradient, in coordinates centred at (cN, cD). With ψ = Huber'_δ(r), σ = e^{γT}/(e^{γT} + e^e)
 * and π = softmax(a − α ln N, b − β ln D): ∂f/∂a = Σ w ψ σ γ π₁, ∂f/∂α = −Σ w ψ σ γ π₁ ln N,
 * ∂f/∂b = Σ w ψ σ γ π₂, ∂f/∂β = −Σ w ψ σ γ π₂ ln D, ∂f/∂e = Σ w ψ (1 − σ),
 * ∂f/∂g = Σ w ψ σ γ T.
 *
 * @param theta [a', b', e, α, β, g] with a' = a − α·cN, b' = b − β·cD, g = ln γ.
 * @param grad Receives ∇f (6 entries).
 * @param xN ln N − cN.
 * @param xD ln D − cD.
 * @param lnLoss ln L.
 * @param delta Huber δ.
 * @param weights Per-point weights or undefined for all 1.
 * @returns f(θ).
 */
export function jointLogObjective(
  theta: Float64Array,
  grad: Float64Array,
  xN: Float64Array,
  xD: Float64Array,
  lnLoss: Float64Array,
  delta: number,
  weights?: Float64Array,
): number {
  const a = theta[0]!, b = theta[1]!, e = theta[2]!, alpha = theta[3]!, beta = theta[4]!;
  const gamma = Math.exp(theta[5]!);
  let f = 0, ga = 0, gb = 0, ge = 0, gal = 0, gbe = 0, gg = 0;
  const n = lnLoss.length;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) continue;
    const xn = xN[i]!, xd = xD[i]!;
    const u = a - alpha * xn;
    const v = b - beta * xd;
    const mi = u > v ? u : v;
    const eu = Math.exp(u - mi), ev = Math.exp(v - mi);
    const t = mi + Math.log(eu + ev);
    const gt = gamma * t;
    const mo = gt > e ? gt : e;
    const et = Math.exp(gt - mo), ee = Math.exp(e - mo);
    const r = mo + Math.log(et + ee) - lnLoss[i]!;
    f += w * huber(r, delta);
    const psi = huberSlope(r, delta);
    const sigma = et / (et + ee);
    const q = w * psi * sigma * gamma / (eu + ev);
    const pu = q * eu, pv = q * ev;
    ga += pu;
    gb += pv;
    gal -= pu * xn;
    gbe -= pv * xd;
    ge += w * psi * (1 - sigma);
    gg += w * psi * sigma * gt;
  }
  grad[0] = ga;
  grad[1] = gb;
  grad[2] = ge;
  grad[3] = gal;
  grad[4] = gbe;
  grad[5] = gg;
  return f;
}

/** Centred copies of the data plus the centres. */
export interface Centred {
  xN: Float64Array;
  xD: Float64Array;
  lnLoss: Float64Array;
  loss: Float64Array;
  cN: number;
  cD: number;
}

export function centre(data: ParametricData, weights?: Float64Array): Centred {
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

/** Original θ → centred θ (a joint form's g = ln γ is copied unchanged). */
export function toCentred(theta: ArrayLike<number>, c: Centred): Float64Array {
  const out = Float64Array.from(theta);
  out[0] = theta[0]! - theta[3]! * c.cN;
  out[1] = theta[1]! - theta[4]! * c.cD;
  return out;
}

/** Centred θ → original θ. */
export function fromCentred(theta: ArrayLike<number>, c: Centred): Theta {
  const out = Float64Array.from(theta);
  out[0] = theta[0]! + theta[3]! * c.cN;
  out[1] = theta[1]! + theta[4]! * c.cD;
  return out;
}
