/**
 * The optimiser step over the flat parameter buffer, with no host round trip: global gradient
 * norm, clip coefficient, and one AdamW kernel (PyTorch's update order, as `lib/train/adamw.ts`).
 *
 *     ‖g‖ = s·√(Σ_i g_i²)                     (s = 1/micro-batches: the norm of the mean gradient)
 *     coef = s·min(1, clip/(‖g‖ + 1e-6))      (coef = s when clip = 0)
 *     g ← coef·g
 *     p ← p·(1 − η·λ_i)                       (λ_i = λ where the element's tensor decays, else 0)
 *     m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *     p ← p − η·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 *
 * η, 1 − β1ᵗ and 1 − β2ᵗ change every step: the host writes them into a 3-float `hyper` region
 * before submitting; ‖g‖ and coef land in the `stats` region the host reads back later.
 *
 * @module
 */
import type { KernelSpec, Region } from "./program.ts";
import { f32, flatIndex, grid, storage } from "./wgsl.ts";

/** Workgroups of the first stage of the norm reduction. */
const NORM_PARTS = 256;

/** Slots of the 4-float `stats` region every step writes. */
export const STATS = { loss: 0, norm: 1, coef: 2, correct: 3 } as const;

/** Slots of the per-step `hyper` region. */
export const HYPER = { lr: 0, bias1: 1, bias2: 2 } as const;

/** Hyper-parameters fixed for a run. */
export interface AdamWConstants {
  /** β1. */
  beta1: number;
  /** β2. */
  beta2: number;
  /** ε. */
  eps: number;
  /** Weight decay λ (applied where `decay` is 1). */
  weightDecay: number;
  /** Clip the global norm to this; 0 disables. */
  clipNorm: number;
  /** Gradient scale s (1 / micro-batches). */
  gradScale: number;
}

/**
 * Stage 1 of ‖g‖: `partials[w] = Σ g_i²` over a grid-stride share of the elements.
 * @param o `grads` (flat), `partials` (256 floats).
 */
export function gradNormPartials(
  o: { label: string; grads: Region; partials: Region },
): KernelSpec {
  const n = o.grads.length;
  if (o.partials.length !== NORM_PARTS) throw new RangeError(`${o.label}: partials must be 256`);
  return {
    label: o.label,
    code: `${storage([["g", "f32"], ["partials", "f32"]])}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  var s = 0.0;
  for (var i = wg.x * 256u + l.x; i < ${n}u; i += ${
      NORM_PARTS * 256
    }u) { let v = g[i]; s = fma(v, v, s); }
  red[l.x] = s;
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (l.x < k) { red[l.x] += red[l.x + k]; }
    workgroupBarrier();
  }
  if (l.x == 0u) { partials[wg.x] = red[0]; }
}`,
    bindings: [o.grads, o.partials],
    grid: { x: NORM_PARTS, y: 1 },
  };
}

/** Floats of the `partials` region {@linkcode gradNormPartials} needs. */
export const NORM_PARTIALS = NORM_PARTS;

/**
 * Stage 2: ‖g‖ and the clip coefficient into `stats`.
 * @param o `partials`, `stats` (4 floats), and the run's constants.
 */
export function gradNormFinish(
  o: { label: string; partials: Region; stats: Region; constants: AdamWConstants },
): KernelSpec {
  const { clipNorm, gradScale } = o.constants;
  const coef = clipNorm > 0
    ? `${f32(gradScale)} * min(1.0, ${f32(clipNorm)} / (norm + 1e-6))`
    : f32(gradScale);
  return {
    label: o.label,
    code: `${storage([["partials", "f32"], ["stats", "f32"]])}
var<workgroup> red: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) l: vec3u) {
  red[l.x] = partials[l.x];
  workgroupBarrier();
  for (var k = 128u; k > 0u; k >>= 1u) {
    if (l.x < k) { red[l.x] += red[l.x + k]; }
    workgroupBarrier();
  }
  if (l.x == 0u) {
    let norm = sqrt(red[0]) * ${f32(gradScale)};
    stats[${STATS.norm}u] = norm;
    stats[${STATS.coef}u] = ${coef};
  }
}`,
    bindings: [o.partials, o.stats],
    grid: { x: 1, y: 1 },
  };
}

/**
 * The AdamW update of every element of the flat buffers.
 * @param o `params`, `grads`, `m`, `v`, `decay` (1/0 per element) of equal length; `stats`
 *   (coef read), `hyper` (η, 1 − β1ᵗ, 1 − β2ᵗ).
 */
export function adamw(
  o: {
    label: string;
    params: Region;
    grads: Region;
    m: Region;
    v: Region;
    decay: Region;
    stats: Region;
    hyper: Region;
    constants: AdamWConstants;
  },
): KernelSpec {
  const n = o.params.length;
  const { beta1, beta2, eps, weightDecay } = o.constants;
  const g = grid(Math.ceil(n / 256));
  return {
    label: o.label,
    code: `${
      storage([["p", "f32"], ["grad", "f32"], ["m", "f32"], ["v", "f32"], ["decay", "f32"], [
        "stats",
        "f32",
      ], ["hyper", "f32"]])
    }
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let i = ${flatIndex(g)} * 256u + l.x;
  if (i >= ${n}u) { return; }
  let lr = hyper[${HYPER.lr}u];
  let gi = grad[i] * stats[${STATS.coef}u];
  let mi = ${f32(beta1)} * m[i] + ${f32(1 - beta1)} * gi;
  let vi = ${f32(beta2)} * v[i] + ${f32(1 - beta2)} * gi * gi;
  m[i] = mi;
  v[i] = vi;
  var pi = p[i];
  if (decay[i] != 0.0) { pi = pi * (1.0 - lr * ${f32(weightDecay)}); }
  let update = (mi / hyper[${HYPER.bias1}u]) / (sqrt(vi / hyper[${HYPER.bias2}u]) + ${f32(eps)});
  p[i] = pi - update * lr;
}`,
    bindings: [o.params, o.grads, o.m, o.v, o.decay, o.stats, o.hyper],
    grid: g,
  };
}
