/**
 * Starting points for the Approach 3 polish: Chinchilla's grid and variable projection.
 *
 * @module
 */
import type { Theta } from "./law.ts";
import { solve3 } from "./linalg.ts";
import type { Centred } from "./objective.ts";

/** VarPro grid spacing in α and β (full fit). */
export const VARPRO_STEP = 0.025;
/** VarPro grid spacing in α and β for bootstrap refits (coarser, warm-started). */
export const VARPRO_STEP_QUICK = 0.1;
/** Largest exponent on the VarPro grid (Chinchilla's grid stops at 2). */
export const VARPRO_MAX_EXPONENT = 2.5;
/** Starts closer than this (max-norm in θ) count as the same start. */
const SAME_START = 0.05;

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
export interface Start {
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
 *
 * With E fixed (`fixedE`), the same least squares in (A', B') alone on L − E:
 * 2×2 normal equations, SSR = Σq·(L − E)² − solᵀr.
 *
 * @param c Centred data.
 * @param step Grid spacing in α and β.
 * @param keep How many local minima to return.
 * @param weights Per-point weights; all 1 when omitted.
 * @param fixedE E held fixed, or undefined to solve for it.
 * @returns Starts in centred coordinates, best first.
 */
export function varproStarts(
  c: Centred,
  step: number,
  keep: number,
  weights?: Float64Array,
  fixedE?: number,
): Start[] {
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
      if (fixedE !== undefined) {
        // (A', B') on L − E: [[Σqx², Σqxy], [Σqxy, Σqy²]]·sol = [Σqx(L−E), Σqy(L−E)].
        const r0 = A.sxL - fixedE * A.sx, r1 = B.sxL - fixedE * B.sx;
        const det = A.sxx * B.sxx - sxy * sxy;
        if (!(Math.abs(det) > 1e-300)) continue;
        const ka = (r0 * B.sxx - r1 * sxy) / det, kb = (A.sxx * r1 - sxy * r0) / det;
        if (!(ka > 0 && kb > 0)) continue;
        const sEE = sLL - 2 * fixedE * sL + fixedE * fixedE * s1;
        ssr[ia * count + ib] = sEE - (ka * r0 + kb * r1);
        coef[ia * count + ib] = Float64Array.of(fixedE, ka, kb);
        continue;
      }
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
export function distinctBest(starts: Start[], keep: number): Start[] {
  const out: Start[] = [];
  for (const s of [...starts].sort((p, q) => p.score - q.score)) {
    if (!Number.isFinite(s.score)) continue;
    if (out.some((o) => o.theta.every((v, i) => Math.abs(v - s.theta[i]!) < SAME_START))) continue;
    out.push(s);
    if (out.length === keep) break;
  }
  return out;
}
