import assert from "node:assert/strict";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

function codes(fit: ReturnType<typeof fitScalingLaws>): string[] {
  return fit.warnings.map((w) => w.code);
}

Deno.test("collectWarnings() is quiet for a good sweep and budgets inside the data", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 7,
    halfWidth: 1,
    noiseSd: 0.003,
  });
  const fit = fitScalingLaws({ points, bootstrap: 30, budgets: [1e18, 3e19] });
  assert.deepEqual(fit.warnings, []);
});

Deno.test("collectWarnings() flags few budgets, far extrapolation and edge optima", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 3), perBudget: 5, halfWidth: 1 });
  // Shift the last budget's sweep so its optimum falls below the sampled N.
  for (const p of points.slice(10)) {
    p.N *= 4;
    p.D /= 4;
    p.loss = TRUTH.E + TRUTH.A / p.N ** TRUTH.alpha + TRUTH.B / p.D ** TRUTH.beta;
  }
  const fit = fitScalingLaws({ points, bootstrap: 0, budgets: [1e22] });
  const c = codes(fit);
  assert.ok(c.includes("few_budgets"), c.join());
  assert.ok(c.includes("extrapolation"), c.join());
  assert.ok(c.includes("edge_optimum"), c.join());
  assert.match(
    fit.warnings.find((w) => w.code === "edge_optimum")!.message,
    /1\.00e\+18.*extend the sweep/,
  );
});

Deno.test("collectWarnings() flags approaches that disagree beyond their intervals", () => {
  // Approach 2 is biased by asymmetric sweeps (centres far off the optimum) while
  // Approach 3 stays exact: with tiny noise the intervals are narrow and disjoint.
  const points = [];
  for (const c of SIX_BUDGETS) {
    const centre = 0.02 * (c / 6) ** 0.52;
    for (let k = 0; k < 7; k++) {
      const N = centre * Math.exp(-1.5 + k * 0.5);
      const D = c / (6 * N);
      const L = TRUTH.E + TRUTH.A / N ** TRUTH.alpha + TRUTH.B / D ** TRUTH.beta;
      points.push({ N, D, loss: L * (1 + 1e-5 * Math.sin(7 * k + c)) });
    }
  }
  const fit = fitScalingLaws({ points, bootstrap: 40 });
  assert.ok(codes(fit).includes("approaches_disagree"), JSON.stringify(fit.warnings));
});

Deno.test("collectWarnings() flags C inconsistent with m·N·D", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 3), perBudget: 5, halfWidth: 1 })
    .map((p) => ({ ...p, C: 2 * 6 * p.N * p.D }));
  const fit = fitScalingLaws({ points, bootstrap: 0 });
  assert.ok(codes(fit).includes("flops_mismatch"));
});

Deno.test("collectWarnings() flags predicted losses that disagree beyond their intervals", () => {
  // Far past the data, a pure power law L_opt(C) drops below Approach 3's E + …: with 3 budgets
  // Approach 2 has no frontier (it needs 4) and falls back to it.
  const points = isoflopPoints({
    budgets: SIX_BUDGETS.slice(0, 3),
    perBudget: 7,
    halfWidth: 1,
    noiseSd: 0.003,
  });
  const fit = fitScalingLaws({ points, bootstrap: 60, budgets: [1e25], sensitivity: false });
  const codes = fit.warnings.map((w) => w.code);
  assert.ok(codes.includes("frontier_unavailable"), JSON.stringify(codes));
  const disagree = fit.warnings.filter((w) => w.code === "approaches_disagree");
  assert.ok(
    disagree.some((w) => /predicted loss.*pure power law/.test(w.message)),
    JSON.stringify(fit.warnings),
  );
  // With 6 budgets the loss frontier E + k·C^−γ has a floor, and the approaches agree on loss.
  const six = fitScalingLaws({
    points: isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1, noiseSd: 0.003 }),
    bootstrap: 60,
    budgets: [1e25],
    sensitivity: false,
  });
  assert.ok(
    !six.warnings.some((w) => w.code === "approaches_disagree" && /predicted loss/.test(w.message)),
    JSON.stringify(six.warnings),
  );
});

