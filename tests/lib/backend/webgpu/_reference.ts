/**
 * The tfjs-cpu reference of a training run, step for step as `lib/train/train.ts` runs it
 * (`tf.variableGrads` per micro-batch, gradients summed, one `AdamW.step` with
 * gradScale 1/micro-steps and global-norm clipping), and seeded random batches for both sides.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Batch } from "../../../../data/types.ts";
import type { Model } from "../../../../models/family.ts";
import { AdamW } from "../../../../lib/train/adamw.ts";
import { Rng } from "../../../../models/layers.ts";

/** Hyper-parameters of a reference run. */
export interface RunOptions {
  lrs: number[];
  microSteps: number;
  clipNorm: number;
  labelSmoothing: number;
  adamw: { beta1: number; beta2: number; eps: number; weightDecay: number };
}

/**
 * Losses of `steps` optimiser steps on tfjs (the active backend).
 * @param model A freshly built model (trained in place).
 * @param batches `steps × microSteps` micro-batches.
 * @param o Schedule and optimiser.
 */
export function referenceLosses(model: Model, batches: Batch[], o: RunOptions): number[] {
  const vars = model.variables.map((v) => v.variable);
  const optimizer = new AdamW(model.variables, o.adamw);
  const losses: number[] = [];
  for (let step = 0; step < o.lrs.length; step++) {
    let acc: tf.Tensor[] | undefined;
    let lossSum = 0;
    for (let k = 0; k < o.microSteps; k++) {
      const batch = batches[step * o.microSteps + k]!;
      const { value, grads } = tf.variableGrads(
        () => model.loss(batch, { labelSmoothing: o.labelSmoothing }),
        vars,
      );
      const list = vars.map((v) => grads[v.name]!);
      lossSum += value.dataSync()[0]!;
      value.dispose();
      if (acc === undefined) acc = list;
      else {
        const summed = acc.map((a, i) => tf.add(a, list[i]!));
        tf.dispose([...acc, ...list]);
        acc = summed;
      }
    }
    const norm = optimizer.step(acc!, {
      lr: o.lrs[step]!,
      gradScale: 1 / o.microSteps,
      clipNorm: o.clipNorm,
    });
    norm.dispose();
    losses.push(lossSum / o.microSteps);
  }
  optimizer.dispose();
  return losses;
}

/**
 * Seeded random text batches: ids and next-token targets in [0, vocab).
 * @param count Batches.
 * @param shape `[batch, context]`.
 * @param vocab V.
 * @param seed Seed.
 */
export function textBatches(
  count: number,
  shape: [number, number],
  vocab: number,
  seed: number,
): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const n = shape[0] * (shape[1] + 1);
    const stream = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * vocab));
    const inputs = new Int32Array(shape[0] * shape[1]);
    const targets = new Int32Array(shape[0] * shape[1]);
    for (let b = 0; b < shape[0]; b++) {
      for (let t = 0; t < shape[1]; t++) {
        inputs[b * shape[1] + t] = stream[b * (shape[1] + 1) + t]!;
        targets[b * shape[1] + t] = stream[b * (shape[1] + 1) + t + 1]!;
      }
    }
    return { kind: "text", inputs, targets, shape };
  });
}

/**
 * Seeded random image batches with labels in [0, classes).
 * @param count Batches.
 * @param shape `[B, S, S, Ch]`.
 * @param classes K.
 * @param seed Seed.
 */
export function imageBatches(
  count: number,
  shape: [number, number, number, number],
  classes: number,
  seed: number,
): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => ({
    kind: "image",
    images: Float32Array.from(
      { length: shape[0] * shape[1] * shape[2] * shape[3] },
      () => rng.uniform() * 2 - 1,
    ),
    labels: Int32Array.from({ length: shape[0] }, () => Math.floor(rng.uniform() * classes)),
    shape,
  }));
}
