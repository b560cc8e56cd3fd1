import assert from "node:assert/strict";
import { MockLawSchema } from "../../../lib/sweep/config.ts";
import { lawLoss } from "../../../lib/sweep/mock.ts";
import {
  checkSweep,
  fitSweep,
  flopsPerParamToken,
  type SweepFit,
} from "../../../lib/sweep/sweep_fit.ts";
import {
  formatSummary,
  formatTable,
  headlines,
  type SummaryContext,
  WARNING_LABELS,
  warningLine,
} from "../../../lib/sweep/summary.ts";
import { buildPlotSpecs } from "../../../lib/sweep/plots.ts";
import { FitWarningSchema } from "../../../lib/fit/schema.ts";
import { markdownToHtml } from "../../../lib/sweep/html.ts";
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
    holdOutAbove: null,
  });
  assert.equal(sweep.fit.flops_per_param_token, 10);
  // Noiseless points from the law: Approach 3 recovers it.
  assert.ok(Math.abs(sweep.fit.parametric.alpha - 0.34) < 1e-3);
  assert.ok(Math.abs(sweep.fit.parametric.E - law.E) < 1e-3);
  const checks = checkSweep(sweep.fit, { entropyNats: 1.0 });
  assert.deepEqual(checks.forecasts, [], "holdOutAbove: null holds nothing out");
  assert.equal(sweep.holdOutAbove, null);
  assert.equal(checks.positiveCurvature, true);
  assert.equal(checks.nOptRising, true);
  assert.ok(Math.abs(checks.entropyGap! - (sweep.fit.parametric.E - 1)) < 1e-12);
  const table = formatTable(sweep);
  assert.equal(table.split("\n").length, 2 + 3 * 6, "6 budgets × (recommended + 2 approaches)");
  assert.match(table, /\(×10\)/);
  // Every row is labelled by its own approach, the recommended one first at each budget.
  const labels = table.split("\n").slice(2).map((l) => l.split(" | ")[1]);
  assert.deepEqual(
    labels,
    Array.from({ length: 6 }, () => ["recommended", "2 IsoFLOP", "3 parametric"]).flat(),
  );
  // Only the ×100 row is past 10× the data (the fitter's own warning over the table's budgets).
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

