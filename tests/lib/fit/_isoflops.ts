/**
 * The published IsoFLOP sweeps in `../shared/data/isoflops/` (see its README), as fit points,
 * for the held-out forecast check (tests and bench).
 *
 * @module
 */
import type { FitPoint } from "../../../lib/fit/schema.ts";

/** Folder of the published sweeps, relative to the project root. */
export const ISOFLOPS_DIR = new URL("../../../../shared/data/isoflops/", import.meta.url);
/** The files, and the relative C tolerance that groups their budgets (README). */
export const ISOFLOPS_FILES: Record<string, number> = {
  "marin_202603_isoflops.csv": 0.05,
  "misfitting_isoflops.csv": 0.05,
};

/** One experiment of a published sweep. */
export interface PublishedSweep {
  /** File it came from. */
  file: string;
  /** The `experiment` column. */
  experiment: string;
  /** Its runs, with C = the `budget` column. */
  points: FitPoint[];
  /** Grouping tolerance for its budgets. */
  budgetRelTol: number;
}

/**
 * Read every experiment of the published sweeps.
 *
 * @returns The sweeps, or null when `../shared` is absent.
 */
export function loadPublishedSweeps(): PublishedSweep[] | null {
  const out: PublishedSweep[] = [];
  for (const [file, tol] of Object.entries(ISOFLOPS_FILES)) {
    let text: string;
    try {
      text = Deno.readTextFileSync(new URL(file, ISOFLOPS_DIR));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    }
    const [head, ...lines] = text.trim().split("\n");
    const cols = head!.split(",");
    const at = (name: string) => cols.indexOf(name);
    const [iExp, iN, iD, iC, iL] = ["experiment", "params", "tokens", "budget", "loss"].map(at);
    const byExperiment = new Map<string, FitPoint[]>();
    for (const line of lines) {
      const cells = line.split(",");
      const experiment = cells[iExp!]!;
      const point = {
        N: Number(cells[iN!]),
        D: Number(cells[iD!]),
        C: Number(cells[iC!]),
        loss: Number(cells[iL!]),
      };
      byExperiment.set(experiment, [...(byExperiment.get(experiment) ?? []), point]);
    }
    for (const [experiment, points] of byExperiment) {
      out.push({ file, experiment, points, budgetRelTol: tol });
    }
  }
  return out;
}

/**
 * The C/10 split of a sweep: hold out every budget above (largest budget)/10, so the largest
 * held-out budget is ≥ 10× every fitted one.
 *
 * @param points The runs.
 * @returns The threshold (FLOPs) for `backtest.hold_out_above`.
 */
export function tenfoldThreshold(points: readonly FitPoint[]): number {
  const top = Math.max(...points.map((p) => p.C!));
  return top / 10 * 1.001;
}
