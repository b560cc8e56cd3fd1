/**
 * The report's plots as Vega-Lite specifications, rendered headlessly to SVG (Vega-Lite compiles
 * to Vega; Vega's `View.toSVG()` needs no canvas or browser).
 *
 * - `isoflop.svg`: loss vs N per budget, the fitted parabolas and their optima;
 * - `optimal.svg`: N_opt and D_opt vs C, Approach 2's per-budget optima and power laws with the
 *   bootstrap CI band, and Approach 3's optimum for comparison;
 * - `frontier.svg`: loss vs C for every run, the compute-optimal loss of both approaches, the
 *   fitted E and (when known) the source's true entropy;
 * - `approach3.svg`: Approach 3's predicted loss vs the observed loss.
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { evalParabola } from "../fit/isoflop.ts";
import type { FitResult } from "../fit/mod.ts";

/** One run as the plots see it. */
export interface PlotRun {
  N: number;
  D: number;
  C: number;
  loss: number;
  /** Budget label of its IsoFLOP curve. */
  budget: string;
}

/** Inputs of {@linkcode buildPlotSpecs}. */
export interface PlotInput {
  /** The fitted runs, in the order they were passed to the fit. */
  runs: PlotRun[];
  /** The fit. */
  fit: FitResult;
  /** True entropy rate of the source (nats), when known. */
  entropyNats?: number;
  /** What D counts, for axis titles. */
  dataUnit: string;
}

/** Shared look: legends wide enough for their labels. */
const CONFIG = { legend: { labelLimit: 320 } };

/** Plot name → Vega-Lite spec. */
export type PlotSpecs = Record<"isoflop" | "optimal" | "frontier" | "approach3", vl.TopLevelSpec>;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const WIDTH = 520;
const HEIGHT = 340;
/** Parabola samples per IsoFLOP curve: smooth at plot resolution. */
const CURVE_SAMPLES = 48;
/** Margin drawn past the sampled ln N range on each side (fraction of the range). */
const CURVE_MARGIN = 0.1;

/**
 * Build the four plots' specifications.
 *
 * @param input Runs, fit and the known entropy.
 * @returns The specs, keyed by plot name.
 */
export function buildPlotSpecs(input: PlotInput): PlotSpecs {
  return {
    isoflop: isoflopSpec(input),
    optimal: optimalSpec(input),
    frontier: frontierSpec(input),
    approach3: approach3Spec(input),
  };
}

/**
 * Render a Vega-Lite spec to SVG text.
 *
 * @param spec The spec.
 * @returns The SVG document.
 */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const logScale = { type: "log" as const };

function isoflopSpec({ runs, fit }: PlotInput): vl.TopLevelSpec {
  const curves: Record<string, unknown>[] = [];
  const optima: Record<string, unknown>[] = [];
  for (const b of fit.isoflop?.budgets ?? []) {
    if (b.status !== "ok" || b.N === null) continue;
    const [lo, hi] = b.N.ln_range;
    const margin = (hi - lo) * CURVE_MARGIN;
    for (let i = 0; i < CURVE_SAMPLES; i++) {
      const x = lo - margin + (hi - lo + 2 * margin) * i / (CURVE_SAMPLES - 1);
      curves.push({ N: Math.exp(x), loss: evalParabola(b.N.coefficients, x), budget: b.label });
    }
    if (b.loss_opt !== null) optima.push({ N: b.N.vertex, loss: b.loss_opt, budget: b.label });
  }
  const color = { field: "budget", type: "nominal" as const, title: "budget (FLOPs)", sort: null };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: "IsoFLOP curves: loss vs parameters, fitted parabolas and optima",
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: curves },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: { field: "N", type: "quantitative", scale: logScale, title: "parameters N" },
          y: { field: "loss", type: "quantitative", scale: { zero: false }, title: "loss (nats)" },
          color,
        },
      },
      {
        data: { values: runs },
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x: { field: "N", type: "quantitative", scale: logScale },
          y: { field: "loss", type: "quantitative" },
          color,
        },
      },
      {
        data: { values: optima },
        mark: { type: "point", shape: "diamond", size: 160, strokeWidth: 2, filled: false },
        encoding: {
          x: { field: "N", type: "quantitative", scale: logScale },
          y: { field: "loss", type: "quantitative" },
          color,
        },
      },
    ],
  } as vl.TopLevelSpec;
}

