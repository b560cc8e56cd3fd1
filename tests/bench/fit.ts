/**
 * Benchmark of the Approach 3 fit: one full multi-start fit on 250 points, and a
 * 1,000-resample bootstrap. Targets (2-core machine): < 1 s and < 30 s. Also the whole default
 * request (`fitScalingLaws` with its 200-resample bootstrap and leave-one-budget-out
 * sensitivity, then with a backtest) on the same 250 points, and the held-out forecast check on
 * the published IsoFLOP sweeps in `../shared/data/isoflops/` (fit the budgets ≤ C/10, forecast
 * the optimum at the larger ones; skipped when `../shared` is absent).
 *
 * Also checks the speed-ups are exact: the default `varpro` start strategy against
 * L-BFGS from all 4,500 Chinchilla starts, and warm-started bootstrap refits against
 * full multi-start refits of the same resamples.
 *
 * Run: `deno run -A tests/bench/fit.ts` (or `deno task bench`).
 *
 * @module
 */
import process from "node:process";
import { resampleWeights, runBootstrap } from "../../lib/fit/bootstrap.ts";
import { fitIsoflop } from "../../lib/fit/isoflop.ts";
import { fitScalingLaws } from "../../lib/fit/mod.ts";
import { loadPublishedSweeps, tenfoldThreshold } from "../lib/fit/_isoflops.ts";
import { mulberry32 } from "../../lib/random.ts";
import { fitParametric } from "../../lib/fit/parametric.ts";
import { preparePoints } from "../../lib/fit/points.ts";
import { isoflopPoints } from "../lib/fit/_synthetic.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** CPU milliseconds of each timed call: on a shared machine wall time includes waiting. */
const cpuTimes = new Map<string, number[]>();

function time<T>(fn: () => T, label = ""): [T, number] {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const out = fn();
  const wall = performance.now() - t;
  const used = process.cpuUsage(cpu);
  cpuTimes.set(label, [...(cpuTimes.get(label) ?? []), (used.user + used.system) / 1000]);
  return [out, wall];
}

/**
 * Run the benchmark.
 *
 * @param options Repetitions of the single fit and of the bootstrap.
 * @returns A markdown section.
 */
export async function run(
  options: { fitReps?: number; bootstrapReps?: number } = {},
): Promise<string> {
  await Promise.resolve();
  const fitReps = options.fitReps ?? 7;
  const bootReps = options.bootstrapReps ?? 3;
  const points = isoflopPoints({
    budgets: [1e17, 3e17, 1e18, 3e18, 1e19],
    perBudget: 50,
    halfWidth: 1.5,
    noiseSd: 0.01,
    seed: 2026,
  });
  const set = preparePoints(points, { flopsPerParamToken: 6, budgetRelTol: 0.05 });
  const delta = 1e-3;
  const fitTimes: number[] = [];
  let full = fitParametric(set, { huberDelta: delta, multistart: "varpro" }); // warm-up
  for (let r = 0; r < fitReps; r++) {
    const [fit, ms] = time(
      () => fitParametric(set, { huberDelta: delta, multistart: "varpro" }),
      "fit",
    );
    full = fit;
    fitTimes.push(ms);
  }
  const [joint, jointMs] = time(
    () => fitParametric(set, { huberDelta: delta, multistart: "varpro", form: "joint" }),
    "joint",
  );
  const [grid, gridMs] = time(
    () => fitParametric(set, { huberDelta: delta, multistart: "grid" }),
    "grid",
  );
  const iso = fitIsoflop(set, set.budgets);
  const bootTimes: number[] = [];
  for (let r = 0; r < bootReps; r++) {
    const [, ms] = time(() =>
      runBootstrap(set, full, iso, {
        resamples: 1000,
        seed: r,
        confidence: 0.95,
        huberDelta: delta,
        flopsPerParamToken: 6,
        budgets: [1e20],
      }), "boot");
    bootTimes.push(ms);
  }
  // Warm-started refits vs full multi-start refits of the same resamples.
  const random = mulberry32(77);
  let worstGap = 0;
  const checks = 20;
  for (let r = 0; r < checks; r++) {
    const weights = resampleWeights(set, random);
    const quick = fitParametric(set, {
      huberDelta: delta,
      multistart: "varpro",
      quick: true,
      weights,
      extraStarts: [full.theta],
    });
    const thorough = fitParametric(set, { huberDelta: delta, multistart: "varpro", weights });
    worstGap = Math.max(worstGap, (quick.objective - thorough.objective) / thorough.objective);
  }
  const [, requestMs] = time(() => fitScalingLaws({ points }), "request");
  const [, backtestMs] = time(() => fitScalingLaws({ points, backtest: true }), "backtest");
  const rel = (k: "E" | "A" | "B" | "alpha" | "beta") =>
    Math.abs(full.law[k] - grid.law[k]) / Math.abs(grid.law[k]);
  const worstParam = Math.max(rel("E"), rel("A"), rel("B"), rel("alpha"), rel("beta"));
  return [
    "## Approach 3 fit (250 points, 5 budgets, noise sd 0.01 on ln L)",
    "",
    "| what | median wall | median CPU | runs | target |",
    "| --- | --- | --- | --- | --- |",
    `| single fit, varpro multi-start (${full.nStarts} starts scored, ${full.nPolished} polished) | ` +
    `${median(fitTimes).toFixed(0)} ms | ${median(cpuTimes.get("fit")!).toFixed(0)} ms | ` +
    `${fitReps} | < 1 s |`,
    `| 1,000-resample bootstrap (both approaches) | ${(median(bootTimes) / 1000).toFixed(2)} s | ` +
    `${(median(cpuTimes.get("boot")!) / 1000).toFixed(2)} s | ${bootReps} | < 30 s |`,
    `| single fit, \`form: "joint"\` (additive fit + ${joint.nPolished - full.nPolished} joint ` +
    `polishes; γ = ${joint.law.gamma!.toFixed(3)}) | ${jointMs.toFixed(0)} ms | ` +
    `${cpuTimes.get("joint")![0]!.toFixed(0)} ms | 1 | — |`,
    `| single fit, L-BFGS from all 4,500 Chinchilla starts | ${(gridMs / 1000).toFixed(1)} s | ` +
    `${(cpuTimes.get("grid")![0]! / 1000).toFixed(1)} s | 1 | — |`,
    `| default request (fit, 200-resample residual bootstrap, sensitivity) | ` +
    `${(requestMs / 1000).toFixed(2)} s | ${
      (cpuTimes.get("request")![0]! / 1000).toFixed(2)
    } s | ` +
    "1 | — |",
    `| default request with \`backtest: true\` | ${(backtestMs / 1000).toFixed(2)} s | ` +
    `${(cpuTimes.get("backtest")![0]! / 1000).toFixed(2)} s | 1 | — |`,
    "",
    `varpro vs 4,500-start grid: objective ${full.objective.toExponential(6)} vs ` +
    `${grid.objective.toExponential(6)}, largest parameter difference ${
      worstParam.toExponential(1)
    } (relative).`,
    `Warm-started bootstrap refits vs full multi-start refits (${checks} resamples): largest ` +
    `objective excess ${worstGap.toExponential(1)} (relative; ≤ 0 means never worse).`,
    "",
    ...forecastCheck(),
  ].join("\n");
}

