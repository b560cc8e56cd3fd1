import assert from "node:assert/strict";
import { studyEnvironment } from "../../../lib/sweep/cli.ts";
import { resolveSweepConfig } from "../../../lib/sweep/config.ts";
import { runSweep } from "../../../lib/sweep/sweep.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) console.warn(`skipping the report.html browser test: ${CHROMIUM} is absent`);

Deno.test({
  name: "report.html renders its four plots in headless Chromium with no console errors",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "sweep-html-" });
    const config = resolveSweepConfig({ overrides: { mock: true, out, bootstrap: 30 } });
    await runSweep(config, studyEnvironment(config), { write: () => {}, tty: false });
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(`file://${out}/report.html`, { waitUntil: "load" });
      const plots = await page.$$eval("figure svg", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return {
            width: box.width,
            height: box.height,
            marks: svg.querySelectorAll("path, line, circle, rect").length,
            text: svg.textContent ?? "",
          };
        }));
      assert.equal(plots.length, 4);
      for (const plot of plots) {
        assert.ok(
          plot.width > 200 && plot.height > 150,
          `plot has a size: ${JSON.stringify(plot)}`,
        );
        assert.ok(plot.marks > 10, "plot draws marks");
      }
      assert.ok(plots.some((p) => p.text.includes("IsoFLOP")));
      assert.ok(await page.$("table") !== null, "the compute-optimal table is there");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
});
