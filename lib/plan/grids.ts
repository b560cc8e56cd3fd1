/**
 * Planning IsoFLOP sweeps: for each budget a geometric grid of model sizes centred on the
 * predicted optimum, snapped to sizes the family can build, with D set from the exact FLOPs per
 * sample so every point spends its budget.
 *
 * Method, per budget C (FLOPs):
 * - centre N*: a prior law N* = k·C^a when given; otherwise the size whose data-to-parameter
 *   ratio D/N equals `dataPerParam` (≈ 20 tokens per parameter), where D(N) = ⌊C / F(N)⌋ · u with
 *   F the exact training FLOPs per sample and u the D units per sample (interpolated in ln N
 *   between buildable sizes);
 * - targets N_i = N* · W^(i/(n−1) − 1/2), i = 0…n−1, for width W (largest/smallest);
 * - each target snapped to the nearest buildable size in ln N, never twice;
 * - samples S = ⌊C / F / B⌋ · B in whole steps of the batch size B (`hyper.batch_size`, else the
 *   trainer's default), rounded by the trainer's own `wholeSteps`, D = S · u, FLOPs spent
 *   S · F ∈ (C − F·B, C].
 *
 * Adaptive planning lives in `adaptive.ts`.
 *
 * @module
 */
import type { FamilySize, SweepFamily } from "./family.ts";
import { hashString } from "../random.ts";
import { DEFAULT_BATCH_SIZE, wholeSteps } from "../train/mod.ts";

/**
 * What the sweep sends to `POST /v1/train` for one point: the train contract's body as any server
 * speaking it reads it (a foreign family's hyper-parameters included). flops-fit's own trainer
 * parses it into its `TrainRequest` (lib/train/).
 */
export interface PointRequest {
  family: string;
  size: number;
  dataset: string;
  budget: { flops: number };
  seed: number;
  config?: Record<string, unknown>;
  [hyper: string]: unknown;
}

/** One planned sweep point. */
export interface PlannedPoint {
  /** Stable identity of the point (same request → same key), used to resume. */
  key: string;
  /** The budget this point belongs to (FLOPs), its IsoFLOP curve's label. */
  budget_flops: number;
  /** The family's size parameter. */
  size: number;
  /** Parameters (N). */
  params: number;
  /** Exact training FLOPs per sample. */
  flops_per_sample: number;
  /** Samples the budget buys in whole steps: ⌊C / (F·B)⌋ · B. */
  samples: number;
  /** D: samples × units per sample (tokens or images). */
  data: number;
  /** FLOPs the point spends: samples × F (within one step of the budget). */
  flops: number;
  /** What to send to `POST /v1/train`. */
  request: PointRequest;
}

/** One budget's grid. */
export interface BudgetGrid {
  /** Budget (FLOPs). */
  budget_flops: number;
  /** Predicted optimal parameter count the grid is centred on. */
  centre_params: number;
  /** Where the centre came from. */
  centre_from: "prior" | "data_per_param" | "recentred";
  /** The grid's points, ascending in params. */
  points: PlannedPoint[];
  /** Problems a researcher should know about (centre outside the family's sizes, …). */
  warnings: string[];
}

/** What every point of a sweep shares. */
export interface PointTemplate {
  /** Dataset registry name. */
  dataset: string;
  /** Training seed. @default 0 */
  seed?: number;
  /** Hyper-parameters sent at the top level of each request. */
  hyper?: Record<string, unknown>;
  /** Family config fields fixed for every size, sent as `config` beside `size`. */
  model?: Record<string, unknown>;
}

/** Options of {@linkcode planSweep}. */
export interface PlanOptions extends PointTemplate {
  /** The family to plan for. */
  family: SweepFamily;
  /** Budgets in FLOPs. */
  budgets: readonly number[];
  /** Sizes per budget. @default 5 */
  sizesPerBudget?: number;
  /** Largest / smallest params of a grid. @default 16 */
  width?: number;
  /** D per parameter at the centre when there is no prior. @default 20 */
  dataPerParam?: number;
  /** Prior N_opt = k · C^a. */
  prior?: { k: number; a: number };
  /** Explicit size-parameter values used at every budget instead of a grid. */
  sizes?: readonly number[];
}

