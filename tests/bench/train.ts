/**
 * Training throughput of the benchmark configurations on every usable backend, printed beside
 * PyTorch's reference step (`../shared/reference/`) measured in the same run.
 *
 *   ViT a: embed 64, depth 4, heads 4, batch 128 (32×32×3, 10 classes)
 *   ViT b: embed 128, depth 6, heads 8, batch 128
 *   GPT:   d 128, 4 layers, 4 heads, context 128, vocabulary 256, untied head, batch 32
 *
 * Like the PyTorch scripts, it trains on random inputs (throughput does not depend on the data).
 * Run alone: `deno run -A tests/bench/train.ts [seconds-per-config]`.
 *
 * @module
 */
import { machineLine } from "./report.ts";
import { BACKEND_CANDIDATES, selectBackend } from "../../lib/backend/select.ts";
import type { Batch, Dataset, DatasetInfo } from "../../data/types.ts";
import { trainPoint, TrainRequestSchema } from "../../lib/train/mod.ts";
import { Rng } from "../../models/layers.ts";

/** One benchmark configuration. */
interface BenchConfig {
  label: string;
  request: Record<string, unknown>;
  unit: "img" | "tok";
  torchArgs: string[];
}

const CONFIGS: BenchConfig[] = [
  {
    label: "ViT a (64/4/4, batch 128)",
    request: { family: "vit", size: 64, config: { depth: 4, heads: 4 }, batch_size: 128 },
    unit: "img",
    torchArgs: ["vit_torch.py", "a"],
  },
  {
    label: "ViT b (128/6/8, batch 128)",
    request: { family: "vit", size: 128, config: { depth: 6, heads: 8 }, batch_size: 128 },
    unit: "img",
    torchArgs: ["vit_torch.py", "b"],
  },
  {
    label: "GPT (128/4/4, ctx 128, batch 32)",
    request: {
      family: "gpt",
      size: 128,
      config: { depth: 4, heads: 4, context: 128, tie_embeddings: false },
      batch_size: 32,
    },
    unit: "tok",
    torchArgs: ["gpt_torch.py"],
  },
];

/** Random inputs shaped like CIFAR-10 or byte-level text. */
function randomDataset(modality: "image" | "text"): Dataset {
  const info: DatasetInfo = {
    name: `random-${modality}`,
    description: "Random inputs for throughput measurement.",
    modality,
    splits: { train: { examples: 1e9 }, test: { examples: 1e9 } },
    license: "CC0-1.0",
    ...(modality === "image"
      ? { image: { height: 32, width: 32, channels: 3, classes: "0123456789".split("") } }
      : { text: { tokenizer: "byte", vocab_size: 256 } }),
  };
  /** One random batch. */
  function draw(rng: Rng, b: number, context: number): Batch {
    if (modality === "image") {
      const images = new Float32Array(b * 32 * 32 * 3).map(() => rng.truncatedNormal());
      const labels = new Int32Array(b).map(() => Math.floor(rng.uniform() * 10));
      return { kind: "image", images, labels, shape: [b, 32, 32, 3] };
    }
    const inputs = new Int32Array(b * context).map(() => Math.floor(rng.uniform() * 256));
    const targets = new Int32Array(b * context).map(() => Math.floor(rng.uniform() * 256));
    return { kind: "text", inputs, targets, shape: [b, context] };
  }
  // A few batches drawn up front and cycled: drawing 400k normals in JavaScript per ViT batch
  // would time this generator, not the trainer (real loaders run 100–6,000× the step rate).
  async function* batches(o: { batchSize: number; seed: number; context?: number }) {
    const rng = new Rng(o.seed);
    const pool = Array.from({ length: 4 }, () => draw(rng, o.batchSize, o.context ?? 128));
    for (let i = 0;; i++) yield pool[i % pool.length]!;
  }
  return {
    info,
    isReady: () => Promise.resolve(true),
    prepare: () => Promise.resolve(),
    batches,
  };
}

