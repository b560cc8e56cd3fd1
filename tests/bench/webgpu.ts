/**
 * The compiled WebGPU training step (`lib/backend/webgpu/`): launches per optimiser step, host
 * time to record and submit one, step time and throughput, beside the op-by-op tfjs path's kernel
 * count for the same step.
 *
 *   ViT a: embed 64, depth 4, heads 4, batch 128 (32×32×3, 10 classes)
 *   ViT b: embed 128, depth 6, heads 8, batch 128
 *   GPT:   d 128, 4 layers, 4 heads, context 128, vocabulary 256, untied head, batch 32
 *   ViT s: embed 384, depth 6, heads 6, batch 256
 *   GPT m: d 512, 8 layers, 8 heads, context 256, batch 32
 *
 * On a hardware adapter every configuration trains for a few seconds on random inputs; on a
 * software adapter (Mesa's llvmpipe: no GPU) only GPT at batch 2 runs, for the launch count and
 * host times — its step times say nothing about a GPU and are labelled so. With `--json` it also
 * prints one JSON line per configuration (what `gpu_remote.sh` collects on a GPU host).
 * Run alone: `deno run -A tests/bench/webgpu.ts [--json] [seconds-per-config]`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../models/gradients.ts";
import { machineLine } from "./report.ts";
import {
  closeDevice,
  CompiledTrainer,
  type GpuContext,
  type ModelSpec,
  openDevice,
} from "../../lib/backend/webgpu/mod.ts";
import { getFamily } from "../../models/mod.ts";
import type { Model } from "../../models/family.ts";
import type { Batch } from "../../data/types.ts";
import { AdamW } from "../../lib/train/adamw.ts";
import { median } from "../../lib/stats.ts";
import { imageBatches, textBatches } from "../lib/backend/webgpu/_reference.ts";

/** One benchmark configuration. */
interface BenchConfig {
  key: string;
  label: string;
  family: "gpt" | "vit";
  size: number;
  config: Record<string, unknown>;
  batch: number;
}

const CONFIGS: BenchConfig[] = [
  {
    key: "vit_a",
    label: "ViT a (64/4/4, batch 128)",
    family: "vit",
    size: 64,
    config: { depth: 4, heads: 4 },
    batch: 128,
  },
  {
    key: "vit_b",
    label: "ViT b (128/6/8, batch 128)",
    family: "vit",
    size: 128,
    config: { depth: 6, heads: 8 },
    batch: 128,
  },
  {
    key: "gpt",
    label: "GPT (128/4/4, ctx 128, batch 32)",
    family: "gpt",
    size: 128,
    config: { depth: 4, heads: 4, context: 128, tie_embeddings: false },
    batch: 32,
  },
  {
    key: "vit_s",
    label: "ViT s (384/6/6, batch 256)",
    family: "vit",
    size: 384,
    config: { depth: 6, heads: 6 },
    batch: 256,
  },
  {
    key: "gpt_m",
    label: "GPT m (512/8/8, ctx 256, batch 32)",
    family: "gpt",
    size: 512,
    config: { depth: 8, heads: 8, context: 256, tie_embeddings: false },
    batch: 32,
  },
];

/** Batch of GPT on a software adapter: enough for the counts, short enough for this machine. */
const SOFTWARE_BATCH = 2;

/** What one configuration measured. */
export interface WebGpuMeasure {
  config: string;
  adapter: string;
  software: boolean;
  batch: number;
  dispatches_per_step: number;
  encode_ms: number;
  submit_ms: number;
  step_ms: number;
  per_s: number;
  unit: "img" | "tok";
  model_tflops: number;
  bytes: number;
  /** GPU ms of one step per kernel kind (launches timed one by one), largest first. */
  gpu_ms_by_kernel?: Record<string, number>;
}

/** Per-launch times summed by kernel kind (the label without its `blocks.N.` prefix). */
function byKind(times: { label: string; ms: number }[]): Record<string, number> {
  const sums = new Map<string, number>();
  for (const t of times) {
    const kind = t.label.replace(/^blocks\.\d+\./, "");
    sums.set(kind, (sums.get(kind) ?? 0) + t.ms);
  }
  const sorted = [...sums].sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(sorted.map(([k, ms]) => [k, Number(ms.toFixed(4))]));
}

