import assert from "node:assert/strict";
import {
  buildQuantaTable,
  createQuantaText,
  DEFAULT_QUANTA,
  quantaLossFloor,
  quantaValueProb,
  syntheticQuanta,
} from "../../data/quanta.ts";
import { getDataset } from "../../data/mod.ts";
import type { TextBatch } from "../../data/types.ts";

Deno.test("synthetic-quanta is registered and publishes (H_Z + h_v)/2 recomputed from its tables", () => {
  assert.equal(getDataset("synthetic-quanta"), syntheticQuanta);
  const t = syntheticQuanta.table;
  const { keys: K, values: V } = t.spec;
  assert.deepEqual(t.spec, DEFAULT_QUANTA);
  let keySum = 0, hz = 0, hv = 0;
  for (let k = 1; k <= K; k++) {
    const p = t.keyProbs[k - 1]!;
    keySum += p;
    hz -= p * Math.log(p);
    let rowSum = 0, h = 0;
    for (let v = 0; v < V; v++) {
      const q = quantaValueProb(t, k, v);
      rowSum += q;
      if (q > 0) h -= q * Math.log(q);
    }
    assert.ok(Math.abs(rowSum - 1) < 1e-12, `row ${k} sums to ${rowSum}`);
    hv += p * h;
  }
  assert.ok(Math.abs(keySum - 1) < 1e-12);
  // Zipf: p_k / p_1 = k^-s.
  assert.ok(Math.abs(t.keyProbs[9]! / t.keyProbs[0]! - 10 ** -DEFAULT_QUANTA.zipf) < 1e-12);
  const H = syntheticQuanta.info.entropy_nats!;
  assert.ok(Math.abs(H - (hz + hv) / 2) < 1e-12, `${H} vs ${(hz + hv) / 2}`);
  assert.ok(H > 1 && H < Math.log(256), `rate ${H}`);
});

Deno.test("synthetic-quanta: the true model's log loss on a long sample converges to the entropy rate", async () => {
  const t = syntheticQuanta.table;
  const K = t.spec.keys;
  const H = syntheticQuanta.info.entropy_nats!;
  const context = 256, rows = 256;
  const batch =
    (await syntheticQuanta.batches({ split: "train", batchSize: rows, seed: 5, context })
      .next()).value as TextBatch;
  let logLoss = 0;
  for (let i = 0; i < rows * context; i++) {
    const previous = batch.inputs[i]!, target = batch.targets[i]!;
    const keyTarget = (i % context) % 2 === 1; // targets alternate value, key, value, …
    if (keyTarget) {
      assert.ok(target < K, "a key follows every value");
      logLoss -= Math.log(t.keyProbs[target]!);
    } else {
      assert.ok(previous < K && target >= K, "a value follows every key");
      logLoss -= Math.log(quantaValueProb(t, previous + 1, target - K));
    }
  }
  // 65,536 targets with a per-token loss sd below 2 nats: the mean is within 0.025 at 3 sd.
  const mean = logLoss / (rows * context);
  assert.ok(Math.abs(mean - H) < 0.025, `log loss ${mean} vs ${H}`);
});

Deno.test("synthetic-quanta sampling frequencies match p_k (the frequent keys, within 4 sd)", async () => {
  const t = syntheticQuanta.table;
  const counts = new Float64Array(t.spec.keys);
  const it = syntheticQuanta.batches({ split: "validation", batchSize: 512, seed: 1, context: 64 });
  const batch = (await it.next()).value as TextBatch;
  let n = 0;
  for (let i = 0; i < batch.inputs.length; i += 2) {
    counts[batch.inputs[i]!]!++;
    n++;
  }
  for (let k = 0; k < 10; k++) {
    const p = t.keyProbs[k]!;
    const sd = Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(counts[k]! - n * p) < 4 * sd, `key ${k + 1}: ${counts[k]} vs ${n * p}`);
  }
});

Deno.test("quantaLossFloor() is the rate at even contexts and weights the first value at odd ones", () => {
  const t = syntheticQuanta.table;
  assert.equal(quantaLossFloor(t, 16), t.entropyRate);
  assert.equal(quantaLossFloor(t, 1), t.valueEntropy);
  assert.ok(Math.abs(quantaLossFloor(t, 3) - (2 * t.valueEntropy + t.keyEntropy) / 3) < 1e-15);
});

Deno.test("synthetic-quanta batches are deterministic per seed and differ across seeds and splits", async () => {
  const first = async (seed: number, split = "train") =>
    (await syntheticQuanta.batches({ split, batchSize: 4, seed, context: 16 }).next())
      .value as TextBatch;
  const a = await first(1),
    b = await first(1),
    c = await first(2),
    v = await first(1, "validation");
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.inputs, c.inputs);
  assert.notDeepEqual(a.inputs, v.inputs);
  assert.deepEqual(a.inputs.subarray(1, 16), a.targets.subarray(0, 15));
  // Same spec, same tables; another seed, other value distributions.
  assert.deepEqual(buildQuantaTable(DEFAULT_QUANTA).valueProbs, syntheticQuanta.table.valueProbs);
  assert.notDeepEqual(
    buildQuantaTable({ ...DEFAULT_QUANTA, seed: 1 }).valueProbs,
    syntheticQuanta.table.valueProbs,
  );
});

Deno.test("createQuantaText() rejects impossible specs with RangeError naming the field", () => {
  assert.throws(() => createQuantaText({ keys: 0 }), /keys/);
  assert.throws(() => createQuantaText({ keys: 200, values: 100 }), /values/);
  assert.throws(() => createQuantaText({ zipf: -1 }), /zipf/);
  assert.throws(() => createQuantaText({ sharpness: Number.NaN }), /sharpness/);
  // sharpness 0: uniform values, h_v = ln V exactly.
  const uniform = buildQuantaTable({ ...DEFAULT_QUANTA, sharpness: 0 });
  assert.ok(Math.abs(uniform.valueEntropy - Math.log(DEFAULT_QUANTA.values)) < 1e-12);
});
