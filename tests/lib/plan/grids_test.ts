import assert from "node:assert/strict";
import {
  addReplicates,
  batchSizeOf,
  centreByRatio,
  planGrid,
  planSweep,
  pointKey,
  snapSizes,
} from "../../../lib/plan/grids.ts";
import { DEFAULT_BATCH_SIZE, TrainRequestSchema } from "../../../lib/train/request.ts";
import { planTraining } from "../../../lib/train/run_plan.ts";
import { PRESETS, resolveSweepConfig } from "../../../lib/sweep/config.ts";
import { familyForSweep } from "../../../lib/plan/study.ts";
import { getDataset } from "../../../data/mod.ts";
import { toyFamily } from "./_family.ts";

const family = toyFamily();

Deno.test("planSweep() snaps every size to one the family can build, each once", () => {
  const grids = planSweep({ family, budgets: [1e12, 1e13, 1e14], dataset: "x", sizesPerBudget: 6 });
  const buildable = new Set(family.sizes.map((s) => s.size));
  for (const grid of grids) {
    assert.equal(grid.points.length, 6);
    const sizes = grid.points.map((p) => p.size);
    assert.equal(new Set(sizes).size, sizes.length);
    for (const p of grid.points) {
      assert.ok(buildable.has(p.size), `size ${p.size} is buildable`);
      assert.equal(p.params, 12 * p.size * p.size);
    }
    assert.deepEqual(sizes, [...sizes].sort((a, b) => a - b));
  }
});

Deno.test("planSweep() spends each budget in whole steps: S = floor(C/(F·B))·B", () => {
  const [grid] = planSweep({ family, budgets: [3e12], dataset: "x", hyper: { batch_size: 16 } });
  for (const p of grid!.points) {
    assert.equal(p.samples % 16, 0);
    assert.equal(p.samples, Math.floor(3e12 / (p.flops_per_sample * 16)) * 16);
    assert.ok(p.flops <= 3e12 && 3e12 - p.flops < 16 * p.flops_per_sample);
  }
});

Deno.test("planSweep() without hyper.batch_size plans whole steps of the trainer's default batch", () => {
  const [grid] = planSweep({ family, budgets: [3e12], dataset: "x" });
  assert.equal(batchSizeOf({ dataset: "x" }), DEFAULT_BATCH_SIZE);
  for (const p of grid!.points) {
    assert.equal(p.samples % DEFAULT_BATCH_SIZE, 0);
    assert.equal(
      p.samples,
      Math.floor(3e12 / p.flops_per_sample / DEFAULT_BATCH_SIZE) * DEFAULT_BATCH_SIZE,
    );
    assert.ok(p.flops <= 3e12 && 3e12 - p.flops < DEFAULT_BATCH_SIZE * p.flops_per_sample);
    assert.equal(p.data, p.samples * 64);
    assert.deepEqual(p.request.budget, { flops: 3e12 });
  }
});

Deno.test("planSweep() centres the grid at ≈20 tokens per parameter, geometric over the width", () => {
  const [grid] = planSweep({ family, budgets: [1e14], dataset: "x", sizesPerBudget: 5, width: 16 });
  const centre = grid!.centre_params;
  // At the centre D/N = 20 with continuous D = C/F·T.
  const d = Math.sqrt(centre / 12);
  const f = 6 * centre * 64 + 12 * 64 * 64 * d;
  assert.ok(Math.abs((1e14 / f * 64) / centre / 20 - 1) < 0.05);
  const ln = grid!.points.map((p) => Math.log(p.params));
  const mid = ln[2]!;
  assert.ok(Math.abs(mid - Math.log(centre)) < 0.15, "middle size is nearest the centre");
  const span = Math.exp(ln[4]! - ln[0]!);
  assert.ok(span > 12 && span < 21, `span ${span} ≈ 16`);
  // Geometric: successive log-gaps roughly equal.
  const gaps = ln.slice(1).map((x, i) => x - ln[i]!);
  for (const g of gaps) assert.ok(Math.abs(g - Math.log(16) / 4) < 0.2);
});

Deno.test("planSweep() centres on a prior fit when one is given", () => {
  const prior = { k: 0.01, a: 0.5 };
  const [grid] = planSweep({ family, budgets: [1e14], dataset: "x", prior });
  assert.equal(grid!.centre_from, "prior");
  assert.ok(Math.abs(grid!.centre_params - 0.01 * 1e7) < 1e-6);
});

Deno.test("planSweep() uses explicit sizes and rejects ones the family cannot build", () => {
  const [grid] = planSweep({ family, budgets: [1e12], dataset: "x", sizes: [16, 32, 64] });
  assert.deepEqual(grid!.points.map((p) => p.size), [16, 32, 64]);
  assert.throws(
    () => planSweep({ family, budgets: [1e12], dataset: "x", sizes: [17] }),
    /cannot build/,
  );
});

