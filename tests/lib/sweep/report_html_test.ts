import assert from "node:assert/strict";
import { studyEnvironment } from "../../../lib/sweep/cli.ts";
import { resolveSweepConfig } from "../../../lib/sweep/config.ts";
import { runSweep } from "../../../lib/sweep/sweep.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);
if (!hasChromium) console.warn(`skipping the report.html browser tests: ${CHROMIUM} is absent`);

/** Where a screenshot of the first screen goes, when set (for a human to look at). */
const SCREENSHOT = Deno.env.get("FLOPS_FIT_REPORT_SCREENSHOT");

Deno.test({
  name: "report.html leads with the answer and the hero figure above the fold at 1280×800, " +
    "in one number format, with legends that match their series and no console errors",
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
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(m.text());
      });
      page.on("pageerror", (e) => errors.push(String(e)));
      // Self-contained: any request but the page itself is a failure.
      page.on("request", (r) => {
        if (r.url() !== `file://${out}/report.html`) errors.push(`request: ${r.url()}`);
      });
      page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(`file://${out}/report.html`, { waitUntil: "load" });
      if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: false });

      // The answer and the hero figure, in that order, inside the first 800 px.
      const box = async (selector: string) => {
        const b = await page.locator(selector).first().boundingBox();
        return b === null
          ? null
          : { top: b.y, bottom: b.y + b.height, width: b.width, height: b.height };
      };
      const layout = {
        answer: await box("#answer table.answer"),
        hero: await box("#plot-hero svg"),
        forecast: await box("#forecast"),
        details: await box("#details"),
      };
      assert.ok(layout.answer && layout.hero && layout.forecast && layout.details, "all sections");
      assert.ok(layout.answer.bottom <= 800, `answer above the fold: ${JSON.stringify(layout)}`);
      assert.ok(layout.hero.bottom <= 800, `hero figure above the fold: ${JSON.stringify(layout)}`);
      assert.ok(layout.hero.width > 500 && layout.hero.height > 250, "the hero figure has a size");
      assert.ok(layout.answer.top < layout.hero.top, "answer before the figure");
      assert.ok(layout.hero.bottom <= layout.forecast.top, "forecast check after the figure");
      assert.ok(layout.forecast.bottom <= layout.details.top, "details last");

      // The answer: one row per requested budget, each with N, D and loss intervals.
      const answerRows = await page.locator("table.answer tbody tr").allInnerTexts();
      assert.equal(answerRows.length, 7, "5 trained budgets, ×10 and ×100");
      for (const row of answerRows) assert.equal((row.match(/\[/g) ?? []).length, 3, row);
      assert.match(answerRows[6]!, /^3\.0e13\b.*100× past the largest trained budget/s);
      // Each headline is the fit's recommended row, and the rule is named under the table.
      for (const row of answerRows) assert.match(row, /\brecommended$/, row);
      const note = await page.locator("#answer p.lead").last().innerText();
      assert.match(note, /^Recommended: N from Approach 2's power law, loss from Approach 3's/);
      const lead = await box("#answer p.lead >> nth=-1");
      assert.ok(lead !== null && lead.bottom <= 800, "the rule is above the fold");

      // One number format: no `e+`, no thousands separators, no raw markdown backticks.
      const text = await page.locator("body").innerText();
      assert.doesNotMatch(text, /\de\+\d/, "no e+ exponents");
      assert.doesNotMatch(text, /`/, "no raw backticks");
      const svgText = await page.$$eval("figure svg", (svgs) => svgs.map((s) => s.textContent));
      for (const t of svgText) {
        assert.doesNotMatch(t ?? "", /\de\+\d|\d,\d{3}/, "axis labels in the same format");
      }

      // The hero figure's legend: every swatch's colour is the colour its series is drawn in.
      const legend = await page.$eval("#plot-hero svg", (svg) => {
        const swatches: { label: string; colour: string }[] = [];
        for (const entry of svg.querySelectorAll(".role-legend-symbol path")) {
          const group = entry.closest("g.role-scope, g.mark-group") ?? entry.parentElement!;
          const label = group.parentElement?.querySelector(".role-legend-label text")
            ?.textContent ?? "";
          swatches.push({
            label,
            colour: entry.getAttribute("fill") ?? entry.getAttribute("stroke") ?? "",
          });
        }
        const drawn = new Set<string>();
        for (const el of svg.querySelectorAll(".role-mark path")) {
          if (el.closest(".role-legend")) continue;
          for (const a of ["stroke", "fill"]) {
            const c = el.getAttribute(a);
            if (c && c !== "none" && c !== "transparent") drawn.add(c.toLowerCase());
          }
        }
        return { swatches, drawn: [...drawn] };
      });
      assert.ok(legend.swatches.length >= 7, `legend entries: ${JSON.stringify(legend)}`);
      const names = await page.$$eval(
        "#plot-hero svg .role-legend-label text",
        (texts) => texts.map((t) => t.textContent ?? ""),
      );
      assert.ok(names.includes("recommended forecast (box: 95% interval)"), names.join("; "));
      assert.ok(!names.some((n) => /Approach 3/.test(n)), `no series mislabelled: ${names}`);
      for (const s of legend.swatches) {
        assert.ok(
          legend.drawn.includes(s.colour.toLowerCase()),
          `swatch ${s.colour} is a colour some series is drawn in: ${JSON.stringify(legend)}`,
        );
      }

      // No legend anywhere shows a pale band colour as its swatch (the bands' own layers carry no
      // legend): every swatch is opaque.
      const pale = await page.$$eval(".role-legend-symbol path", (paths) =>
        paths.map((p) => ({
          opacity: Number(p.getAttribute("opacity") ?? 1),
          fillOpacity: Number(p.getAttribute("fill-opacity") ?? 1),
        })).filter((p) => p.opacity < 0.5 || p.fillOpacity < 0.5));
      assert.deepEqual(pale, []);

      // All five plots render with marks.
      const plots = await page.$$eval("figure svg", (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          return {
            width: box.width,
            height: box.height,
            marks: svg.querySelectorAll("path, line, circle, rect").length,
          };
        }));
      assert.equal(plots.length, 5);
      for (const plot of plots) {
        assert.ok(
          plot.width > 200 && plot.height > 150,
          `plot has a size: ${JSON.stringify(plot)}`,
        );
        assert.ok(plot.marks > 10, "plot draws marks");
      }
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  },
});