/** PyTorch's reference step on this machine, or why it could not run. */
async function torchReference(
  args: string[],
  seconds: number,
): Promise<{ perS: number; gflops: number } | string> {
  const dir = new URL("../../../shared/reference/", import.meta.url).pathname;
  try {
    await Deno.stat(`${dir}${args[0]}`);
  } catch {
    return "../shared/reference absent";
  }
  const [script, ...rest] = args;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [`${dir}${script}`, ...rest, "2", String(seconds)],
    env: { OMP_WAIT_POLICY: "PASSIVE" },
    stdout: "piped",
    stderr: "piped",
  }).output().catch((e) => e as Error);
  if (out instanceof Error) return `python3 failed: ${out.message}`;
  if (!out.success) return `python3 failed: ${new TextDecoder().decode(out.stderr).slice(-200)}`;
  const line = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  return { perS: line.img_per_s ?? line.tok_per_s, gflops: line.gflops };
}

/** Steps to time per backend: enough for a median, few on the slow plain-JS backend. */
function stepsFor(backend: string, seconds: number): number {
  return backend === "cpu" ? 2 : Math.max(3, Math.round(seconds / 2));
}

/**
 * Batch per backend: the configuration's, except on plain-JS `cpu` (≈ 1 GFLOP/s), where a batch
 * of 128 ViT-b images is a minute per step; throughput per example barely depends on the batch.
 */
function batchFor(backend: string, batch: number): number {
  return backend === "cpu" ? Math.max(1, batch / 8) : batch;
}

/**
 * Run the benchmark and return a markdown section.
 * @param seconds Seconds PyTorch spends per configuration.
 */
export async function run(seconds = 10): Promise<string> {
  const machine = machineLine();
  const usable: string[] = [];
  for (const candidate of BACKEND_CANDIDATES) {
    if ((await candidate.probe()).usable) usable.push(candidate.name);
  }
  const rows: string[] = [];
  for (const config of CONFIGS) {
    const torch = await torchReference(config.torchArgs, seconds);
    const torchCell = typeof torch === "string"
      ? torch
      : `${torch.perS.toFixed(0)} ${config.unit}/s, ${torch.gflops.toFixed(1)} GFLOP/s`;
    rows.push(`| ${config.label} | PyTorch (2 threads) | ${torchCell} | 1.00 |`);
    console.error(rows.at(-1));
    for (const backend of usable) {
      await selectBackend({ override: backend });
      const modality = config.request.family === "vit" ? "image" : "text";
      const dataset = randomDataset(modality);
      const batchSize = batchFor(backend, config.request.batch_size as number);
      const request = TrainRequestSchema.parse({
        ...config.request,
        batch_size: batchSize,
        dataset: dataset.info.name,
        budget: { steps: stepsFor(backend, seconds) },
        eval: { batches: 1, batch_size: 1 },
      });
      try {
        const r = await trainPoint(request, { resolveDataset: () => dataset });
        // Median step time: robust to the first step's compilation and warm-up.
        const perS = (r.batch_size * (config.unit === "tok" ? r.tokens_per_sample : 1)) /
          (r.step_ms_median / 1000);
        const gflops = (r.batch_size * r.flops_per_sample) / (r.step_ms_median / 1000) / 1e9;
        const ratio = typeof torch === "string" ? "–" : (perS / torch.perS).toFixed(3);
        rows.push(
          `| ${config.label} | ${backend} (batch ${r.batch_size}, micro-batch ` +
            `${r.micro_batch_size}, ${r.steps} steps) | ` +
            `${perS.toFixed(1)} ${config.unit}/s, ${gflops.toFixed(2)} GFLOP/s | ${ratio} |`,
        );
      } catch (error) {
        rows.push(`| ${config.label} | ${backend} | failed: ${String(error).slice(0, 120)} | – |`);
      }
      console.error(rows.at(-1));
    }
  }
  return [
    "## Training throughput (POST /v1/train's trainer)",
    "",
    `${machine} Each configuration's PyTorch step is measured just before its tfjs runs. ` +
    "Median step time over a few steps, model FLOPs = 3 × 2 × matmul MACs (the PyTorch scripts' " +
    "count); the plain-JS `cpu` backend is timed at 1/8 of the batch.",
    "",
    "| config | backend | throughput | ratio to PyTorch |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

if (import.meta.main) {
  console.log(await run(Number(Deno.args[0] ?? 10)));
}
