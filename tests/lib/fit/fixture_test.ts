import assert from "node:assert/strict";
import { fitScalingLaws } from "../../../lib/fit/mod.ts";

/** Written by tests/fixtures/fit/make_fixture.py (SciPy L-BFGS-B from all 4,500 starts, numpy.polyfit). */
const FIXTURE = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/fit/noisy_isoflop.json", import.meta.url)),
);

Deno.test("fitScalingLaws() matches the SciPy/numpy reference fit of a noisy sweep (committed fixture)", () => {
  const fit = fitScalingLaws({ points: FIXTURE.points, bootstrap: 0 });
  const ref = FIXTURE.approach3;
  // Our objective is at least as low as SciPy's best of 4,500 starts (to rounding) …
  assert.ok(
    fit.parametric.objective <= ref.objective * (1 + 1e-7),
    `${fit.parametric.objective} vs ${ref.objective}`,
  );
  // … and at the same optimum.
  for (const k of ["E", "A", "B", "alpha", "beta"] as const) {
    const rel = Math.abs(fit.parametric[k] - ref[k]) / Math.abs(ref[k]);
    assert.ok(rel < 1e-4, `${k}: ${fit.parametric[k]} vs ${ref[k]} (rel ${rel})`);
  }
  const iso = fit.isoflop!;
  assert.ok(Math.abs(iso.a - FIXTURE.approach2.a) < 1e-9, `a ${iso.a} vs ${FIXTURE.approach2.a}`);
  assert.ok(Math.abs(iso.b - FIXTURE.approach2.b) < 1e-9);
  iso.budgets.forEach((b, i) => {
    assert.ok(Math.abs(b.N!.vertex / FIXTURE.approach2.N_opt[i] - 1) < 1e-9);
    assert.ok(Math.abs(b.D!.vertex / FIXTURE.approach2.D_opt[i] - 1) < 1e-9);
  });
});
