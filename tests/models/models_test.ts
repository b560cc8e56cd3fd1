import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../../lib/backend/select.ts";
import { ConfigError } from "../../models/family.ts";
import { embeddingLookup, layerNorm, Rng } from "../../models/layers.ts";
import { gelu } from "../../lib/ops/fused.ts";
import { FAMILIES, familyNames, getFamily } from "../../models/mod.ts";
import { sinCos2d } from "../../models/vit.ts";
import { TINY_DATASETS } from "../lib/train/_tiny_data.ts";

await selectBackend({ override: "cpu" });

Deno.test("getFamily() finds the registered families and nothing else", () => {
  assert.deepEqual(familyNames().sort(), ["gpt", "vit"]);
  assert.equal(getFamily("vit"), FAMILIES.vit);
  assert.equal(getFamily("toString"), undefined);
  assert.equal(getFamily("resnet"), undefined);
});

Deno.test("build() creates exactly countParams() trainable numbers, then disposes them", () => {
  const before = tf.memory().numTensors;
  const cases = [
    { family: "vit", size: 16, config: { depth: 2, heads: 2 } },
    {
      family: "vit",
      size: 16,
      config: { depth: 1, heads: 4, pos_embedding: "sincos", patch_size: 8 },
    },
    { family: "gpt", size: 16, config: { depth: 2, heads: 2, context: 8 } },
    { family: "gpt", size: 16, config: { depth: 1, heads: 1, context: 8, tie_embeddings: false } },
  ];
  for (const { family, size, config } of cases) {
    const f = getFamily(family)!;
    const c = f.resolveConfig({ size, config });
    const model = f.build(c, 0);
    const built = model.variables.reduce((n, v) => n + v.variable.size, 0);
    assert.equal(built, f.countParams(c).total, `${family} ${JSON.stringify(config)}`);
    model.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("resolveConfig() names the field that breaks divisibility or is unknown", () => {
  const vit = getFamily("vit")!;
  const gpt = getFamily("gpt")!;
  const field = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.field;
    }
    return "no error";
  };
  assert.equal(field(() => vit.resolveConfig({ size: 30, config: { heads: 4 } })), "heads");
  assert.equal(
    field(() => vit.resolveConfig({ size: 32, config: { patch_size: 5 } })),
    "patch_size",
  );
  assert.equal(field(() => gpt.resolveConfig({ size: 60, config: { heads: 8 } })), "heads");
  assert.equal(field(() => gpt.resolveConfig({ size: 64, config: { widht: 3 } })), "widht");
  assert.equal(field(() => gpt.resolveConfig({})), "size");
  assert.equal(field(() => gpt.resolveConfig({ size: 32, config: { d_model: 64 } })), "size");
  assert.equal(field(() => vit.resolveConfig({ size: 32, config: { embed_dim: 32 } })), "no error");
  assert.equal(field(() => vit.resolveConfig({ size: 32, config: { depth: 0 } })), "depth");
  assert.equal(
    field(() => vit.resolveConfig({ size: 32, data: TINY_DATASETS["tiny-images"]!.info })),
    "no error",
  );
});

Deno.test("resolveConfig() takes image shape and classes from the dataset", () => {
  const c = getFamily("vit")!.resolveConfig({
    size: 32,
    data: TINY_DATASETS["tiny-images"]!.info,
  });
  assert.equal(c.image_size, 8);
  assert.equal(c.num_classes, 4);
});

Deno.test("a fresh model's loss is near ln(classes) and its gradients are finite", async () => {
  const cases = [
    {
      name: "vit",
      data: "tiny-images",
      config: { depth: 2, heads: 2 },
      classes: 4,
      context: undefined,
    },
    {
      name: "gpt",
      data: "tiny-text",
      config: { depth: 2, heads: 2, context: 8 },
      classes: 256,
      context: 8,
    },
  ];
  for (const { name, data, config, classes, context } of cases) {
    const f = getFamily(name)!;
    const dataset = TINY_DATASETS[data]!;
    const c = f.resolveConfig({ size: 16, config, data: dataset.info });
    const model = f.build(c, 1);
    const batch = (await dataset.batches({ split: "train", batchSize: 4, seed: 0, context }).next())
      .value!;
    const { value, grads } = tf.variableGrads(
      () => model.loss(batch),
      model.variables.map((v) => v.variable),
    );
    const loss = (await value.data())[0]!;
    assert.ok(Math.abs(loss - Math.log(classes)) < 0.3, `${name} loss ${loss}`);
    for (const g of Object.values(grads)) assert.ok((await g.data()).every(Number.isFinite));
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
  }
});

Deno.test("embeddingLookup() has the gradient of tf.gather (rows scatter-added)", () => {
  const table = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const ids = tf.tensor1d([2, 0, 2], "int32");
  const w = tf.tensor2d([[1, 10], [100, 1000], [2, 3]]);
  const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), w)))(
    table,
  );
  assert.deepEqual(ours.arraySync(), [[100, 1000], [0, 0], [3, 13]]);
  assert.deepEqual(embeddingLookup(table, ids).arraySync(), [[5, 6], [1, 2], [5, 6]]);
  tf.dispose([table, ids, w, ours]);
});

