import assert from "node:assert/strict";
import { evalFrontier } from "../../../lib/fit/frontier.ts";
import { evalPowerLaw, fitIsoflop } from "../../../lib/fit/isoflop.ts";
import { computeOptimal } from "../../../lib/fit/parametric.ts";
import { preparePoints } from "../../../lib/fit/points.ts";
import { buildTable, renderMarkdown } from "../../../lib/fit/table.ts";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

Deno.test("buildTable() gives one row per budget and approach, from G·(C/m)^a and the power laws", () => {
  const set = preparePoints(
    isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 0.5 }),
    { flopsPerParamToken: 6, budgetRelTol: 0.05 },
  );
  const isoflop = fitIsoflop(set, set.budgets);
  const rows = buildTable({
    budgets: [1e20, 1e22],
    maxDataFlops: 3e19,
    flopsPerParamToken: 6,
    law: TRUTH,
    isoflop,
    parametricCi: null,
    isoflopCi: null,
  });
  assert.deepEqual(rows.map((r) => r.approach), ["parametric", "parametric", "isoflop", "isoflop"]);
  const p = rows[1]!;
  const opt = computeOptimal(TRUTH, 1e22, 6);
  assert.equal(p.N, opt.params);
  assert.ok(Math.abs(6 * p.N * p.D / 1e22 - 1) < 1e-12);
  assert.ok(Math.abs(p.D_per_N - p.D / p.N) < 1e-9);
  assert.ok(Math.abs(p.extrapolation - 1e22 / 3e19) < 1e-9);
  // Approach 2 from noiseless, centred sweeps: same exponent, N within the width bias.
  const i = rows[3]!;
  assert.ok(Math.abs(Math.log(i.N / p.N)) < 0.01, `${i.N} vs ${p.N}`);
  // Its loss is the frontier E + k·C^−γ; the pure power law is reported beside it, and runs
  // low 1,000× past the data where the frontier stays near the law's own optimum loss.
  assert.equal(i.loss, evalFrontier(isoflop!.loss_frontier!, 1e22));
  assert.equal(i.loss_power_law, evalPowerLaw(isoflop!.loss_opt, 1e22));
  assert.equal(p.loss_power_law, null);
  const frontierErr = Math.abs(i.loss / opt.loss - 1);
  const powerErr = Math.abs(i.loss_power_law! / opt.loss - 1);
  assert.ok(frontierErr < powerErr / 3, `frontier ${frontierErr} vs power law ${powerErr}`);
  assert.ok(i.loss_power_law! < opt.loss, "the pure power law runs low");
});

Deno.test("renderMarkdown() writes | C | N_opt | D_opt | D/N | predicted loss | with intervals", () => {
  const md = renderMarkdown([
    {
      approach: "parametric",
      C: 1e21,
      N: 1.234e9,
      D: 2.5e10,
      D_per_N: 20.26,
      loss: 2.345,
      loss_power_law: null,
      ci: { N: [1e9, 1.5e9], D: [2e10, 3e10], D_per_N: [15, 25], loss: [2.3, 2.4] },
      prediction_interval: [2.25, 2.45],
      extrapolation: 1,
    },
    {
      approach: "isoflop",
      C: 1e21,
      N: 1e9,
      D: 3e10,
      D_per_N: 30,
      loss: 2.3,
      loss_power_law: 2.25,
      ci: null,
      prediction_interval: null,
      extrapolation: 1,
    },
  ], 0.95);
  assert.match(md, /### Approach 3 .*95 % bootstrap intervals/);
  assert.match(md, /\| C \| N_opt \| D_opt \| D\/N \| predicted loss \| one new run \|/);
  assert.match(
    md,
    /\| 1\.00e\+21 \| 1\.23e\+9 \[1\.00e\+9, 1\.50e\+9\] \| 2\.50e\+10 \[2\.00e\+10, 3\.00e\+10\] \| 20\.3 \[15\.0, 25\.0\] \| 2\.35 \[2\.30, 2\.40\] \| \[2\.25, 2\.45\] \|/,
  );
  assert.match(md, /### Approach 2[^\n]*\n\n\| C/);
  assert.match(md, /\| 1\.00e\+21 \| 1\.00e\+9 \| 3\.00e\+10 \| 30\.0 \| 2\.30 \|/);
});

Deno.test("format=markdown carries every warning and marks the recommended row", () => {
  // Issue #20: the markdown dropped every warning the JSON answer had.
  const points = isoflopPoints({ budgets: [1e18, 1e19, 1e20], perBudget: 5, halfWidth: 1 });
  const fit = fitScalingLaws({ points, budgets: [1e22], bootstrap: 0, sensitivity: false });
  assert.ok(fit.warnings.length >= 2, fit.warnings.map((w) => w.code).join(", "));
  for (const w of fit.warnings) assert.ok(fit.markdown.includes(`\`${w.code}\``), w.code);
  assert.match(fit.markdown, /\*\*1\.00e\+22\*\* \(recommended\)/);
});
