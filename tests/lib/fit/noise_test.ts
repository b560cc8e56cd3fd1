import assert from "node:assert/strict";
import { fitIsoflop } from "../../../lib/fit/isoflop.ts";
import { estimateNoise, findReplicates, studentTDraw } from "../../../lib/fit/noise.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { mulberry32, normalDraw } from "../../../lib/random.ts";
import { isoflopPoints, SIX_BUDGETS } from "./_synthetic.ts";

const OPTS = { flopsPerParamToken: 6, budgetRelTol: 0.05 };

Deno.test("estimateNoise() pools replicate groups into the run-to-run sd of ln L", () => {
  const sd = 0.01;
  const base = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 4), perBudget: 5, halfWidth: 1 });
  const random = mulberry32(8);
  // Four seeds of every configuration: same N and D, loss × exp(sd·z).
  const points = base.flatMap((p) =>
    [0, 1, 2, 3].map(() => ({ ...p, loss: p.loss * Math.exp(sd * normalDraw(random)) }))
  );
  const set = preparePoints(points, OPTS);
  const groups = findReplicates(set);
  assert.equal(groups.length, base.length);
  assert.ok(groups.every((g) => g.n_runs === 4 && g.indices.length === 4));
  assert.deepEqual(groups[0]!.indices, [0, 1, 2, 3]);
  const noise = estimateNoise(set, fitIsoflop(set, set.budgets));
  assert.equal(noise.source, "replicates");
  assert.equal(noise.df, 3 * base.length);
  assert.equal(noise.n_replicate_points, points.length);
  // 60 df: the estimate is within ±3 standard errors (σ/√(2·df) ≈ 9 %) of the truth.
  assert.ok(Math.abs(noise.sd_log_loss! / sd - 1) < 0.27, `sd ${noise.sd_log_loss}`);
});

Deno.test("estimateNoise() falls back to the parabola residuals without replicates", () => {
  const sd = 0.005;
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 9,
    halfWidth: 1.5,
    noiseSd: sd,
    seed: 4,
  });
  const set = preparePoints(points, OPTS);
  const noise = estimateNoise(set, fitIsoflop(set, set.budgets));
  assert.equal(noise.source, "parabola_residuals");
  assert.equal(noise.df, 6 * (9 - 3));
  assert.equal(noise.n_replicate_groups, 0);
  assert.ok(Math.abs(noise.sd_log_loss! / sd - 1) < 0.3, `sd ${noise.sd_log_loss}`);
  const none = estimateNoise(set, null);
  assert.equal(none.source, "none");
  assert.equal(none.sd_log_loss, null);
});

Deno.test("studentTDraw() has the t distribution's spread", () => {
  const random = mulberry32(3);
  const normal = () => normalDraw(random);
  const draws = Array.from({ length: 20000 }, () => studentTDraw(normal, 5));
  const variance = draws.reduce((s, x) => s + x * x, 0) / draws.length;
  // Var(t_5) = 5/3; its sampling sd at n = 20,000 is ≈ 0.05 (heavy tails).
  assert.ok(Math.abs(variance - 5 / 3) < 0.2, `variance ${variance}`);
});