Deno.test("collectWarnings() flags a fragile forecast and a missed backtest", () => {
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 7,
    halfWidth: 1.2,
    noiseSd: 0.002,
    seed: 6,
  });
  for (const p of points.slice(35)) p.loss *= 1.04; // the largest budget does 4 % worse
  const fit = fitScalingLaws({ points, bootstrap: 40, budgets: [3e20], backtest: true });
  const fragile = fit.warnings.filter((w) => w.code === "fragile_forecast");
  assert.ok(fragile.length > 0, JSON.stringify(fit.warnings));
  assert.match(fragile[0]!.message, /dropping one budget moves/);
  const missed = fit.warnings.filter((w) => w.code === "backtest_miss");
  // Approach 3, Approach 2 and (issue #19) the recommended row's forecast all miss it.
  assert.equal(missed.length, 3, JSON.stringify(fit.warnings));
  assert.match(missed[2]!.message, /the recommended row forecast/);
  assert.match(missed[0]!.message, /held-out budget 3\.00e\+19: Approach 3 .*outside its interval/);
  assert.match(missed[0]!.message, /compare form "joint"/);
  assert.doesNotMatch(missed[1]!.message, /form "joint"/);
});

Deno.test("E at its bound 0 raises E_at_bound for Approach 3 and Approach 2's frontier, E free", () => {
  // Issue #19: a free fit that put E at 0 said nothing. Points from a law with no floor.
  const points = isoflopPoints({
    budgets: SIX_BUDGETS,
    perBudget: 7,
    halfWidth: 1,
    law: { ...TRUTH, E: 0 },
  });
  const fit = fitScalingLaws({ points, bootstrap: 0, sensitivity: false });
  const atBound = fit.warnings.filter((w) => w.code === "E_at_bound").map((w) => w.message);
  assert.ok(fit.parametric.E < 1e-3, `E = ${fit.parametric.E}`);
  assert.ok(atBound.some((m) => m.startsWith("Approach 3")), atBound.join("; "));
  assert.equal(fit.isoflop?.loss_frontier?.E_at_bound, true);
  assert.ok(atBound.some((m) => m.startsWith("Approach 2")), atBound.join("; "));
});

Deno.test("a requested E that Approach 2 cannot apply is said, and no row claims it", () => {
  // Issue #20: in a two-budget study the "E = entropy" Approach 2 row fell back to the pure power
  // law, below the floor, keeping its label.
  const points = isoflopPoints({
    budgets: [1e18, 1e19],
    perBudget: 7,
    halfWidth: 1,
    noiseSd: 0.005,
    seed: 5,
  });
  const floor = TRUTH.E;
  const fit = fitScalingLaws({
    points,
    budgets: [1e21],
    E: { fixed: floor },
    bootstrap: 30,
    sensitivity: false,
  });
  const iso = fit.table.find((r) => r.approach === "isoflop")!;
  assert.equal(iso.E_constraint, "free", "its loss is the pure power law: no floor applied");
  assert.ok(fit.warnings.some((w) => w.code === "E_not_applied"));
  const par = fit.table.find((r) => r.approach === "parametric")!;
  assert.equal(par.E_constraint, "fixed");
  const rec = fit.table.find((r) => r.recommended)!;
  assert.equal(rec.E_constraint, "fixed");
  assert.ok(rec.loss > floor && rec.ci!.loss[0] >= floor, `${rec.loss} ${rec.ci!.loss}`);
  assert.ok(rec.prediction_interval === null || rec.prediction_interval[0] >= floor);
  assert.ok(rec.ci!.N[0] > 0 && Number.isFinite(rec.ci!.N[1]));
  if (iso.loss < floor) assert.ok(fit.warnings.some((w) => w.code === "below_floor"));
});