Deno.test("planGrid() warns when the optimum lies beyond the family and drops unaffordable sizes", () => {
  const grid = planGrid({ family, dataset: "x" }, {
    budget: 1e9,
    centre: 1e9,
    from: "prior",
    count: 5,
  });
  assert.ok(grid.warnings.some((w) => /above the largest/.test(w)));
  assert.ok(grid.warnings.some((w) => /skipped/.test(w)));
  for (const p of grid.points) assert.ok(p.samples >= 1);
});

Deno.test("snapSizes() never returns a size twice, even when targets crowd one size", () => {
  const chosen = snapSizes(family.sizes, [1000, 1001, 1002, 1003]);
  assert.equal(chosen.length, 4);
  assert.equal(new Set(chosen.map((s) => s.size)).size, 4);
});

Deno.test("centreByRatio() extrapolates past the family's range instead of clamping silently", () => {
  const small = centreByRatio(family, 1e6, 20);
  assert.ok(small < family.sizes[0]!.params);
  const large = centreByRatio(family, 1e22, 20);
  assert.ok(large > family.sizes.at(-1)!.params);
});

Deno.test("pointKey() is stable under key order and changes with any hyper-parameter", () => {
  const a = {
    family: "gpt",
    size: 64,
    dataset: "d",
    budget: { flops: 1e11 },
    seed: 0,
    lr: 1e-3,
    batch_size: 8,
  };
  const b = {
    batch_size: 8,
    lr: 1e-3,
    seed: 0,
    budget: { flops: 1e11 },
    dataset: "d",
    size: 64,
    family: "gpt",
  };
  assert.equal(pointKey(a), pointKey(b));
  assert.notEqual(pointKey(a), pointKey({ ...a, lr: 2e-3 }));
  assert.notEqual(pointKey(a), pointKey({ ...a, seed: 1 }));
  assert.match(pointKey(a), /^gpt\/d\/size=64\/C=1e\+11\/seed=0\/[0-9a-f]{8}$/);
});

Deno.test("planner and trainer agree on samples and FLOPs for every point of every preset", () => {
  for (const preset of Object.keys(PRESETS)) {
    const config = resolveSweepConfig({ preset });
    const dataset = getDataset(config.dataset);
    assert.equal(typeof config.family, "string", `${preset}: presets name registry families`);
    const sweepFamily = familyForSweep(config.family as string, {
      params: config.params,
      data: dataset.info,
      ...(config.model === undefined ? {} : { model: config.model }),
    });
    const grids = planSweep({
      family: sweepFamily,
      budgets: config.budgets,
      dataset: config.dataset,
      hyper: config.hyper,
      ...(config.model === undefined ? {} : { model: config.model }),
      sizesPerBudget: config.sizes_per_budget,
      width: config.width,
      dataPerParam: config.data_per_param,
    });
    let points = 0;
    for (const point of grids.flatMap((g) => g.points)) {
      const plan = planTraining(TrainRequestSchema.parse(point.request), {
        resolveDataset: (name) => getDataset(name),
      });
      const where = `${preset} ${point.key}`;
      assert.equal(plan.steps * plan.batchSize, point.samples, `samples of ${where}`);
      assert.equal(plan.flopsPerSample, point.flops_per_sample, `FLOPs per sample of ${where}`);
      assert.equal(plan.steps * plan.batchSize * plan.flopsPerSample, point.flops, where);
      points++;
    }
    assert.ok(points >= config.budgets.length * 3, `${preset} planned ${points} points`);
  }
});

Deno.test("addReplicates() adds seeds seed+1… of each grid's centre size with the same samples", () => {
  const template = { family, dataset: "x", seed: 7, hyper: { batch_size: 4 } };
  const grids = planSweep({ ...template, budgets: [1e12, 1e13] });
  const more = addReplicates(grids, template, 3);
  assert.deepEqual(addReplicates(grids, template, 1), grids);
  for (const [i, grid] of more.entries()) {
    const base = grids[i]!.points;
    assert.equal(grid.points.length, base.length + 2);
    const extra = grid.points.slice(base.length);
    const centre = base.reduce((b, p) =>
      Math.abs(Math.log(p.params / grid.centre_params)) <
          Math.abs(Math.log(b.params / grid.centre_params))
        ? p
        : b
    );
    assert.deepEqual(extra.map((p) => p.request.seed), [8, 9]);
    for (const p of extra) {
      assert.equal(p.size, centre.size);
      assert.equal(p.samples, centre.samples);
      assert.notEqual(p.key, centre.key);
    }
  }
});
