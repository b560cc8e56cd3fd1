/**
 * The report's plots as Vega-Lite specifications, rendered headlessly to SVG (Vega-Lite compiles
 * to Vega; Vega's `View.toSVG()` needs no canvas or browser).
 *
 * - `hero.svg`: the report's one picture — the IsoFLOP curves, their minima, the answer's
 *   compute-optimal line (the recommended rows, or Approach 2's frontier when none is marked) and
 *   its forecast at each requested budget with its interval box, the held-out budget marked with
 *   the same forecaster's forecast made without it;
 * - `isoflop.svg`: loss vs N per budget, the fitted parabolas and their optima;
 * - `optimal.svg`: N_opt and D_opt vs C, Approach 2's per-budget optima and power laws with the
 *   bootstrap CI band, Approach 3's optimum and the recommended rows with their bands;
 * - `frontier.svg`: loss vs C for every run, the compute-optimal loss of the recommended rows and
 *   both approaches, the
 *   fitted E and (when known) the source's true entropy;
 * - `approach3.svg`: Approach 3's predicted loss vs the observed loss.
 *
 * @module
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { evalParabola, type FitResult, isoflopOptimum, type TableRow } from "../fit/mod.ts";
import { AXIS_LABEL_EXPR, sci } from "./format.ts";

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
  /** The answer's rows (one per requested budget), drawn as the hero figure's forecasts. */
  answer?: readonly TableRow[];
  /** Budget label → true for a held-out budget (its curve is drawn dashed in the hero figure). */
  heldOut?: ReadonlySet<string>;
}

/** Shared look: legends wide enough for their labels. */
const CONFIG = { legend: { labelLimit: 320 } };

/** Plot name → Vega-Lite spec. */
export type PlotSpecs = Record<
  "hero" | "isoflop" | "optimal" | "frontier" | "approach3",
  vl.TopLevelSpec
>;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const WIDTH = 520;
const HEIGHT = 340;
/** Parabola samples per IsoFLOP curve: smooth at plot resolution. */
const CURVE_SAMPLES = 48;
/** Margin drawn past the sampled ln N range on each side (fraction of the range). */
const CURVE_MARGIN = 0.1;

/**
 * Build the plots' specifications: the hero figure first, then the four detail plots.
 *
 * @param input Runs, fit and the known entropy.
 * @returns The specs, keyed by plot name.
 */