/** The model, its initial variables (tfjs-cpu) and random batches. */
function prepare(c: BenchConfig, batch: number, count: number) {
  const family = getFamily(c.family)!;
  const config = family.resolveConfig({ size: c.size, config: c.config });
  const model: Model = family.build(config, 0);
  const variables = model.variables.map((v) => ({
    name: v.name,
    shape: v.variable.shape,
    decay: v.decay,
    values: Float32Array.from(v.variable.dataSync()),
  }));
  const batches: Batch[] = c.family === "gpt"
    ? textBatches(count, [batch, config.context], config.vocab_size, 1)
    : imageBatches(
      count,
      [batch, config.image_size, config.image_size, config.channels],
      config.num_classes,
      1,
    );
  const spec = { family: c.family, config } as ModelSpec;
  const tokens = family.tokensPerSample(config);
  return {
    model,
    variables,
    batches,
    spec,
    flopsPerSample: family.trainingFlopsPerSample(config),
    tokens,
  };
}

/**
 * Train one configuration on the compiled step: warm-up, then timed steps submitted back to back
 * with the loss read three steps late, as the trainer does.
 */
export async function measure(
  gpu: GpuContext,
  c: BenchConfig,
  batch: number,
  seconds: number,
): Promise<WebGpuMeasure> {
  const p = prepare(c, batch, 4);
  p.model.dispose();
  const trainer = await CompiledTrainer.create({
    gpu,
    model: p.spec,
    variables: p.variables,
    microBatch: batch,
    microSteps: 1,
    labelSmoothing: 0,
    optimizer: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, clipNorm: 1 },
  });
  try {
    const encode: number[] = [];
    const submit: number[] = [];
    const run = async (steps: number) => {
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < steps; i++) {
        const { stats } = await trainer.submitStep([p.batches[i % p.batches.length]!], 1e-3);
        encode.push(trainer.encodeMs);
        submit.push(trainer.submitMs);
        pending.push(stats);
        if (pending.length > 3) await pending.shift();
      }
      await Promise.all(pending);
    };
    await run(gpu.software ? 1 : 3); // compile-on-first-use, caches
    const t0 = performance.now();
    let steps = 0;
    const chunk = gpu.software ? 1 : 10;
    while (
      steps === 0 ||
      (performance.now() - t0 < seconds * 1000 && steps < 2000 && !(gpu.software && steps >= 2))
    ) {
      await run(chunk);
      steps += chunk;
    }
    const stepMs = (performance.now() - t0) / steps;
    const profile = gpu.timestamps ? byKind(await trainer.profileStep(p.batches[0]!)) : undefined;
    const samplesPerS = (batch * 1000) / stepMs;
    return {
      config: c.key,
      adapter: gpu.description,
      software: gpu.software,
      batch,
      dispatches_per_step: trainer.dispatchesPerStep,
      encode_ms: median(encode),
      submit_ms: median(submit),
      step_ms: stepMs,
      per_s: c.family === "gpt" ? samplesPerS * p.tokens : samplesPerS,
      unit: c.family === "gpt" ? "tok" : "img",
      model_tflops: (p.flopsPerSample * samplesPerS) / 1e12,
      bytes: trainer.bytes,
      ...(profile === undefined ? {} : { gpu_ms_by_kernel: profile }),
    };
  } finally {
    trainer.destroy();
  }
}

/**
 * tfjs kernels one optimiser step launches on the op-by-op path (forward, backward, AdamW with
 * clipping), counted with `tf.profile` on tfjs-cpu: the graph is the same on tfjs-webgpu.
 */
export async function tfjsKernelsPerStep(c: BenchConfig, batch: number): Promise<number> {
  await tf.setBackend("cpu");
  const p = prepare(c, batch, 1);
  const vars = p.model.variables.map((v) => v.variable);
  const optimizer = new AdamW(p.model.variables, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0.05,
  });
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => p.model.loss(p.batches[0]!), vars);
    const norm = optimizer.step(vars.map((v) => grads[v.name]!), { lr: 1e-3, clipNorm: 1 });
    tf.dispose([value, norm]);
  });
  optimizer.dispose();
  p.model.dispose();
  return info.kernels.length;
}

/**
 * Run the benchmark and return a markdown section.
 * @param seconds Seconds per configuration on a GPU.
 * @param json Also print one JSON line per configuration.
 */
