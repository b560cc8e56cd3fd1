import assert from "node:assert/strict";
import {
  AXIS_LABEL_EXPR,
  loss4,
  lossWithInterval,
  plainExponents,
  sci,
  sig,
  times,
  withInterval,
} from "../../../lib/sweep/format.ts";

Deno.test("sig() writes three significant digits and one exponent style, never e+ or 9.70e+4", () => {
  assert.equal(sig(97_040), "9.70e4");
  assert.equal(sig(149_000), "1.49e5");
  assert.equal(sig(7871), "7.87e3");
  assert.equal(sig(999.7), "1.00e3", "rounding up into the next decade switches form");
  assert.equal(sig(957), "957");
  assert.equal(sig(0.4671), "0.467");
  assert.equal(sig(0.00012), "1.20e-4");
  assert.equal(sig(0), "0.00");
  assert.equal(sig(-2.5e6), "-2.50e6");
});

Deno.test("sci(), loss4(), withInterval(), lossWithInterval() and times() share that format", () => {
  assert.equal(sci(3e11), "3.0e11");
  assert.equal(sci(1.2e10), "1.2e10");
  assert.equal(loss4(2.34921), "2.3492");
  assert.equal(withInterval(1.71e5, [1.29e5, 2.72e5]), "1.71e5 [1.29e5, 2.72e5]");
  assert.equal(lossWithInterval(2.5, null), "2.5000");
  assert.equal(lossWithInterval(2.33891, [2.247, 2.36024]), "2.3389 [2.2470, 2.3602]");
  assert.equal(times(10.0009), "10×", "10.0009 is 10× to the digits shown");
  assert.equal(times(100.01), "100×");
  assert.equal(times(3.24), "3.2×");
});

Deno.test("plainExponents() rewrites the fitter's e+ exponents and nothing else", () => {
  assert.equal(
    plainExponents("at C = 3.00e+12: budget 3e+11 moves it most (4.3 %); e+ alone stays"),
    "at C = 3.00e12: budget 3e11 moves it most (4.3 %); e+ alone stays",
  );
});

Deno.test("AXIS_LABEL_EXPR keeps Vega's blank ticks blank and writes 1e9, not 1e+9 or 1,000", async () => {
  const vega = await import("vega");
  // The expression parses (Vega rejects unknown functions at parse time).
  assert.ok(vega.parseExpression(AXIS_LABEL_EXPR));
  const spec = {
    $schema: "https://vega.github.io/schema/vega/v6.json",
    width: 300,
    height: 40,
    scales: [{ name: "x", type: "log", domain: [1e3, 1e9], range: "width" }],
    axes: [{
      scale: "x",
      orient: "bottom",
      encode: { labels: { update: { text: { signal: AXIS_LABEL_EXPR } } } },
    }],
  };
  const view = new vega.View(vega.parse(spec as never), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!)
      .filter((t) => t !== "");
    assert.ok(texts.includes("1e3") && texts.includes("1e9"), texts.join(" "));
    for (const t of texts) assert.doesNotMatch(t, /e\+|,/);
  } finally {
    view.finalize();
  }
});