function pct(v: number | undefined): string {
  return v === undefined ? "—" : `${v >= 0 ? "+" : ""}${v.toFixed(2)} %`;
}

/**
 * The held-out forecast check on the published sweeps: per experiment, fit the budgets ≤ C/10
 * (C the largest budget) and forecast every budget above; one row per held-out budget ≥ 3×
 * above the fitted ones and approach (Approach 3 in each form, Approach 2, the recommended row).
 */
function forecastCheck(): string[] {
  const sweeps = loadPublishedSweeps();
  if (sweeps === null) return ["(published IsoFLOP sweeps absent: ../shared/data/isoflops/)", ""];
  const lines = [
    "## Held-out forecasts on published IsoFLOP sweeps (fit budgets ≤ C/10)",
    "",
    "| experiment | held-out C | × | runs | approach | loss forecast [95 %] | observed | error " +
    "| inside | N_opt error | N_opt inside | N_opt width |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const sweep of sweeps) {
    for (const form of ["additive", "joint"] as const) {
      const fit = fitScalingLaws({
        points: sweep.points,
        budget_rel_tol: sweep.budgetRelTol,
        backtest: { hold_out_above: tenfoldThreshold(sweep.points) },
        sensitivity: false,
        seed: 1,
        form,
      });
      for (const h of fit.backtest!.held_out) {
        if (h.extrapolation < 3 || h.observed === null) continue;
        // Approach 2 and the recommended row (it fits both forms) do not depend on the form:
        // one row of each, with the additive run.
        for (
          const f of [...h.forecasts, ...(h.recommended == null ? [] : [h.recommended])]
            .filter((f) => f.approach === "parametric" || form === "additive")
        ) {
          const label = f.approach === "parametric"
            ? `3 (${form})`
            : f.approach === "isoflop"
            ? "2"
            : "recommended";
          lines.push(
            `| ${sweep.experiment} | ${h.C.toPrecision(3)} | ${h.extrapolation.toFixed(1)} | ` +
              `${h.n_points} | ${label} | ${f.loss.toFixed(3)} ` +
              `[${f.ci?.loss.map((v) => v.toFixed(3)).join(", ") ?? "—"}] | ` +
              `${h.observed.loss.toFixed(3)} | ${pct(f.error_pct?.loss)} | ` +
              `${f.inside?.loss ? "yes" : "no"} | ${pct(f.error_pct?.N)} | ` +
              `${f.inside?.N ? "yes" : "no"} | ` +
              `${f.ci === null ? "—" : `${(f.ci.N[1] / f.ci.N[0]).toFixed(2)}×`} |`,
          );
        }
      }
    }
  }
  lines.push("");
  return lines;
}

if (import.meta.main) console.log(await run());
