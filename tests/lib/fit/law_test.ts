import assert from "node:assert/strict";
import {
  computeOptimal,
  exponentsOf,
  logResiduals,
  predictLoss,
  thetaToLaw,
} from "../../../lib/fit/law.ts";
import { TRUTH } from "./_synthetic.ts";

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

Deno.test("computeOptimal() matches a brute-force minimum of L along C = m·N·D", () => {
  for (const m of [6, 2.5]) {
    const c = 1e21;
    const opt = computeOptimal(TRUTH, c, m);
    assert.ok(relErr(m * opt.params * opt.data, c) < 1e-12);
    let bestN = 0;
    let bestL = Infinity;
    for (let x = Math.log(opt.params) - 0.5; x < Math.log(opt.params) + 0.5; x += 1e-5) {
      const N = Math.exp(x);
      const L = predictLoss(TRUTH, N, c / (m * N));
      if (L < bestL) [bestL, bestN] = [L, N];
    }
    assert.ok(relErr(bestN, opt.params) < 1e-4, `m=${m}: ${bestN} vs ${opt.params}`);
    assert.ok(relErr(bestL, opt.loss) < 1e-10);
  }
  const { a, b } = exponentsOf(TRUTH);
  assert.ok(Math.abs(a + b - 1) < 1e-15);
  assert.ok(relErr(a, 0.28 / 0.62) < 1e-15);
});

Deno.test("thetaToLaw() exponentiates a, b, e and logResiduals() is ln L̂ − ln L", () => {
  const law = thetaToLaw([Math.log(406.4), Math.log(410.7), Math.log(1.69), 0.34, 0.28]);
  assert.ok(relErr(law.A, 406.4) < 1e-15 && relErr(law.E, 1.69) < 1e-15);
  const L = predictLoss(TRUTH, 1e9, 2e10);
  const res = logResiduals(TRUTH, {
    lnParams: Float64Array.of(Math.log(1e9)),
    lnData: Float64Array.of(Math.log(2e10)),
    lnLoss: Float64Array.of(Math.log(L * 1.01)),
  });
  assert.ok(Math.abs(res[0]! + Math.log(1.01)) < 1e-12);
});

Deno.test("joint form: predictLoss() is E + (A/N^α + B/D^β)^γ and computeOptimal() its minimum", () => {
  const law = { ...TRUTH, gamma: 0.4 };
  const inner = TRUTH.A / 1e9 ** TRUTH.alpha + TRUTH.B / 2e10 ** TRUTH.beta;
  assert.ok(relErr(predictLoss(law, 1e9, 2e10), TRUTH.E + inner ** 0.4) < 1e-14);
  assert.ok(relErr(thetaToLaw([0, 0, 0, 0.3, 0.2, Math.log(0.4)]).gamma!, 0.4) < 1e-15);
  const c = 1e21;
  const opt = computeOptimal(law, c, 6);
  let bestN = 0, bestL = Infinity;
  for (let x = Math.log(opt.params) - 0.5; x < Math.log(opt.params) + 0.5; x += 1e-5) {
    const L = predictLoss(law, Math.exp(x), c / (6 * Math.exp(x)));
    if (L < bestL) [bestL, bestN] = [L, Math.exp(x)];
  }
  assert.ok(relErr(bestN, opt.params) < 1e-4, `${bestN} vs ${opt.params}`);
  assert.ok(relErr(bestL, opt.loss) < 1e-10);
});