/**
 * The batch size the points will train with: `hyper.batch_size` when set, else the trainer's
 * default ({@linkcode DEFAULT_BATCH_SIZE}); the trainer spends whole steps of it.
 *
 * @param template The point template.
 * @returns Samples per step.
 */
export function batchSizeOf(template: PointTemplate): number {
  const b = template.hyper?.batch_size;
  return typeof b === "number" && Number.isInteger(b) && b >= 1 ? b : DEFAULT_BATCH_SIZE;
}

/** Chinchilla's compute-optimal tokens per parameter, the default grid centre. */
export const DEFAULT_DATA_PER_PARAM = 20;

/**
 * Plan every budget's grid.
 *
 * @param options Family, budgets and grid shape.
 * @returns One grid per budget, in the order given.
 * @throws {RangeError} For an empty family, a non-positive budget or fewer than 3 sizes.
 *
 * @example
 * ```ts
 * import { planSweep } from "./grids.ts";
 * const sizes = [8, 16, 32, 64, 128].map((s) => ({ size: s, params: 100 * s * s, flopsPerSample: 600 * s * s }));
 * const family = { name: "toy", sizeParam: "d", dataUnit: "tokens" as const, unitsPerSample: 1, sizes };
 * const grids = planSweep({ family, budgets: [1e10], dataset: "x", sizesPerBudget: 3 });
 * if (grids[0]!.points.length !== 3) throw new Error("unexpected");
 * ```
 */
export function planSweep(options: PlanOptions): BudgetGrid[] {
  const family = options.family;
  if (family.sizes.length === 0) throw new RangeError(`Family ${family.name} has no sizes.`);
  const count = options.sizesPerBudget ?? 5;
  if (!(count >= 3)) throw new RangeError("sizesPerBudget must be at least 3.");
  return options.budgets.map((budget) => {
    if (!(budget > 0 && Number.isFinite(budget))) {
      throw new RangeError(`Budget ${budget} must be a positive, finite FLOP count.`);
    }
    if (options.sizes !== undefined) {
      const chosen = options.sizes.map((s) => {
        const found = family.sizes.find((f) => f.size === s);
        if (found === undefined) {
          throw new RangeError(`Family ${family.name} cannot build ${family.sizeParam}=${s}.`);
        }
        return found;
      });
      const centre = Math.exp(
        chosen.reduce((s, f) => s + Math.log(f.params), 0) / chosen.length,
      );
      return gridFor(options, budget, centre, "data_per_param", chosen, []);
    }
    const warnings: string[] = [];
    let centre: number;
    let from: BudgetGrid["centre_from"];
    if (options.prior !== undefined) {
      centre = options.prior.k * budget ** options.prior.a;
      from = "prior";
    } else {
      centre = centreByRatio(family, budget, options.dataPerParam ?? DEFAULT_DATA_PER_PARAM);
      from = "data_per_param";
    }
    return planGrid(options, { budget, centre, from, count, warnings });
  });
}

/**
 * Plan one budget's grid around a given centre (also used to re-centre a curve).
 *
 * @param options The sweep's family and point template.
 * @param grid Budget, centre (params), where the centre came from, point count, warnings so far.
 * @returns The grid.
 */