Deno.test("fitSweep() holds out a budget 10× above the rest, scores both fits' forecasts, and the summary leads with the answer, then them", () => {
  const held: ResultRecord[] = [];
  const C = 3e12, centre = 0.3 * C ** 0.45;
  for (const f of [0.25, 0.5, 1, 2, 4]) {
    const N = Math.round(centre * f), D = C / (10 * N);
    held.push({
      key: `${C}/${N}`,
      budget_flops: C,
      size: N,
      N,
      D,
      C,
      loss: lawLoss(law, N, D),
      wall_s: 1,
      worker: "w",
      finished_at: "2026-01-01T00:00:00Z",
      result: {},
    } as ResultRecord);
  }
  const sweep = fitSweep({
    records: [...records(), ...held],
    budgets: [1e10, 3e10, 1e11, 3e11, 3e12],
    bootstrap: 40,
    seed: 0,
    fitLoss: "loss",
    entropyNats: law.E,
  });
  assert.equal(sweep.holdOutAbove, 3e11, "the 10× gap above 3e11 is detected");
  assert.notEqual(sweep.constrained, null);
  assert.equal(sweep.constrained!.parametric.E, law.E);
  const forecasts = sweep.checks.forecasts;
  // The recommended forecast first, beside each approach's, for each fit.
  assert.deepEqual(
    forecasts.map((f) => `${f.fit}/${f.approach}`),
    [
      "free/recommended",
      "free/parametric",
      "free/isoflop",
      "entropy/recommended",
      "entropy/parametric",
      "entropy/isoflop",
    ],
  );
  const heldRec = sweep.fit.backtest!.held_out[0]!.recommended!;
  assert.equal(forecasts[0]!.N.predicted, heldRec.N);
  assert.equal(forecasts[0]!.loss.predicted, heldRec.loss);
  assert.deepEqual(forecasts.map((f) => f.eApplied), [false, false, false, true, true, true]);
  for (const f of forecasts) {
    assert.equal(f.C, sweep.fit.backtest!.held_out[0]!.C);
    assert.ok(Math.abs(f.extrapolation - 10) < 0.5, `extrapolation ${f.extrapolation}`);
    // Noiseless points from the law that Approach 3 fits: its forecast is exact to well under 1 %.
    if (f.approach === "parametric") {
      assert.ok(Math.abs(f.loss.errorPct) < 0.5, `${f.loss.errorPct}`);
    }
    assert.equal(f.loss.errorPct, 100 * (f.loss.predicted - f.loss.observed) / f.loss.observed);
  }
  const summary = formatSummary(sweep, {
    name: "t",
    family: "toy",
    dataset: "law",
    dataUnit: "tokens",
    points: 25,
    mock: true,
    fitLoss: "loss",
    entropyNats: law.E,
  });
  const sections = [...summary.matchAll(/^## (.*)$/gm)].map((m) => m[1]!);
  assert.match(sections[0]!, /^The answer \(E free; 95% intervals\)$/);
  assert.match(sections[1]!, /^Forecast check: 3\.0e12 held out \(10× above/);
  // One headline per table budget (the 5 swept, ×10 and ×100), each with three intervals, each
  // the fit's recommended row, named with its rule in one phrase.
  const answer = summary.split("\n").filter((l) => l.startsWith("- **At C = "));
  assert.equal(answer.length, 7);
  for (const line of answer) assert.equal((line.match(/\[/g) ?? []).length, 3, line);
  assert.match(answer[6]!, /^- \*\*At C = 3\.0e14 FLOPs, .* 100× past the largest trained budget/);
  const rec = sweep.fit.table.filter((r) => r.recommended === true && r.C === 3e14)[0]!;
  assert.ok(answer[6]!.includes(`expect loss ${rec.loss.toFixed(4)}`), answer[6]);
  for (const line of answer) assert.match(line, /\(recommended\)$/);
  assert.match(summary, /^Recommended: N from Approach 2's power law, loss from Approach 3's/m);
  assert.doesNotMatch(summary, /†/, "no fallback when every budget has a recommended row");
  assert.match(summary, /\| 3\.0e12 \| E = entropy \| recommended \|/);
  assert.doesNotMatch(summary, /\de\+\d/, "one number format: no e+ exponents");
  // Each interval of a law follows the parameter it belongs to.
  assert.match(summary, /N_opt = k·C\^a with k = [\d.e]+ \[[^\]]+\], a = 0\.\d+ \[/);
  assert.match(summary, /\| 3\.0e12 \| E = entropy \| 3 parametric \|/);
  assert.match(summary, /E = entropy, Approach 3/);

  // Without recommended rows (an older fit), the headline falls back to Approach 2, marked †.
  const old: SweepFit = {
    ...sweep,
    fit: {
      ...sweep.fit,
      table: sweep.fit.table.filter((r) => r.approach !== "recommended"),
      recommendation: null,
    },
  };
  assert.ok(headlines(old).every((h) => h.basis === "fallback" && h.row.approach === "isoflop"));
  const oldSummary = formatSummary(old, CONTEXT);
  assert.match(oldSummary, /\(Approach 2†\)$/m);
  assert.match(oldSummary, /† Approach 2 \(IsoFLOP\); the fit marks no row recommended/);
  assert.doesNotMatch(formatTable(old), /recommended/);

  // A constraint that did not reach a row is never claimed: with the E = entropy fit's Approach 2
  // rows computed without E (no frontier), its forecast and its law say so.
  const unapplied: SweepFit = {
    ...sweep,
    constrained: {
      ...sweep.constrained!,
      table: sweep.constrained!.table.map((r) =>
        r.approach === "isoflop" ? { ...r, E_constraint: "free" as const } : r
      ),
    },
  };
  const checks = checkSweep(unapplied.fit, {
    entropyNats: law.E,
    constrained: unapplied.constrained,
  });
  const a2 = checks.forecasts.find((f) => f.fit === "entropy" && f.approach === "isoflop")!;
  assert.equal(a2.eApplied, false);
  const text = formatSummary({ ...unapplied, checks }, CONTEXT);
  assert.match(text, /\| E = entropy requested, not applied \| 2 IsoFLOP \|/);
  assert.match(text, /\| E = entropy \| 3 parametric \|/);
  assert.match(text, /- E = entropy requested, not applied \(E_constraint free\), Approach 2/);
  assert.match(text, /- E = entropy, Approach 3/);

  // The hero figure draws the recommended rows under their own name, and the held-out forecast
  // beside them is the recommended one made without the held-out budget.
  const specs = buildPlotSpecs({
    runs: sweep.runs,
    fit: sweep.fit,
    dataUnit: "tokens",
    answer: headlines(sweep).map((h) => h.row),
    heldOut: new Set(["3e12"]),
  });
  const layers =
    (specs.hero as unknown as { layer: { data: { values: Record<string, unknown>[] } }[] })
      .layer.flatMap((l) => l.data.values);
  const series = new Set(layers.map((v) => v.series));
  assert.ok(series.has("recommended forecast (box: 95% interval)"), [...series].join("; "));
  assert.ok(series.has("recommended compute-optimal line"));
  assert.ok(![...series].some((n) => /Approach 3/.test(String(n))), "nothing named Approach 3");
  const heldPoint = layers.find((v) => String(v.series).startsWith("held-out"))!;
  assert.match(String(heldPoint.series), /^held-out 3\.0e12: recommended, fit on ≤ 3\.0e11$/);
  assert.equal(heldPoint.N, heldRec.N);
  assert.equal(heldPoint.nLo, heldRec.ci!.N[0]);
});

const CONTEXT: SummaryContext = {
  name: "t",
  family: "toy",
  dataset: "law",
  dataUnit: "tokens",
  points: 25,
  mock: true,
  fitLoss: "loss",
  entropyNats: law.E,
};

Deno.test("every warning code has a plain-language label, and the report prints it before the code", () => {
  for (const code of FitWarningSchema.shape.code.options) {
    assert.ok(WARNING_LABELS[code] !== undefined && WARNING_LABELS[code] !== code, code);
  }
  assert.equal(
    warningLine(
      { code: "E_not_applied", message: "needs 3 usable budgets (C = 3.00e+12)" },
      "E = entropy fit",
    ),
    "- **The requested E constraint was not applied** (E_not_applied, E = entropy fit): " +
      "needs 3 usable budgets (C = 3.00e12)",
  );
  assert.match(
    warningLine({ code: "below_floor", message: "x" }),
    /^- \*\*Forecast below the known floor\*\* \(below_floor\): x$/,
  );
});

Deno.test("the report's warnings: 10.0009× past the data is 10× (no 'more than 10× (up to 10.00×)'), m printed rounded", async () => {
  const { extrapolationWarning } = await import("../../../lib/fit/warnings.ts");
  const row = (extrapolation: number) => ({ approach: "parametric", extrapolation }) as never;
  assert.equal(extrapolationWarning([row(10.0009)]), undefined);
  assert.match(
    extrapolationWarning([row(10.0009), row(100.01)])!.message,
    /^1 requested .*\(up to 100×\)/,
  );
  const { fitScalingLaws } = await import("../../../lib/fit/mod.ts");
  const fit = fitScalingLaws({
    // Each point's C is 3× m·N·D: every point mismatches.
    points: records().map((r) => ({
      N: r.N,
      D: r.D,
      C: 3 * 4.068275456150677 * r.N * r.D,
      loss: r.loss,
    })),
    flops_per_param_token: 4.068275456150677,
    bootstrap: 0,
  });
  const mismatch = fit.warnings.find((w) => w.code === "flops_mismatch")!;
  assert.match(mismatch.message, /than 1\.5× away from 4\.068·N·D;/);
});
