import assert from "node:assert/strict";
import { buildMarkovChain, MARKOV_ALPHABET, markovLossFloor } from "../../data/markov.ts";
import {
  createSyntheticText,
  syntheticText,
  syntheticTextLossFloor,
  syntheticTextOrder3,
} from "../../data/synthetic_text.ts";
import type { TextBatch } from "../../data/types.ts";

Deno.test("buildMarkovChain() gives a stationary distribution: πP = π to 1e-12", () => {
  const chain = syntheticText.chain;
  const { symbols: K, branching: S } = chain.spec;
  const next = new Float64Array(chain.states);
  for (let s = 0; s < chain.states; s++) {
    for (let j = 0; j < S; j++) {
      next[(s * K) % chain.states + chain.successors[s * S + j]!]! += chain.stationary[s]! *
        chain.probs[s * S + j]!;
    }
  }
  let l1 = 0;
  for (let s = 0; s < chain.states; s++) l1 += Math.abs(next[s]! - chain.stationary[s]!);
  assert.ok(l1 < 1e-12, `‖πP − π‖₁ = ${l1}`);
  assert.ok(Math.abs(chain.stationary.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

Deno.test("synthetic-text publishes its entropy rate, and a long sample's empirical entropy converges to it", async () => {
  const H = syntheticText.info.entropy_nats!;
  assert.equal(H, syntheticText.chain.entropyRate);
  assert.ok(H > 1 && H < 1.2, `rate ${H}`); // the documented default ≈ 1.08 nats
  const { symbols: K, order, branching: S } = syntheticText.chain.spec;
  assert.equal(order, 2);
  const symbolOf = new Int32Array(256).fill(-1);
  for (let i = 0; i < K; i++) symbolOf[MARKOV_ALPHABET.charCodeAt(i)] = i;
  // Count (context, next) over 256 sequences of 2,049 tokens = 523,776 transitions.
  const counts = new Map<number, number>();
  const contextCounts = new Float64Array(K * K);
  let logLoss = 0, n = 0;
  const chain = syntheticText.chain;
  const it = syntheticText.batches({ split: "train", batchSize: 64, seed: 3, context: 2048 });
  for (let b = 0; b < 4; b++) {
    const batch = (await it.next()).value as TextBatch;
    for (let row = 0; row < 64; row++) {
      const seq = [
        batch.inputs[row * 2048]!,
        ...batch.targets.subarray(row * 2048, (row + 1) * 2048),
      ]
        .map((t) => symbolOf[t]!);
      for (let t = 2; t < seq.length; t++) {
        const ctx = seq[t - 2]! * K + seq[t - 1]!;
        const key = ctx * K + seq[t]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        contextCounts[ctx]!++;
        let p = 0;
        for (let j = 0; j < S; j++) {
          if (chain.successors[ctx * S + j] === seq[t]) p = chain.probs[ctx * S + j]!;
        }
        assert.ok(p > 0, "every sampled transition has positive probability");
        logLoss -= Math.log(p);
        n++;
      }
    }
  }
  // Plug-in estimate Ĥ = −Σ (n_cs/N) ln(n_cs/n_c); its bias is about −(#transitions)/(2N) ≈ 0.004.
  let plugIn = 0;
  for (const [key, c] of counts) {
    plugIn -= (c / n) * Math.log(c / contextCounts[Math.floor(key / K)]!);
  }
  assert.ok(Math.abs(logLoss / n - H) < 0.01, `true-model log loss ${logLoss / n} vs ${H}`);
  assert.ok(Math.abs(plugIn - H) < 0.01, `plug-in ${plugIn} vs ${H}`);
});

Deno.test("syntheticTextLossFloor() is H(X₂|X₁) at context 1 and tends to the rate", () => {
  const chain = syntheticText.chain;
  const first = chain.prefixEntropy[2]! - chain.prefixEntropy[1]!;
  assert.equal(syntheticTextLossFloor(syntheticText, 1), first);
  const f128 = syntheticTextLossFloor(syntheticText, 128);
  assert.ok(Math.abs(f128 - (first + 127 * chain.entropyRate) / 128) < 1e-12);
  assert.ok(syntheticTextLossFloor(syntheticText, 1e5) - chain.entropyRate < 1e-4);
  // An order-1 chain: the floor is the rate at every context.
  const c1 = buildMarkovChain({ symbols: 8, order: 1, branching: 3, seed: 1 });
  assert.ok(Math.abs(markovLossFloor(c1, 7) - c1.entropyRate) < 1e-15);
});

Deno.test("synthetic-text batches are deterministic per seed, differ across seeds and splits", async () => {
  const first = async (
    seed: number,
    split = "train",
  ) => ((await syntheticText.batches({ split, batchSize: 4, seed, context: 16 }).next())
    .value as TextBatch);
  const a = await first(1),
    b = await first(1),
    c = await first(2),
    v = await first(1, "validation");
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.inputs, c.inputs);
  assert.notDeepEqual(a.inputs, v.inputs);
  assert.deepEqual(a.inputs.subarray(1, 16), a.targets.subarray(0, 15)); // targets shift inputs by one
  assert.ok(a.inputs.every((t) => MARKOV_ALPHABET.includes(String.fromCharCode(t))));
});

Deno.test("createSyntheticText() rejects impossible specs with RangeError", () => {
  assert.throws(() => createSyntheticText({ symbols: 1 }), RangeError);
  assert.throws(() => createSyntheticText({ branching: 40 }), RangeError);
  assert.throws(() => createSyntheticText({ order: 0 }), RangeError);
});

Deno.test("synthetic-text-order3: true-model log loss of a sample converges to its published rate", async () => {
  const chain = syntheticTextOrder3.chain;
  assert.equal(chain.spec.order, 3);
  const H = syntheticTextOrder3.info.entropy_nats!;
  assert.equal(H, chain.entropyRate);
  assert.match(syntheticTextOrder3.info.description, /order-3/);
  const { symbols: K, branching: S } = chain.spec;
  const symbolOf = new Int32Array(256).fill(-1);
  for (let i = 0; i < K; i++) symbolOf[MARKOV_ALPHABET.charCodeAt(i)] = i;
  const batch =
    (await syntheticTextOrder3.batches({ split: "train", batchSize: 64, seed: 1, context: 2048 })
      .next())
      .value as TextBatch;
  let logLoss = 0, n = 0;
  for (let row = 0; row < 64; row++) {
    const seq = [batch.inputs[row * 2048]!, ...batch.targets.subarray(row * 2048, (row + 1) * 2048)]
      .map((t) => symbolOf[t]!);
    for (let t = 3; t < seq.length; t++) {
      const ctx = (seq[t - 3]! * K + seq[t - 2]!) * K + seq[t - 1]!;
      for (let j = 0; j < S; j++) {
        if (chain.successors[ctx * S + j] === seq[t]) {
          logLoss -= Math.log(chain.probs[ctx * S + j]!);
        }
      }
      n++;
    }
  }
  // 130,880 tokens; the per-token loss has sd < 1 nat, so the mean is within 0.02 by a wide margin.
  assert.ok(Math.abs(logLoss / n - H) < 0.02, `log loss ${logLoss / n} vs ${H}`);
});