export function planGrid(
  options: PointTemplate & { family: SweepFamily; width?: number },
  grid: {
    budget: number;
    centre: number;
    from: BudgetGrid["centre_from"];
    count: number;
    warnings?: string[];
  },
): BudgetGrid {
  const family = options.family;
  const width = options.width ?? 16;
  const warnings = [...(grid.warnings ?? [])];
  const smallest = family.sizes[0]!.params;
  const largest = family.sizes[family.sizes.length - 1]!.params;
  if (grid.centre > largest) {
    warnings.push(
      `The predicted optimum (${fmt(grid.centre)} params) is above the largest buildable ` +
        `${family.name} (${fmt(largest)}); the grid sits below the optimum.`,
    );
  } else if (grid.centre < smallest) {
    warnings.push(
      `The predicted optimum (${fmt(grid.centre)} params) is below the smallest buildable ` +
        `${family.name} (${fmt(smallest)}); the grid sits above the optimum.`,
    );
  }
  const targets = Array.from(
    { length: grid.count },
    (_, i) => grid.centre * width ** (grid.count === 1 ? 0 : i / (grid.count - 1) - 0.5),
  );
  const chosen = snapSizes(family.sizes, targets);
  if (chosen.length < grid.count) {
    warnings.push(
      `Only ${chosen.length} distinct buildable sizes near the ${grid.count} targets.`,
    );
  }
  return gridFor(options, grid.budget, grid.centre, grid.from, chosen, warnings);
}

/** Build the grid's points from chosen sizes, dropping sizes the budget cannot buy a sample of. */
function gridFor(
  options: PointTemplate & { family: SweepFamily },
  budget: number,
  centre: number,
  from: BudgetGrid["centre_from"],
  chosen: readonly FamilySize[],
  warnings: string[],
): BudgetGrid {
  const points: PlannedPoint[] = [];
  const batch = batchSizeOf(options);
  for (const size of [...chosen].sort((a, b) => a.params - b.params)) {
    // Whole optimiser steps, as the trainer spends them: S = ⌊C / F / B⌋ · B.
    const samples = wholeSteps(budget / size.flopsPerSample, batch) * batch;
    if (samples < 1) {
      warnings.push(
        `${options.family.sizeParam}=${size.size} needs ${fmt(size.flopsPerSample * batch)} ` +
          `FLOPs per step, more than the budget ${fmt(budget)}; skipped.`,
      );
      continue;
    }
    points.push(makePoint(options, budget, size, samples));
  }
  return { budget_flops: budget, centre_params: centre, centre_from: from, points, warnings };
}

/**
 * Add replicates: `replicates − 1` more seeds (seed + 1, seed + 2, …) of each grid's centre size
 * (the point nearest the grid's centre in ln N), so the fit can estimate run-to-run noise from
 * runs with the same N and D.
 *
 * @param grids Planned grids.
 * @param options The family and point template the grids were planned with.
 * @param replicates Seeds per centre point (1 adds nothing).
 * @returns New grids with the replicate points appended.
 */
export function addReplicates(
  grids: readonly BudgetGrid[],
  options: PointTemplate & { family: SweepFamily },
  replicates: number,
): BudgetGrid[] {
  if (replicates <= 1) return [...grids];
  return grids.map((grid) => {
    if (grid.points.length === 0) return grid;
    const centre = grid.points.reduce((best, p) =>
      Math.abs(Math.log(p.params / grid.centre_params)) <
          Math.abs(Math.log(best.params / grid.centre_params))
        ? p
        : best
    );
    const size = options.family.sizes.find((f) => f.size === centre.size)!;
    const extra = Array.from({ length: replicates - 1 }, (_, r) =>
      makePoint(
        { ...options, seed: (options.seed ?? 0) + r + 1 },
        grid.budget_flops,
        size,
        centre.samples,
      ));
    return { ...grid, points: [...grid.points, ...extra] };
  });
}

/**
 * One planned point.
 *
 * @param options The family and point template.
 * @param budget Budget (FLOPs).
 * @param size The buildable size.
 * @param samples Samples the budget buys.
 * @returns The point with its request and key.
 */
export function makePoint(
  options: PointTemplate & { family: SweepFamily },
  budget: number,
  size: FamilySize,
  samples: number,
): PlannedPoint {
  const request: PointRequest = {
    family: options.family.name,
    size: size.size,
    dataset: options.dataset,
    budget: { flops: budget },
    seed: options.seed ?? 0,
    ...(options.hyper ?? {}),
    ...(options.model === undefined ? {} : { config: options.model }),
  };
  return {
    key: pointKey(request),
    budget_flops: budget,
    size: size.size,
    params: size.params,
    flops_per_sample: size.flopsPerSample,
    samples,
    data: samples * options.family.unitsPerSample,
    flops: samples * size.flopsPerSample,
    request,
  };
}