Deno.test("layerNorm() and gelu() match their formulas", () => {
  const x = tf.tensor2d([[1, 2, 3, 6]]);
  const g = tf.tensor1d([1, 1, 1, 1]);
  const b = tf.tensor1d([0, 0, 0, 0]);
  const out = layerNorm(x, { g, b } as never).arraySync()[0]!;
  const sd = Math.sqrt(((1 - 3) ** 2 + (2 - 3) ** 2 + 0 + 9) / 4 + 1e-5);
  out.forEach((v, i) => assert.ok(Math.abs(v - ([1, 2, 3, 6][i]! - 3) / sd) < 1e-5));
  // GELU(1) = Φ(1) = 0.8413447; GELU(-1) = -0.1586553.
  const y = gelu(tf.tensor1d([1, -1, 0])).arraySync() as number[];
  assert.ok(Math.abs(y[0]! - 0.8413447) < 1e-5 && Math.abs(y[1]! + 0.1586553) < 1e-5 && y[2] === 0);
  tf.dispose([x, g, b]);
});

Deno.test("sinCos2d() puts zeros on CLS and sin/cos of row and column in quarters", () => {
  const pe = sinCos2d(2, 4); // 4 patches + CLS, width 4: ω_0 = 1
  assert.deepEqual(Array.from(pe.subarray(0, 4)), [0, 0, 0, 0]);
  const last = Array.from(pe.subarray(4 * 4, 5 * 4)); // row 1, col 1
  [Math.sin(1), Math.cos(1), Math.sin(1), Math.cos(1)].forEach((v, i) =>
    assert.ok(Math.abs(last[i]! - v) < 1e-6)
  );
});

Deno.test("Rng is deterministic and truncatedNormal() stays within ±2σ", () => {
  const a = new Rng(7);
  const b = new Rng(7);
  let sum = 0;
  for (let i = 0; i < 2000; i++) {
    const z = a.truncatedNormal();
    assert.equal(z, b.truncatedNormal());
    assert.ok(Math.abs(z) <= 2);
    sum += z;
  }
  assert.ok(Math.abs(sum / 2000) < 0.1);
});

Deno.test("activationBytesPerSample() is within 15 % of the measured peak (benchmark models)", async () => {
  const vit = getFamily("vit")!;
  const gpt = getFamily("gpt")!;
  const cases = [
    { family: vit, config: vit.resolveConfig({ size: 64 }) },
    { family: gpt, config: gpt.resolveConfig({ size: 128, config: { tie_embeddings: false } }) },
  ];
  for (const { family, config } of cases) {
    const model = family.build(config, 0);
    const vars = model.variables.map((v) => v.variable);
    const peaks: number[] = [];
    for (const b of [1, 2]) {
      const batch = family.modality === "image"
        ? {
          kind: "image" as const,
          images: new Float32Array(b * 32 * 32 * 3),
          labels: new Int32Array(b),
          shape: [b, 32, 32, 3] as [number, number, number, number],
        }
        : {
          kind: "text" as const,
          inputs: new Int32Array(b * 128),
          targets: new Int32Array(b * 128),
          shape: [b, 128] as [number, number],
        };
      const base = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(batch), vars);
        tf.dispose([value, ...Object.values(grads)]);
      });
      peaks.push(info.peakBytes - base);
    }
    const measured = peaks[1]! - peaks[0]!; // the per-sample increment
    const ratio = family.activationBytesPerSample(config) / measured;
    assert.ok(ratio > 0.85 && ratio < 1.15, `${family.name}: estimate / measured = ${ratio}`);
    model.dispose();
  }
});
