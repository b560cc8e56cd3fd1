/**
 * The numeric check of the compiled WebGPU step at the benchmark configurations: GPT 128/4/4
 * (context 128), ViT a (64/4/4) and ViT b (128/6/8) on 32×32×3 images, 10 classes, trained for
 * `steps` steps from the same seed and batches on the compiled step and on tfjs-cpu (the loop of
 * `lib/train/train.ts`: variableGrads, clipped AdamW); every step's loss must agree within 1e-4
 * relative. Prints one JSON line per configuration with the largest relative difference.
 *
 * CI runs the same comparison for 2–3 steps at small batches (`tests/lib/backend/webgpu/`); this
 * script is the full one:
 * `deno run -A tests/bench/webgpu_numerics.ts [steps] [batch-scale] [gpt|vit_a|vit_b…]`
 * (defaults 50 steps, every configuration; batches GPT 2, ViT a 8, ViT b 4, multiplied by
 * batch-scale). On a software adapter it needs `--allow-software`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../models/gradients.ts";
import {
  closeDevice,
  CompiledTrainer,
  type ModelSpec,
  openDevice,
} from "../../lib/backend/webgpu/mod.ts";
import { getFamily } from "../../models/mod.ts";
import type { Batch } from "../../data/types.ts";
import { imageBatches, referenceLosses, textBatches } from "../lib/backend/webgpu/_reference.ts";

/** Relative tolerance of the check. */
const RTOL = 1e-4;

const CONFIGS = [
  { key: "gpt", family: "gpt", size: 128, config: { depth: 4, heads: 4, context: 128 }, batch: 2 },
  { key: "vit_a", family: "vit", size: 64, config: { depth: 4, heads: 4 }, batch: 8 },
  { key: "vit_b", family: "vit", size: 128, config: { depth: 6, heads: 8 }, batch: 4 },
] as const;

const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };

if (import.meta.main) {
  tf.env().set("PROD", true);
  await tf.setBackend("cpu");
  const numbers = Deno.args.filter((a) => /^\d+$/.test(a)).map(Number);
  const steps = numbers[0] ?? 50;
  const scale = numbers[1] ?? 1;
  const gpu = await openDevice({ allowSoftware: Deno.args.includes("--allow-software") });
  let failed = false;
  const named = Deno.args.filter((a) => CONFIGS.some((c) => c.key === a));
  for (const c of CONFIGS.filter((c) => named.length === 0 || named.includes(c.key))) {
    const family = getFamily(c.family)!;
    const config = family.resolveConfig({ size: c.size, config: { ...c.config } });
    const batch = c.batch * scale;
    const batches: Batch[] = c.family === "gpt"
      ? textBatches(steps, [batch, config.context], config.vocab_size, 11)
      : imageBatches(steps, [batch, 32, 32, 3], 10, 11);
    const labelSmoothing = c.family === "vit" ? 0.1 : 0;
    const lrs = Array.from({ length: steps }, (_, i) => 1e-3 * Math.min(1, (i + 1) / 5));
    const model = family.build(config, 0);
    const trainer = await CompiledTrainer.create({
      gpu,
      model: { family: c.family, config } as ModelSpec,
      variables: model.variables.map((v) => ({
        name: v.name,
        shape: v.variable.shape,
        decay: v.decay,
        values: Float32Array.from(v.variable.dataSync()),
      })),
      microBatch: batch,
      microSteps: 1,
      labelSmoothing,
      optimizer: { ...ADAMW, clipNorm: 1 },
    });
    const t0 = performance.now();
    const stats = [];
    for (let s = 0; s < steps; s++) {
      stats.push((await trainer.submitStep([batches[s]!], lrs[s]!)).stats);
    }
    const gpuLosses = (await Promise.all(stats)).map((x) => x.loss);
    const gpuMs = performance.now() - t0;
    trainer.destroy();
    const t1 = performance.now();
    const ref = referenceLosses(model, batches, {
      lrs,
      microSteps: 1,
      clipNorm: 1,
      labelSmoothing,
      adamw: ADAMW,
    });
    const refMs = performance.now() - t1;
    model.dispose();
    let worst = 0;
    gpuLosses.forEach((
      l,
      i,
    ) => (worst = Math.max(worst, Math.abs(l - ref[i]!) / Math.abs(ref[i]!))));
    failed ||= !(worst <= RTOL);
    console.log(JSON.stringify({
      config: c.key,
      adapter: gpu.description,
      steps,
      batch,
      max_rel_diff: worst,
      ok: worst <= RTOL,
      first_loss: [gpuLosses[0], ref[0]],
      last_loss: [gpuLosses.at(-1), ref.at(-1)],
      webgpu_s: gpuMs / 1000,
      tfjs_cpu_s: refMs / 1000,
    }));
  }
  await closeDevice(gpu);
  if (failed) Deno.exit(1);
}
