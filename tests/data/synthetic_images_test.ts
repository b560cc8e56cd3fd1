import assert from "node:assert/strict";
import {
  createSyntheticImages,
  DEFAULT_SYNTHETIC_IMAGES,
  drawPrototypes,
  labelNoiseFloor,
  syntheticImages,
} from "../../data/synthetic_images.ts";
import type { ImageBatch } from "../../data/types.ts";

Deno.test("labelNoiseFloor() is −(1−ε)ln(1−ε) − ε ln(ε/(K−1)) and 0 without noise", () => {
  assert.ok(
    Math.abs(labelNoiseFloor(10, 0.1) - (-0.9 * Math.log(0.9) - 0.1 * Math.log(0.1 / 9))) < 1e-15,
  );
  assert.equal(labelNoiseFloor(10, 0), 0);
  assert.ok(Math.abs(labelNoiseFloor(2, 0.5) - Math.log(2)) < 1e-15); // coin flip
  assert.equal(syntheticImages.info.entropy_nats, labelNoiseFloor(10, 0.1));
});

Deno.test("drawPrototypes() separates every pair of different classes by more than 2A at some byte", () => {
  const protos = drawPrototypes(DEFAULT_SYNTHETIC_IMAGES);
  const { prototypesPerClass: M, noise: A } = DEFAULT_SYNTHETIC_IMAGES;
  for (let i = 0; i < protos.length; i++) {
    for (let j = i + 1; j < protos.length; j++) {
      if (Math.floor(i / M) === Math.floor(j / M)) continue;
      let max = 0;
      for (let p = 0; p < protos[i]!.length; p++) {
        max = Math.max(max, Math.abs(protos[i]![p]! - protos[j]![p]!));
      }
      assert.ok(max > 2 * A, `prototypes ${i}, ${j} differ by at most ${max}`);
    }
    assert.ok(protos[i]!.every((v) => v >= A && v <= 255 - A), "noise never clips");
  }
});

Deno.test("synthetic-images labels disagree with the nearest prototype's class at rate ε", async () => {
  const K = 10, M = 4, eps = 0.2;
  const data = createSyntheticImages({ labelNoise: eps, seed: 7 });
  const protos = drawPrototypes({ ...DEFAULT_SYNTHETIC_IMAGES, labelNoise: eps, seed: 7 });
  const batch = (await data.batches({ split: "train", batchSize: 2000, seed: 0 }).next())
    .value as ImageBatch;
  let flips = 0;
  for (let b = 0; b < 2000; b++) {
    const img = batch.images.subarray(b * 3072, (b + 1) * 3072);
    let best = -1, bestD = Infinity;
    protos.forEach((p, i) => {
      let d = 0;
      for (let x = 0; x < 3072; x++) {
        const v = (img[x]! * 0.25 + 0.5) * 255 - p[x]!;
        d += v * v;
      }
      if (d < bestD) [bestD, best] = [d, i];
    });
    if (Math.floor(best / M) !== batch.labels[b]) flips++;
    for (let x = 0; x < 3072; x++) {
      const v = Math.round((img[x]! * 0.25 + 0.5) * 255);
      assert.ok(
        Math.abs(v - protos[best]![x]!) <= DEFAULT_SYNTHETIC_IMAGES.noise,
        "noise stays within ±A",
      );
    }
  }
  // Binomial(2000, 0.2): sd ≈ 0.0089; 4 sd.
  assert.ok(Math.abs(flips / 2000 - eps) < 0.036, `flip rate ${flips / 2000}`);
  assert.equal(K, data.info.image!.classes.length);
});

Deno.test("synthetic-images batches are deterministic per seed", async () => {
  const one = async (seed: number) =>
    (await syntheticImages.batches({ split: "test", batchSize: 3, seed }).next())
      .value as ImageBatch;
  assert.deepEqual(await one(4), await one(4));
  assert.notDeepEqual((await one(4)).images, (await one(5)).images);
});