export function buildPlotSpecs(input: PlotInput): PlotSpecs {
  return {
    hero: heroSpec(input),
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
/** Every log axis labels its ticks in the report's number format (`1e9`, `3e4`). */
const logAxis = { labelExpr: AXIS_LABEL_EXPR };

/** Each approach's name in the plots' legends. */
const APPROACH_SHORT: Record<TableRow["approach"], string> = {
  recommended: "recommended",
  isoflop: "Approach 2",
  parametric: "Approach 3",
};

/** Colours of the hero figure's budgets (no red or black: those are the forecast and frontier). */
const BUDGET_COLOURS = [
  "#4c78a8",
  "#72b7b2",
  "#54a24b",
  "#b279a2",
  "#9d755d",
  "#eeca3b",
  "#bab0ac",
  "#ff9da6",
];
const FRONTIER_COLOUR = "#222222";
const FORECAST_COLOUR = "#d62728";
const HELD_OUT_FORECAST_COLOUR = "#f58518";
/** Samples along the hero figure's frontier. */
const FRONTIER_SAMPLES = 60;

/**
 * The hero figure: every IsoFLOP curve (loss vs N) with its runs and minimum, the fitted
 * compute-optimal frontier through the minima and on past the data, and the forecast at each
 * requested budget past the data with its interval box (N and loss); the held-out budget's curve
 * is dashed, with the forecast of its optimum made without it. One colour legend, whose swatches
 * are the colours the series are drawn in.
 */
function heroSpec({ runs, fit, answer = [], heldOut = new Set() }: PlotInput): vl.TopLevelSpec {
  const labels = [...new Set(runs.map((r) => r.budget))];
  const series = (label: string) => {
    const name = Number.isFinite(Number(label)) ? `C = ${sci(Number(label))}` : label;
    return heldOut.has(label) ? `${name} (held out)` : name;
  };
  const curves: Record<string, unknown>[] = [];
  const optima: Record<string, unknown>[] = [];
  for (const b of fit.isoflop?.budgets ?? []) {
    if (b.status !== "ok" || b.N === null) continue;
    const [lo, hi] = b.N.ln_range;
    const margin = (hi - lo) * CURVE_MARGIN;
    for (let i = 0; i < CURVE_SAMPLES; i++) {
      const x = lo - margin + (hi - lo + 2 * margin) * i / (CURVE_SAMPLES - 1);
      curves.push({
        N: Math.exp(x),
        loss: evalParabola(b.N.coefficients, x),
        series: series(b.label),
        held: heldOut.has(b.label),
      });
    }
    if (b.loss_opt !== null) {
      optima.push({ N: b.N.vertex, loss: b.loss_opt, series: series(b.label) });
    }
  }
  const points = runs.map((r) => ({ N: r.N, loss: r.loss, series: series(r.budget) }));
  const forecastRows = answer.filter((r) => r.extrapolation > 1.01);
  const approach = answer[0]?.approach ?? "isoflop";
  const who = APPROACH_SHORT[approach];
  const frontierName = approach === "recommended"
    ? "recommended compute-optimal line"
    : `fitted frontier (${who})`;
  const frontier: Record<string, unknown>[] = [];
  const trained = (fit.isoflop?.budgets ?? []).map((b) => b.C);
  const cLo = Math.min(...trained, ...answer.map((r) => r.C));
  const cHi = Math.max(...trained, ...answer.map((r) => r.C));
  if (approach === "isoflop" && fit.isoflop !== null && Number.isFinite(cLo)) {
    for (let i = 0; i < FRONTIER_SAMPLES; i++) {
      const C = Math.exp(
        Math.log(cLo) + (Math.log(cHi) - Math.log(cLo)) * i / (FRONTIER_SAMPLES - 1),
      );
      const o = isoflopOptimum(fit.isoflop, C);
      frontier.push({ N: o.params, loss: o.loss, series: frontierName, order: i });
    }
  } else {
    [...answer].sort((a, b) => a.C - b.C).forEach((r, i) =>
      frontier.push({ N: r.N, loss: r.loss, series: frontierName, order: i })
    );
  }
  const forecastName = `${
    approach === "recommended" ? "recommended forecast" : `forecast (${who})`
  } (box: 95% interval)`;
  const forecasts = forecastRows.map((r) => ({
    N: r.N,
    loss: r.loss,
    series: forecastName,
    label: `C = ${sci(r.C)}`,
    ...(r.ci === null
      ? {}
      : { nLo: r.ci.N[0], nHi: r.ci.N[1], lLo: r.ci.loss[0], lHi: r.ci.loss[1] }),
  }));
  const held = fit.backtest?.held_out ?? [];
  const heldForecasts: Record<string, unknown>[] = [];
  let heldName = "";
  for (const h of held) {
    // The same forecaster as the answer's rows; never another approach's under its name.
    const f = approach === "recommended"
      ? h.recommended ?? undefined
      : h.forecasts.find((x) => x.approach === approach);
    if (f === undefined) continue;
    const trainedCs = fit.backtest!.train_budgets.map((b) => b.C);
    heldName = `held-out ${sci(h.C)}: ${who}, fit on ≤ ${sci(Math.max(...trainedCs))}`;
    heldForecasts.push({
      N: f.N,
      loss: f.loss,
      series: heldName,
      ...(f.ci === undefined || f.ci === null
        ? {}
        : { nLo: f.ci.N[0], nHi: f.ci.N[1], lLo: f.ci.loss[0], lHi: f.ci.loss[1] }),
    });
  }
  const domain = [
    ...labels.map(series),
    frontierName,
    ...(forecasts.length > 0 ? [forecastName] : []),
    ...(heldForecasts.length > 0 ? [heldName] : []),
  ];
  const range = [
    ...labels.map((_, i) => BUDGET_COLOURS[i % BUDGET_COLOURS.length]!),
    FRONTIER_COLOUR,
    ...(forecasts.length > 0 ? [FORECAST_COLOUR] : []),
    ...(heldForecasts.length > 0 ? [HELD_OUT_FORECAST_COLOUR] : []),
  ];
  const color = {
    field: "series",
    type: "nominal" as const,
    title: null,
    scale: { domain, range },
    sort: null,
  };
  const x = {
    field: "N",
    type: "quantitative" as const,
    // No rounding out to whole decades: the forecasts' boxes stay in the middle of the picture.
    scale: { type: "log" as const, nice: false, padding: 12 },
    axis: logAxis,
    title: "parameters N",
  };
  const y = {
    field: "loss",
    type: "quantitative" as const,
    scale: { zero: false },
    title: "loss (nats)",
  };
  const boxes = (values: Record<string, unknown>[], colour: string) => [
    {
      data: { values },
      transform: [{ filter: "isValid(datum.nLo)" }],
      mark: { type: "rect", color: colour, opacity: 0.12 },
      encoding: {
        x: { ...x, field: "nLo" },
        x2: { field: "nHi" },
        y: { ...y, field: "lLo" },
        y2: { field: "lHi" },
      },
    },
    {
      data: { values },
      transform: [{ filter: "isValid(datum.nLo)" }],
      mark: { type: "rule", color: colour, strokeWidth: 1.5 },
      encoding: { x: { ...x, field: "nLo" }, x2: { field: "nHi" }, y },
    },
    {
      data: { values },
      transform: [{ filter: "isValid(datum.lLo)" }],
      mark: { type: "rule", color: colour, strokeWidth: 1.5 },
      encoding: { x, y: { ...y, field: "lLo" }, y2: { field: "lHi" } },
    },
  ];
  return {
    $schema: SCHEMA,
    config: { legend: { labelLimit: 400, orient: "right" } },
    title: "IsoFLOP curves, the compute-optimal frontier and the forecast",
    width: 600,
    height: 300,
    layer: [
      ...boxes(forecasts, FORECAST_COLOUR),
      ...boxes(heldForecasts, HELD_OUT_FORECAST_COLOUR),
      {
        data: { values: curves },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x,
          y,
          color,
          detail: { field: "series" },
          strokeDash: { condition: { test: "datum.held", value: [6, 3] }, value: [1, 0] },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 28, opacity: 0.85 },
        encoding: { x, y, color },
      },
      {
        data: { values: optima },
        mark: { type: "point", shape: "diamond", size: 130, strokeWidth: 2, filled: false },
        encoding: { x, y, color },
      },
      {
        data: { values: frontier },
        mark: { type: "line", strokeWidth: 2.5 },
        encoding: { x, y, color, order: { field: "order" } },
      },
      {
        data: { values: forecasts },
        mark: { type: "point", shape: "cross", filled: true, size: 140 },
        encoding: { x, y, color },
      },
      {
        data: { values: forecasts },
        mark: { type: "text", align: "left", dx: 7, dy: -9, fontSize: 11, color: FORECAST_COLOUR },
        encoding: { x, y, text: { field: "label" } },
      },
      {
        data: { values: heldForecasts },
        mark: { type: "point", shape: "triangle-up", filled: true, size: 110 },
        encoding: { x, y, color },
      },
    ],
  } as vl.TopLevelSpec;
}

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
          x: {
            field: "N",
            type: "quantitative",
            scale: logScale,
            axis: logAxis,
            title: "parameters N",
          },
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
    const approach = {
      recommended: "recommended",
      isoflop: "Approach 2 (IsoFLOP)",
      parametric: "Approach 3 (parametric)",
    }[row.approach];
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
    axis: logAxis,
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
          y: { field: "lo", type: "quantitative", scale: logScale, axis: logAxis, title: null },
          y2: { field: "hi" },
          // The band's pale fill is no swatch: the line layer's legend names the colours.
          color: { ...colorApproach, legend: null },
        },
      },
      {
        transform: [{ filter: "datum.approach !== 'IsoFLOP optima'" }],
        mark: { type: "line" },
        encoding: {
          x: xC,
          y: {
            field: "value",
            type: "quantitative",
            scale: logScale,
            axis: logAxis,
            title: null,
          },
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
    approach: {
      recommended: "recommended L_opt(C)",
      isoflop: "Approach 2 L_opt(C)",
      parametric: "Approach 3 L(N_opt, D_opt)",
    }[row.approach],
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
    axis: logAxis,
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
          color: { field: "approach", type: "nominal", legend: null },
        },
      },
      {
        data: { values: optimal },
        mark: { type: "line" },
        encoding: {
          x: xC,
          y: { field: "loss", type: "quantitative" },
          color: { field: "approach", type: "nominal", title: "compute-optimal loss" },
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
