/**
 * The fast CPU path against PyTorch, side by side in one run: the three benchmark configurations
 * trained on the `blas` backend (models/, the project's AdamW) and by the PyTorch reference
 * scripts (`../shared/reference/`, run as subprocesses), interleaved round by round so that both
 * see the same machine load, reported as medians. Each row gives images or tokens per second,
 * model FLOP/s (the families' exact counters), the share of the sgemm peak measured in this run,
 * and the ratio to PyTorch.
 * Run alone: `deno run -A tests/bench/train_fast.ts [rounds]`.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import "../../models/gradients.ts";
import { selectBackend } from "../../lib/backend/select.ts";
import { blasBackendInfo } from "../../lib/backend/blas/mod.ts";
import { BENCH_CONFIGS, type BenchConfig, makeTrainStep } from "./_train_step.ts";
import { measureSgemmPeak } from "./kernels.ts";
import { median } from "../../lib/stats.ts";

/** Rounds of (PyTorch, tfjs) per configuration; the report takes medians over them. */
const DEFAULT_ROUNDS = 5;
/** Seconds each PyTorch run times steps for (its script's own budget argument; ≥ 5 steps). */
const TORCH_SECONDS = 3;
/** Timed tfjs steps per round, per configuration (after one warm-up step). */
const TFJS_STEPS: Record<string, number> = { "vit-a": 6, "vit-b": 3, gpt: 5 };

/** One PyTorch reference measurement. */
interface TorchRun {
  unitsPerSecond: number;
  gflops: number;
}

const REFERENCE_DIR = new URL("../../../shared/reference/", import.meta.url).pathname;

/** Runs one reference script; returns its throughput or why it could not. */
async function runTorch(cfg: BenchConfig): Promise<TorchRun | string> {
  try {
    await Deno.stat(`${REFERENCE_DIR}${cfg.reference[0]}`);
  } catch {
    return "../shared/reference absent";
  }
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("/usr/bin/python3", {
      args: [
        `${REFERENCE_DIR}${cfg.reference[0]}`,
        ...cfg.reference.slice(1),
        "2",
        `${TORCH_SECONDS}`,
      ],
      // The documented invocation only: this process's OPENBLAS_*/OMP_* settings stay out of it.
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", OMP_WAIT_POLICY: "PASSIVE" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    return `python3 not runnable: ${(error as Error).message}`;
  }
  if (!out.success) {
    return `python3 failed (torch missing?): ${new TextDecoder().decode(out.stderr).slice(-160)}`;
  }
  const json = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  return {
    unitsPerSecond: json.img_per_s ?? json.tok_per_s,
    gflops: json.gflops,
  };
}

/** Times `steps` training steps of `cfg` on the active backend; returns seconds per step. */
function runTfjs(
  cfg: BenchConfig,
  steps: number,
): { secondsPerStep: number; flopsPerStep: number; unitsPerStep: number } {
  const train = makeTrainStep(cfg);
  train.step(); // warm-up: first-call allocations and JIT
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    train.step();
    times.push((performance.now() - t0) / 1e3);
  }
  const result = {
    secondsPerStep: median(times),
    flopsPerStep: train.flopsPerStep,
    unitsPerStep: train.unitsPerStep,
  };
  train.dispose();
  return result;
}

/** Runs the comparison and returns its markdown section. */
export async function run(rounds = DEFAULT_ROUNDS): Promise<string> {
  const backend = await selectBackend();
  const info = blasBackendInfo();
  const path = backend.name === "blas"
    ? `blas (OpenBLAS ${info.library}, ${info.threads} threads; element-wise ${
      info.elementwise === "native" ? "native C kernels" : "JavaScript kernels"
    })`
    : `${backend.name} (blas unavailable: ${info.reason ?? "not selected"})`;
  const peaks: number[] = [];
  const tfjs = new Map<string, number[]>();
  /** Per round: flops-fit throughput / PyTorch's, measured back to back (robust to load drift). */
  const ratios = new Map<string, number[]>();
  const torch = new Map<string, TorchRun[]>();
  const torchSkip = new Map<string, string>();
  const flops = new Map<string, { flopsPerStep: number; unitsPerStep: number }>();
  for (let r = 0; r < rounds; r++) {
    const peak = measureSgemmPeak();
    if (peak !== null) peaks.push(peak);
    for (const cfg of BENCH_CONFIGS) {
      const t = await runTorch(cfg);
      if (typeof t === "string") torchSkip.set(cfg.id, t);
      else torch.set(cfg.id, [...(torch.get(cfg.id) ?? []), t]);
      const m = runTfjs(cfg, TFJS_STEPS[cfg.id]);
      tfjs.set(cfg.id, [...(tfjs.get(cfg.id) ?? []), m.secondsPerStep]);
      flops.set(cfg.id, m);
      if (typeof t !== "string") {
        const ratio = m.unitsPerStep / m.secondsPerStep / t.unitsPerSecond;
        ratios.set(cfg.id, [...(ratios.get(cfg.id) ?? []), ratio]);
      }
    }
  }
  const peak = peaks.length ? median(peaks) : null;
  const lines = [
    "## Training throughput: fast CPU path vs PyTorch",
    "",
    `Backend: **${path}**. PyTorch: ${REFERENCE_DIR} scripts, 2 threads, OMP_WAIT_POLICY=PASSIVE. ` +
    `${rounds} interleaved rounds, medians. sgemm peak this run: ${
      peak === null ? "n/a" : `${peak.toFixed(1)} GFLOP/s`
    } (per-round ${peaks.map((p) => p.toFixed(0)).join(", ")}).`,
    "",
    "| config | flops-fit | model GFLOP/s | % of sgemm peak | PyTorch | PyTorch GFLOP/s | ratio (median of rounds) | per-round ratios |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const cfg of BENCH_CONFIGS) {
    const s = median(tfjs.get(cfg.id)!);
    const f = flops.get(cfg.id)!;
    const units = f.unitsPerStep / s;
    const gflops = f.flopsPerStep / s / 1e9;
    const t = torch.get(cfg.id);
    const tUnits = t ? median(t.map((x) => x.unitsPerSecond)) : null;
    const tGflops = t ? median(t.map((x) => x.gflops)) : null;
    const unit = `${cfg.unit}/s`;
    lines.push(
      `| ${cfg.id} | ${units.toFixed(0)} ${unit} | ${gflops.toFixed(1)} | ${
        peak ? `${((100 * gflops) / peak).toFixed(0)} %` : "n/a"
      } | ${tUnits === null ? torchSkip.get(cfg.id) : `${tUnits.toFixed(0)} ${unit}`} | ${
        tGflops?.toFixed(1) ?? "—"
      } | ${tUnits === null ? "—" : `**${median(ratios.get(cfg.id)!).toFixed(2)}**`} | ${
        (ratios.get(cfg.id) ?? []).map((r) => r.toFixed(2)).join(", ")
      } |`,
    );
  }
  lines.push(
    "",
    "The machine is shared (2 cores): concurrent load slows both sides. Each round measures PyTorch " +
      "and flops-fit back to back and the ratio is the median of the per-round ratios, so load " +
      "drift between rounds cancels; the absolute figures are only as good as the load allowed.",
  );
  await tf.setBackend("cpu");
  return lines.join("\n");
}

if (import.meta.main) console.log(await run(Number(Deno.args[0] ?? DEFAULT_ROUNDS)));
