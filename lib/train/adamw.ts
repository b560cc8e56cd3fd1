/**
 * AdamW (Loshchilov & Hutter 2019) with PyTorch's update order, plus global-norm clipping.
 *
 * Method, per parameter p with gradient g at step t (1-based), learning rate η:
 *
 *     p ← p · (1 − η·λ)                  (decoupled weight decay; λ = 0 for norms, biases, embeddings)
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g²
 *     p ← p − η · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 *
 * Clipping scales every gradient by min(1, c / (‖g‖₂ + 1e-6)), ‖g‖₂ over all parameters
 * (PyTorch's `clip_grad_norm_`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedVariable } from "../../models/mod.ts";
import { fusedAdamWUpdate, hasFusedAdamW } from "../ops/mod.ts";

/** Added to the norm before dividing, as PyTorch's `clip_grad_norm_`, so a zero norm is safe. */
const CLIP_NORM_EPS = 1e-6;

/** A non-trainable variable of zeros shaped like `like` (the temporary zeros are freed). */
function zeroVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

/** AdamW hyper-parameters. */
export interface AdamWOptions {
  /** β1. */
  beta1: number;
  /** β2. */
  beta2: number;
  /** ε. */
  eps: number;
  /** Weight decay λ (applied only to variables with `decay`). */
  weightDecay: number;
}

/** Options of one {@linkcode AdamW.step}. */
export interface StepOptions {
  /** Learning rate η of this step. */
  lr: number;
  /** Multiply the gradients by this first (1 / micro-batches when accumulating). @default 1 */
  gradScale?: number;
  /** Clip the global norm to this; 0 disables. @default 0 */
  clipNorm?: number;
}

/** AdamW state over a model's variables. */
export class AdamW {
  readonly #params: NamedVariable[];
  readonly #options: AdamWOptions;
  readonly #m: tf.Variable[];
  readonly #v: tf.Variable[];
  #t = 0;

  /**
   * @param params The variables to optimise.
   * @param options Hyper-parameters.
   */
  constructor(params: NamedVariable[], options: AdamWOptions) {
    this.#params = params;
    this.#options = options;
    this.#m = params.map((p) => zeroVariable(p.variable));
    this.#v = params.map((p) => zeroVariable(p.variable));
  }

  /**
   * Apply one update. Takes ownership of `grads` (disposes them).
   * @param grads One gradient per variable, in the constructor's order.
   * @param options Learning rate, gradient scale, clipping.
   * @returns The global gradient norm before clipping (a scalar tensor the caller disposes).
   */
  step(grads: tf.Tensor[], options: StepOptions): tf.Scalar {
    this.#t += 1;
    const { beta1, beta2, eps, weightDecay } = this.#options;
    const lr = options.lr;
    const t = this.#t;
    const norm = tf.tidy(() => {
      const scale = options.gradScale ?? 1;
      const squares = grads.map((g) => tf.sum(tf.square(g)));
      // tf.sum(tf.stack(·)), not tf.addN: tfjs-webgpu 4.22's AddN returns 0 past a few inputs.
      const total = tf.mul(tf.sqrt(tf.sum(tf.stack(squares))), scale) as tf.Scalar; // ‖scale·g‖₂
      const clip = options.clipNorm ?? 0;
      const coef = clip > 0
        ? tf.mul(scale, tf.minimum(1, tf.div(clip, tf.add(total, CLIP_NORM_EPS))))
        : tf.scalar(scale);
      const bias1 = 1 - Math.pow(beta1, t);
      const bias2 = 1 - Math.pow(beta2, t);
      const fused = hasFusedAdamW(); // one kernel per parameter on blas (lib/ops/adamw.ts)
      this.#params.forEach((p, i) => {
        if (fused) {
          const [np, nm, nv] = fusedAdamWUpdate(
            { p: p.variable, g: grads[i]!, m: this.#m[i]!, v: this.#v[i]!, coef },
            {
              lr,
              beta1,
              beta2,
              eps,
              weightDecay: p.decay ? weightDecay : 0,
              bias1,
              bias2,
            },
          );
          this.#m[i]!.assign(nm);
          this.#v[i]!.assign(nv);
          p.variable.assign(np);
          return;
        }
        const g = tf.mul(grads[i]!, coef);
        const m = this.#m[i]!;
        const v = this.#v[i]!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const decayed = p.decay && weightDecay > 0
          ? tf.mul(p.variable, 1 - lr * weightDecay)
          : p.variable;
        const update = tf.div(tf.div(m, bias1), tf.add(tf.sqrt(tf.div(v, bias2)), eps));
        p.variable.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
      return total;
    });
    tf.dispose(grads);
    return norm;
  }

  /** Free the moment estimates. */
  dispose(): void {
    tf.dispose([...this.#m, ...this.#v]);
  }
}