/**
 * The centre of a grid without a prior: the (log-interpolated) parameter count at which
 * D/N = ratio, where D(N) = ⌊C / F(N)⌋·u. D/N falls as N grows, so the crossing is unique.
 *
 * @param family The family.
 * @param budget Budget (FLOPs).
 * @param ratio Target D per parameter.
 * @returns The centre in parameters (clamped to the family's range).
 */
export function centreByRatio(family: SweepFamily, budget: number, ratio: number): number {
  // g(N) = ln(D/N) − ln(ratio), with D continuous (C / F · u) so g is smooth and decreasing.
  const g = (s: FamilySize) =>
    Math.log((budget / s.flopsPerSample) * family.unitsPerSample / s.params) - Math.log(ratio);
  const sizes = family.sizes;
  for (let i = 0; i + 1 < sizes.length; i++) {
    const a = sizes[i]!, b = sizes[i + 1]!;
    const ga = g(a), gb = g(b);
    if (ga >= 0 && gb <= 0) {
      const t = ga === gb ? 0 : ga / (ga - gb);
      return Math.exp(Math.log(a.params) + t * (Math.log(b.params) - Math.log(a.params)));
    }
  }
  // No crossing: even the largest model gets too much data, or the smallest too little.
  // Extrapolate with F ∝ N (6·N FLOPs per unit): D/N ∝ C/N², so N* = N_edge·exp(g(edge)/2).
  const edge = g(sizes[0]!) < 0 ? sizes[0]! : sizes[sizes.length - 1]!;
  return edge.params * Math.exp(g(edge) / 2);
}

/**
 * Snap target parameter counts to distinct buildable sizes, nearest in ln N first.
 *
 * @param sizes Buildable sizes, ascending in params.
 * @param targets Target parameter counts.
 * @returns Distinct sizes, ascending in params (fewer than targets when the family runs out).
 */
export function snapSizes(sizes: readonly FamilySize[], targets: readonly number[]): FamilySize[] {
  const used = new Set<number>();
  // Place the targets closest to a buildable size first, so collisions displace the worst fits.
  const order = targets.map((t, i) => ({ t, i, d: nearestDistance(sizes, t) }))
    .sort((a, b) => a.d - b.d);
  for (const { t } of order) {
    let best = -1;
    let bestDistance = Infinity;
    for (let j = 0; j < sizes.length; j++) {
      if (used.has(j)) continue;
      const d = Math.abs(Math.log(sizes[j]!.params) - Math.log(t));
      if (d < bestDistance) {
        bestDistance = d;
        best = j;
      }
    }
    if (best >= 0) used.add(best);
  }
  return [...used].sort((a, b) => a - b).map((j) => sizes[j]!);
}

function nearestDistance(sizes: readonly FamilySize[], target: number): number {
  return Math.min(...sizes.map((s) => Math.abs(Math.log(s.params) - Math.log(target))));
}

/**
 * A stable key for a training request: readable fields plus a hash of everything else, so the
 * same request always gets the same key and any change of hyper-parameters gets a new one.
 *
 * @param request The `POST /v1/train` body.
 * @returns e.g. `gpt/synthetic-text/size=64/C=3e+11/seed=0/5f3a9c21`.
 */
export function pointKey(request: PointRequest): string {
  const { family, dataset, size, budget, seed, ...rest } = request;
  return `${family}/${dataset}/size=${size}/C=${budget.flops.toExponential()}/seed=${seed}/` +
    hashString(stableStringify(rest)).toString(16).padStart(8, "0");
}

/**
 * JSON with object keys sorted, so equal values always serialise equally.
 *
 * @param value Any JSON value.
 * @returns Canonical JSON text.
 */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function fmt(x: number): string {
  return x.toPrecision(3);
}