function optimalSpec({ fit, dataUnit }: PlotInput): vl.TopLevelSpec {
  const observed: Record<string, unknown>[] = [];
  for (const b of fit.isoflop?.budgets ?? []) {
    if (b.status !== "ok") continue;
    if (b.N !== null) observed.push({ C: b.C, value: b.N.vertex, quantity: "N_opt (parameters)" });
    if (b.D !== null) observed.push({ C: b.C, value: b.D.vertex, quantity: `D_opt (${dataUnit})` });
  }
  const lines: Record<string, unknown>[] = [];
  for (const row of fit.table) {
    const approach = row.approach === "isoflop"
      ? "Approach 2 (IsoFLOP)"
      : "Approach 3 (parametric)";
    for (
      const [q, value, ci] of [
        ["N_opt (parameters)", row.N, row.ci?.N],
        [`D_opt (${dataUnit})`, row.D, row.ci?.D],
      ] as const
    ) {
      lines.push({
        C: row.C,
        value,
        quantity: q,
        approach,
        ...(ci === undefined ? {} : { lo: ci[0], hi: ci[1] }),
      });
    }
  }
  const base = (layers: unknown[]) => ({
    width: WIDTH,
    height: HEIGHT * 0.75,
    layer: layers,
  });
  const xC = {
    field: "C",
    type: "quantitative",
    scale: logScale,
    title: "compute C (FLOPs)",
    axis: { format: ".0e" },
  };
  const colorApproach = { field: "approach", type: "nominal", title: "fit" };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: "Compute-optimal allocation vs compute: power laws with bootstrap CI bands",
    data: { values: [...lines, ...observed.map((o) => ({ ...o, approach: "IsoFLOP optima" }))] },
    facet: { row: { field: "quantity", type: "nominal", title: null } },
    resolve: { scale: { y: "independent" } },
    spec: base([
      {
        transform: [{ filter: "isValid(datum.lo)" }],
        mark: { type: "area", opacity: 0.18 },
        encoding: {
          x: xC,
          y: { field: "lo", type: "quantitative", scale: logScale, title: null },
          y2: { field: "hi" },
          color: colorApproach,
        },
      },
      {
        transform: [{ filter: "datum.approach !== 'IsoFLOP optima'" }],
        mark: { type: "line" },
        encoding: {
          x: xC,
          y: { field: "value", type: "quantitative", scale: logScale, title: null },
          color: colorApproach,
        },
      },
      {
        transform: [{ filter: "datum.approach === 'IsoFLOP optima'" }],
        mark: { type: "point", filled: true, size: 70, shape: "diamond" },
        encoding: {
          x: xC,
          y: { field: "value", type: "quantitative", scale: logScale },
          color: colorApproach,
        },
      },
    ]),
  } as vl.TopLevelSpec;
}

function frontierSpec({ runs, fit, entropyNats }: PlotInput): vl.TopLevelSpec {
  const optimal = fit.table.map((row) => ({
    C: row.C,
    loss: row.loss,
    approach: row.approach === "isoflop" ? "Approach 2 L_opt(C)" : "Approach 3 L(N_opt, D_opt)",
    ...(row.ci === null ? {} : { lo: row.ci.loss[0], hi: row.ci.loss[1] }),
  }));
  const rules = [{ y: fit.parametric.E, what: `fitted E = ${fit.parametric.E.toFixed(3)}` }];
  if (entropyNats !== undefined) {
    rules.push({ y: entropyNats, what: `true entropy = ${entropyNats.toFixed(3)}` });
  }
  const xC = {
    field: "C",
    type: "quantitative",
    scale: logScale,
    title: "compute C (FLOPs)",
    axis: { format: ".0e" },
  };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: "Loss frontier vs compute",
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: runs },
        mark: { type: "point", color: "#888", opacity: 0.7 },
        encoding: {
          x: xC,
          y: { field: "loss", type: "quantitative", scale: { zero: false }, title: "loss (nats)" },
        },
      },
      {
        data: { values: optimal },
        transform: [{ filter: "isValid(datum.lo)" }],
        mark: { type: "area", opacity: 0.15 },
        encoding: {
          x: xC,
          y: { field: "lo", type: "quantitative" },
          y2: { field: "hi" },
          color: { field: "approach", type: "nominal", title: "compute-optimal loss" },
        },
      },
      {
        data: { values: optimal },
        mark: { type: "line" },
        encoding: {
          x: xC,
          y: { field: "loss", type: "quantitative" },
          color: { field: "approach", type: "nominal" },
        },
      },
      {
        data: { values: rules },
        mark: { type: "rule", strokeDash: [4, 4] },
        encoding: {
          y: { field: "y", type: "quantitative" },
          strokeDash: { field: "what", type: "nominal", title: "floor" },
        },
      },
    ],
  } as vl.TopLevelSpec;
}

function approach3Spec({ runs, fit }: PlotInput): vl.TopLevelSpec {
  const points = runs.map((r, i) => ({
    observed: r.loss,
    // residual r_i = ln L̂_i − ln L_i, so L̂_i = L_i · e^(r_i).
    predicted: r.loss * Math.exp(fit.parametric.residuals[i] ?? 0),
    budget: r.budget,
    N: r.N,
  }));
  const all = points.flatMap((p) => [p.observed, p.predicted]);
  const lo = Math.min(...all), hi = Math.max(...all);
  const pad = (hi - lo) * 0.05;
  const diagonal = [{ v: lo - pad }, { v: hi + pad }];
  const domain = [lo - pad, hi + pad];
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: "Approach 3: predicted vs observed loss",
    width: HEIGHT,
    height: HEIGHT,
    layer: [
      {
        data: { values: diagonal },
        mark: { type: "line", color: "#999", strokeDash: [4, 4] },
        encoding: {
          x: { field: "v", type: "quantitative", scale: { domain }, title: "observed loss" },
          y: { field: "v", type: "quantitative", scale: { domain }, title: "predicted loss" },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x: { field: "observed", type: "quantitative", scale: { domain } },
          y: { field: "predicted", type: "quantitative", scale: { domain } },
          color: { field: "budget", type: "nominal", title: "budget (FLOPs)", sort: null },
        },
      },
    ],
  } as vl.TopLevelSpec;
}