export async function run(seconds = 6, json = false): Promise<string> {
  tf.env().set("PROD", true);
  await tf.setBackend("cpu"); // initial weights are read with dataSync()
  let gpu: GpuContext;
  try {
    gpu = await openDevice({ allowSoftware: true, timestamps: true });
  } catch (error) {
    return `No WebGPU adapter on this machine (${String(error)}); nothing measured.\n`;
  }
  const rows: string[] = [];
  const profiles: { label: string; kinds: Record<string, number> }[] = [];
  const gptConfig = CONFIGS.find((c) => c.key === "gpt")!;
  try {
    const configs = gpu.software ? [gptConfig] : CONFIGS;
    for (const c of configs) {
      const batch = gpu.software ? SOFTWARE_BATCH : c.batch;
      let m: WebGpuMeasure;
      try {
        m = await measure(gpu, c, batch, seconds);
      } catch (error) {
        const line = {
          config: c.key,
          adapter: gpu.description,
          failed: String(error).slice(0, 300),
        };
        if (json) console.log(JSON.stringify(line));
        rows.push(`| ${c.label} | ${batch} | failed: ${line.failed} | | | | |`);
        continue;
      }
      if (json) console.log(JSON.stringify(m));
      const speed = gpu.software
        ? `${m.step_ms.toFixed(0)} ms/step (software adapter: not a GPU figure)`
        : `${Math.round(m.per_s).toLocaleString("en-US")} ${m.unit}/s (${
          m.step_ms.toFixed(1)
        } ms/step)`;
      const label = c.label.replace(/batch \d+/, `batch ${batch}`);
      if (m.gpu_ms_by_kernel !== undefined) profiles.push({ label, kinds: m.gpu_ms_by_kernel });
      rows.push(
        `| ${label} | ${batch} | ${m.dispatches_per_step} | ${m.encode_ms.toFixed(2)} | ${
          m.submit_ms.toFixed(2)
        } | ${speed} | ${gpu.software ? "—" : m.model_tflops.toFixed(2)} |`,
      );
    }
  } finally {
    await closeDevice(gpu);
  }
  // On a software adapter the real batch is compiled and recorded, not run.
  let fullBatch: { dispatches: number; recordMs: number } | undefined;
  if (gpu.software) {
    const again = await openDevice({ allowSoftware: true });
    try {
      const p = prepare(gptConfig, gptConfig.batch, 1);
      p.model.dispose();
      const trainer = await CompiledTrainer.create({
        gpu: again,
        model: p.spec,
        variables: p.variables,
        microBatch: gptConfig.batch,
        microSteps: 1,
        labelSmoothing: 0,
        optimizer: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05, clipNorm: 1 },
      });
      fullBatch = { dispatches: trainer.dispatchesPerStep, recordMs: trainer.recordOnlyMs() };
      trainer.destroy();
      if (json) {
        console.log(
          JSON.stringify({
            config: "gpt",
            batch: gptConfig.batch,
            recorded_only: true,
            dispatches_per_step: fullBatch.dispatches,
            encode_ms: fullBatch.recordMs,
          }),
        );
      }
    } finally {
      await closeDevice(again);
    }
  }
  const kernels = await tfjsKernelsPerStep(gptConfig, SOFTWARE_BATCH);
  if (json) console.log(JSON.stringify({ config: "gpt", tfjs_kernels_per_step: kernels }));
  return [
    "## GPU (WebGPU compiled step)",
    "",
    machineLine(),
    "",
    `Adapter: ${gpu.description}${
      gpu.software
        ? " — a software rasteriser on the CPU: launch counts and host times are real, step times are not GPU figures"
        : ""
    }.`,
    "",
    "| config | batch | launches / step | host ms to record | host ms to submit | throughput | model TFLOP/s |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...(fullBatch === undefined ? [] : [
      `At the benchmark batch (GPT 128/4/4, batch 32; compiled and recorded, not run here) a step is ` +
      `${fullBatch.dispatches} launches (weight gradients split over the rows) and takes ` +
      `${fullBatch.recordMs.toFixed(2)} ms of host time to record.`,
      "",
    ]),
    `The op-by-op tfjs path launches ${
      kernels.toLocaleString("en-US")
    } kernels for one step of GPT 128/4/4 ` +
    "(forward, backward, clipped AdamW; counted with tf.profile on tfjs-cpu, the same graph as tfjs-webgpu).",
    "",
    ...profiles.flatMap((p) => {
      const entries = Object.entries(p.kinds);
      const total = entries.reduce((sum, [, ms]) => sum + ms, 0);
      const top = entries.slice(0, 6).map(([k, ms]) => `${k} ${(100 * ms / total).toFixed(0)} %`);
      return [
        `${
          gpu.software ? "Adapter (software)" : "GPU"
        } time of one ${p.label} step, launches timed one by one: ${total.toFixed(1)} ms; ` +
        `largest: ${top.join(", ")}.`,
        "",
      ];
    }),
    ...(gpu.software
      ? [
        "H200 figures pending (ViT a/b/s, GPT, GPT m throughput beside PyTorch CUDA): no GPU host " +
        "was at hand; `bash .gpu/remote.sh bash tests/bench/gpu_remote.sh` measures them in one run.",
        "",
      ]
      : []),
  ].join("\n");
}

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const seconds = Number(Deno.args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 6);
  console.log(await run(seconds, json));
}
