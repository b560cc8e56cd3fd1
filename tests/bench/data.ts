/**
 * Loader throughput: batches per second of each loader at training batch sizes, against the
 * PyTorch training step rates of `../shared/reference/README.md` (ViT a: ≈ 670 img/s at batch
 * 128 ≈ 5.2 steps/s; GPT: ≈ 15,500 tok/s at batch 32 × ctx 128 ≈ 3.8 steps/s). The loader must
 * never be the bottleneck: the target is well over 20× the step rate.
 *
 * CIFAR-10 runs on `../shared/data/cifar10/data_batch_1.bin` (10,000 real records, same parser
 * and pipeline as the downloaded dataset) and TinyStories on the shared 2 MiB head, both in memory
 * and read on demand from the file (the path the 1.9 GB training file takes).
 *
 * @module
 */
import { getDataset } from "../../data/mod.ts";
import { fileTokens, packedSequences, textBatches } from "../../data/text_source.ts";
import type { Batch } from "../../data/types.ts";

const SHARED = new URL("../../../shared/data/", import.meta.url).pathname;
/** PyTorch reference step rates (2 threads, this machine class), steps per second. */
const VIT_STEPS_PER_S = 670 / 128;
const GPT_STEPS_PER_S = 15_500 / (32 * 128);
/** Wall time per measurement; the median of {@linkcode REPEATS} runs is reported. */
const MEASURE_MS = 1500;
const REPEATS = 3;

async function rate(make: () => AsyncIterator<Batch>): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const it = make();
    await it.next(); // warm-up: loading, first permutation
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < MEASURE_MS) {
      await it.next();
      n++;
    }
    runs.push(n / ((performance.now() - start) / 1000));
  }
  return runs.sort((a, b) => a - b)[Math.floor(REPEATS / 2)]!;
}

/**
 * Run the loader benchmark.
 *
 * @returns A markdown section.
 */
export async function run(): Promise<string> {
  const rows: string[] = [];
  const add = (name: string, batch: string, perS: number, steps: number, what: string) =>
    rows.push(
      `| ${name} | ${batch} | ${perS.toFixed(0)} | ${(perS / steps).toFixed(0)}× ${what} |`,
    );
  let haveShared = true;
  try {
    await Deno.stat(`${SHARED}cifar10/data_batch_1.bin`);
  } catch {
    haveShared = false;
  }
  if (haveShared) {
    const cifar = getDataset(`cifar-file:${SHARED}cifar10/data_batch_1.bin`);
    await cifar.prepare();
    for (const augment of [false, true]) {
      const perS = await rate(() =>
        cifar.batches({ split: "train", batchSize: 128, seed: 0, augment })
      );
      add(`CIFAR-10${augment ? " + crop/flip" : ""}`, "128", perS, VIT_STEPS_PER_S, "ViT a");
    }
    const text = `${SHARED}text/tinystories_train_head_2MiB.txt`;
    const ts = getDataset(`text-file:${text}`);
    add(
      "TinyStories (in memory)",
      "32 × 128",
      await rate(() => ts.batches({ split: "train", batchSize: 32, seed: 0, context: 128 })),
      GPT_STEPS_PER_S,
      "GPT",
    );
    const size = (await Deno.stat(text)).size;
    add(
      "TinyStories (read from file)",
      "32 × 128",
      await rate(() =>
        textBatches(packedSequences(fileTokens(text, { start: 0, end: size }), 128), 128, {
          split: "train",
          batchSize: 32,
          seed: 0,
        })
      ),
      GPT_STEPS_PER_S,
      "GPT",
    );
  }
  const st = getDataset("synthetic-text");
  add(
    "synthetic-text",
    "32 × 128",
    await rate(() => st.batches({ split: "train", batchSize: 32, seed: 0, context: 128 })),
    GPT_STEPS_PER_S,
    "GPT",
  );
  const si = getDataset("synthetic-images");
  add(
    "synthetic-images",
    "128",
    await rate(() => si.batches({ split: "train", batchSize: 128, seed: 0 })),
    VIT_STEPS_PER_S,
    "ViT a",
  );
  return [
    "## Data loaders",
    "",
    `Batches per second (median of ${REPEATS} runs of ${MEASURE_MS / 1000} s, one thread), ` +
    `against PyTorch training steps: ViT a ≈ ${VIT_STEPS_PER_S.toFixed(1)} steps/s, ` +
    `GPT ≈ ${GPT_STEPS_PER_S.toFixed(1)} steps/s.` +
    (haveShared ? "" : " (../shared/data absent: real-data loaders skipped.)"),
    "",
    "| loader | batch | batches/s | vs. training step rate |",
    "| --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

if (import.meta.main) console.log(await run());
