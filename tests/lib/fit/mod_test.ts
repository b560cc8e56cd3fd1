import assert from "node:assert/strict";
import {
  FitInputError,
  type FitRequest,
  FitResultSchema,
  fitScalingLaws,
} from "../../../lib/fit/mod.ts";
import { isoflopPoints, SIX_BUDGETS, TRUTH } from "./_synthetic.ts";

function refuses(input: unknown, field: string, message: RegExp, status = 422, limits = {}): void {
  assert.throws(() => fitScalingLaws(input as FitRequest, limits), (e: unknown) => {
    assert.ok(e instanceof FitInputError, String(e));
    assert.equal(e.field, field);
    assert.match(e.message, message);
    assert.equal(e.status, status);
    return true;
  });
}

Deno.test("fitScalingLaws() recovers the law end to end and its result matches FitResultSchema", () => {
  const points = isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 7, halfWidth: 1 });
  const fit = fitScalingLaws({ points, bootstrap: 20, budgets: [1e21], backtest: true });
  for (const k of ["E", "A", "B", "alpha", "beta"] as const) {
    assert.ok(Math.abs(fit.parametric[k] / TRUTH[k] - 1) < 1e-4, `${k} ${fit.parametric[k]}`);
  }
  assert.ok(Math.abs(fit.parametric.a - 0.28 / 0.62) < 1e-4);
  assert.equal(fit.parametric.residuals.length, 42);
  assert.ok(fit.parametric.residuals.every((r) => Math.abs(r) < 1e-6));
  assert.equal(fit.budgets.length, 6);
  assert.equal(fit.table.length, 2);
  assert.ok(fit.backtest !== null && fit.bootstrap?.n_resamples === 20);
  assert.ok(FitResultSchema.safeParse(fit).success);
  assert.match(fit.markdown, /\| C \| N_opt \| D_opt \| D\/N \| predicted loss \|/);
});

Deno.test("fitScalingLaws() refuses bad input with the field at fault", () => {
  const good = isoflopPoints({ budgets: SIX_BUDGETS.slice(0, 3), perBudget: 4, halfWidth: 1 });
  refuses({ points: [] }, "points", /must not be empty/);
  refuses({}, "points", /array/);
  refuses({ points: [{ N: "1e6", D: 1, loss: 1 }] }, "points[0].N", /finite number/);
  refuses({ points: [{ N: 1, D: null, loss: 1 }] }, "points[0].D", /finite number/);
  refuses({ points: [{ N: 1, D: 1, loss: NaN }] }, "points[0].loss", /finite number/);
  refuses({ points: [{ N: Infinity, D: 1, loss: 1 }] }, "points[0].N", /finite number/);
  refuses({ points: [{ N: 1, D: 1, loss: 0 }] }, "points[0].loss", /> 0/);
  refuses({ points: [{ N: -5, D: 1, loss: 1 }] }, "points[0].N", /> 0/);
  refuses({ points: good, bootstrap: 2.5 }, "bootstrap", /int/i);
  refuses({ points: good, confidence: 1 }, "confidence", /</);
  refuses({ points: good, budgets: [] }, "budgets", /must not be empty/);
  refuses({ points: good, bootstrap: 50 }, "bootstrap", /limit of 10/, 422, { maxBootstrap: 10 });
  refuses({ points: good }, "points", /exceed the limit of 5/, 413, { maxPoints: 5 });
  const many = isoflopPoints({ budgets: SIX_BUDGETS, perBudget: 100, halfWidth: 1 });
  refuses({ points: many, multistart: "grid" }, "multistart", /at most 500 points/);
  refuses({ points: many, bootstrap: 5000 }, "bootstrap", /exceeds/);
  const flat = good.map((p) => ({ ...p, loss: 3 + 0.1 * Math.log(p.N) }));
  refuses({ points: flat, bootstrap: 0 }, "points", /non-positive exponent/);
});
