import assert from "node:assert/strict";
import { MockLawSchema } from "../../../lib/sweep/config.ts";
import { lawLoss } from "../../../lib/sweep/mock.ts";
import {
  checkSweep,
  fitSweep,
  flopsPerParamToken,
  formatTable,
  markdownToHtml,
} from "../../../lib/sweep/report.ts";
import type { ResultRecord } from "../../../lib/sweep/results.ts";

const law = MockLawSchema.parse({});

function records(): ResultRecord[] {
  const out: ResultRecord[] = [];
  for (const C of [1e10, 3e10, 1e11, 3e11]) {
    const centre = 0.3 * C ** 0.45;
    for (const f of [0.25, 0.5, 1, 2, 4]) {
      const N = Math.round(centre * f);
      const D = C / (10 * N);
      out.push({
        key: `${C}/${N}`,
        budget_flops: C,
        size: N,
        N,
        D,
        C,
        loss: lawLoss(law, N, D),
        wall_s: 1,
        worker: "test",
        finished_at: "",
      });
    }
  }
  return out;
}

Deno.test("flopsPerParamToken() is the median of C / (N·D)", () => {
  assert.equal(
    flopsPerParamToken([{ N: 1, D: 1, C: 6 }, { N: 1, D: 1, C: 12 }, { N: 2, D: 1, C: 20 }]),
    10,
  );
});

Deno.test("fitSweep() fits the sweep's runs with the sweep's own FLOPs multiplier", () => {
  const sweep = fitSweep({
    records: records(),
    budgets: [1e10, 3e10, 1e11, 3e11],
    bootstrap: 0,
    seed: 0,
    fitLoss: "loss",
  });
  assert.equal(sweep.fit.flops_per_param_token, 10);
  // Noiseless points from the law: Approach 3 recovers it.
  assert.ok(Math.abs(sweep.fit.parametric.alpha - 0.34) < 1e-3);
  assert.ok(Math.abs(sweep.fit.parametric.E - law.E) < 1e-3);
  const checks = checkSweep(sweep.fit, 1.0);
  assert.equal(checks.positiveCurvature, true);
  assert.equal(checks.nOptRising, true);
  assert.ok(Math.abs(checks.entropyGap! - (sweep.fit.parametric.E - 1)) < 1e-12);
  const table = formatTable(sweep);
  assert.equal(table.split("\n").length, 2 + 2 * 6, "6 budgets × 2 approaches");
  assert.match(table, /\(×10\)/);
  // Only the ×100 row is past 10× the data; the CI band's many budgets are not counted.
  const far = sweep.fit.warnings.filter((w) => w.code === "extrapolation");
  assert.equal(far.length, 1);
  assert.match(far[0]!.message, /^1 requested budget\(s\) exceed/);
});

Deno.test("markdownToHtml() renders headings, lists, tables and escapes HTML", () => {
  const html = markdownToHtml(
    "# T <x>\n\n- a **b**\n- c\n\n| h1 | h2 |\n| --- | --- |\n| 1 | 2 |\n\ntext & more",
  );
  assert.match(html, /<h1>T &lt;x&gt;<\/h1>/);
  assert.match(html, /<ul><li>a <strong>b<\/strong><\/li><li>c<\/li><\/ul>/);
  assert.match(html, /<th>h1<\/th><th>h2<\/th>/);
  assert.match(html, /<td>1<\/td><td>2<\/td>/);
  assert.match(html, /<p>text &amp; more<\/p>/);
});
