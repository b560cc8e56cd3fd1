/**
 * Adaptive studies in rounds (`deno task sweep --adaptive`, `"adaptive": {…}` in the sweep file).
 *
 * Round 0 is the planned grids. After each round, {@linkcode nextRound} reads every finished
 * point and asks the adaptive planner (`lib/plan/adaptive.ts`) what to train next:
 * 1. a **re-centring** round when some budget's IsoFLOP curve has no interior minimum: new sizes
 *    only, around the vertex past the edge (or the better edge), with the planner's reason;
 * 2. otherwise a **budget** round: the candidate budget (the largest so far × 2, 3, 5, 10, capped
 *    at the target) whose grid most narrows the pre-posterior bootstrap interval of N_opt at the
 *    target budget;
 *
 * until every budget brackets its optimum and the interval's hi/lo ratio is at most
 * `n_opt_ratio` (`converged`), the target budget itself was trained (`target`), the next round
 * would pass the compute cap `max_flops` (`cap`), `max_rounds` rounds were added (`rounds`), or a
 * curve without an interior minimum has no untrained size left around it (`stuck`: no budget is
 * planned off the N_opt line of edge vertices). Each round is appended to `rounds.jsonl` (with its points, fsync'd) before it
 * trains, so a killed study resumes: the logged rounds are replayed, their finished points
 * skipped, and planning continues from the same results.
 *
 * @module
 */
import type { AdaptiveConfig } from "./config.ts";
import type { SweepFamily } from "../plan/family.ts";
import { planAdaptive, type Uncertainty } from "../plan/adaptive.ts";
import { fitCurves, type ObservedPoint } from "../plan/isoflop.ts";
import type { BudgetGrid, PlannedPoint, PointTemplate } from "../plan/plan.ts";
import { plainExponents } from "./format.ts";
import type { ResultRecord } from "./results.ts";

/** Adaptive settings with the target budget and the compute cap filled in. */
export type ResolvedAdaptive = AdaptiveConfig & { target_flops: number; max_flops: number };

/**
 * Fill in the defaults that depend on the planned grids: target 10× the largest planned budget,
 * cap 10× the planned grids' FLOPs.
 *
 * @param adaptive The sweep file's settings.
 * @param planned The planned grids (round 0).
 * @returns The settings with target and cap.
 */
export function resolveAdaptive(
  adaptive: AdaptiveConfig,
  planned: readonly BudgetGrid[],
): ResolvedAdaptive {
  return {
    ...adaptive,
    target_flops: adaptive.target_flops ?? 10 * Math.max(...planned.map((g) => g.budget_flops)),
    max_flops: adaptive.max_flops ?? 10 * roundFlops({ grids: [...planned] }),
  };
}

/** One round of an adaptive study, as logged in `rounds.jsonl`. */
export interface RoundRecord {
  /** 0 for the planned grids, then 1, 2, … */
  round: number;
  /** What the round does. */
  kind: "planned" | "recentre" | "budget";
  /** The grids it adds (re-centred grids hold only new sizes). */
  grids: BudgetGrid[];
  /** Why, one line per grid or decision. */
  reasons: string[];
  /** N_opt at the target from the points before this round (null when not yet estimable). */
  uncertainty: Uncertainty | null;
  /** Candidate budgets scored (budget rounds). */
  candidates?: { budget_flops: number; uncertainty: Uncertainty | null }[];
}

/** Why an adaptive study stopped. */
export interface RoundStop {
  /** `converged`: bracketed and narrow; `cap`: the next round would pass max_flops; … */
  stop: "converged" | "target" | "cap" | "rounds" | "stuck";
  /** A sentence for the log and report. */
  reason: string;
  /** The last estimate of N_opt at the target. */
  uncertainty: Uncertainty | null;
}

/** Inputs of {@linkcode nextRound}. */
export interface NextRoundInput extends PointTemplate {
  /** The family. */
  family: SweepFamily;
  /** The adaptive settings, target and cap resolved. */
  adaptive: ResolvedAdaptive;
  /** Rounds so far (round 0 included). */
  rounds: readonly RoundRecord[];
  /** Every finished point of the study. */
  records: readonly ResultRecord[];
  /** Which loss the study fits. */
  fitLoss: "eval_loss" | "loss";
  /** Sizes per new grid and grid width. */
  sizesPerBudget: number;
  width: number;
}

/**
 * FLOPs of a round's points.
 *
 * @param round The round (its grids).
 * @returns Σ FLOPs.
 */
export function roundFlops(round: Pick<RoundRecord, "grids">): number {
  return round.grids.reduce((s, g) => s + g.points.reduce((t, p) => t + p.flops, 0), 0);
}

/**
 * The study's points as the planner reads them: (N, D, loss) under the budget label.
 *
 * @param records Finished points.
 * @param fitLoss Which loss the study fits.
 * @returns Observed points.
 */
export function observedPoints(
  records: readonly ResultRecord[],
  fitLoss: "eval_loss" | "loss",
): ObservedPoint[] {
  return records.map((r) => ({
    N: r.N,
    D: r.D,
    C: r.budget_flops,
    loss: fitLoss === "eval_loss" && r.eval_loss !== undefined ? r.eval_loss : r.loss,
  }));
}

/**
 * Decide the next round from the results so far (pure: the same results give the same round).
 *
 * @param input Family, template, settings, rounds and results.
 * @returns The next round, or why the study stops.
 */
export function nextRound(input: NextRoundInput): RoundRecord | RoundStop {
  const { adaptive } = input;
  const round = input.rounds.length;
  const spent = input.rounds.reduce((s, r) => s + roundFlops(r), 0);
  const observed = observedPoints(input.records, input.fitLoss);
  const plan = planAdaptive({
    family: input.family,
    results: observed,
    targetBudget: adaptive.target_flops,
    sizesPerBudget: input.sizesPerBudget,
    width: input.width,
    bootstrap: adaptive.bootstrap,
    seed: input.seed ?? 0,
    dataset: input.dataset,
    ...(input.hyper === undefined ? {} : { hyper: input.hyper }),
    ...(input.model === undefined ? {} : { model: input.model }),
  });
  const uncertainty = plan.current;
  if (round > adaptive.max_rounds) {
    return {
      stop: "rounds",
      reason: `${adaptive.max_rounds} adaptive rounds added (max_rounds).`,
      uncertainty,
    };
  }
  const fits = (grids: BudgetGrid[]) => spent + roundFlops({ grids }) <= adaptive.max_flops;
  // Drop points already planned by an earlier round (a re-centred grid never repeats a size).
  const planned = new Set(input.rounds.flatMap((r) => r.grids.flatMap((g) => g.points)).map(keyOf));
  const fresh = (grid: BudgetGrid): BudgetGrid => ({
    ...grid,
    points: grid.points.filter((p) => !planned.has(keyOf(p))),
  });
  const recentred = plan.recentred.map(fresh).filter((g) => g.points.length > 0);
  if (recentred.length > 0) {
    if (!fits(recentred)) {
      return {
        stop: "cap",
        reason: `Re-centring ${recentred.length} budget(s) would pass max_flops ` +
          `${adaptive.max_flops.toExponential(2)} (spent ${spent.toExponential(2)}).`,
        uncertainty,
      };
    }
    return {
      round,
      kind: "recentre",
      grids: recentred,
      reasons: recentred.map((g) => g.warnings.join(" ")),
      uncertainty,
    };
  }
  const unbracketed = fitCurves(observed).filter((c) => c.position !== "inside");
  const ratio = uncertainty === null ? Infinity : uncertainty.ci[1] / uncertainty.ci[0];
  if (unbracketed.length > 0) {
    // No new size can be placed around them: N_opt(C) would be extrapolated from edge vertices,
    // and a new budget planned from that line is a guess.
    return {
      stop: "stuck",
      reason: `Budget(s) ${
        unbracketed.map((c) => c.C.toExponential(1)).join(", ")
      } have no interior minimum and the family has no untrained size around them (its ` +
        `range is exhausted there); drop or raise those budgets, or widen the family's sizes.`,
      uncertainty,
    };
  }
  if (unbracketed.length === 0 && ratio <= adaptive.n_opt_ratio) {
    return {
      stop: "converged",
      reason: `Every budget brackets its optimum and N_opt at ${
        adaptive.target_flops.toExponential(1)
      } is known to a hi/lo ratio of ${ratioText(ratio)} ≤ ${adaptive.n_opt_ratio}.`,
      uncertainty,
    };
  }
  const largest = Math.max(...observed.map((p) => p.C));
  if (largest >= adaptive.target_flops * (1 - 1e-9)) {
    return {
      stop: "target",
      reason: `The target budget ${adaptive.target_flops.toExponential(1)} was trained: its ` +
        `optimum is observed, not forecast (interval hi/lo ${ratioText(ratio)}).`,
      uncertainty,
    };
  }
  const next = plan.next === null ? null : fresh(plan.next);
  if (next === null || next.points.length === 0) {
    return {
      stop: "stuck",
      reason: `No candidate budget narrows the forecast: ${plan.notes.join(" ") || "none planned"}`,
      uncertainty,
    };
  }
  if (!fits([next])) {
    return {
      stop: "cap",
      reason: `The next budget ${next.budget_flops.toExponential(1)} would pass max_flops ` +
        `${adaptive.max_flops.toExponential(2)} (spent ${spent.toExponential(2)}).`,
      uncertainty,
    };
  }
  const chosen = plan.candidates.find((c) => c.budget_flops === next.budget_flops);
  const width = (u: Uncertainty | null | undefined) =>
    u === null || u === undefined ? "—" : `${ratioText(u.ci[1] / u.ci[0])}×`;
  return {
    round,
    kind: "budget",
    grids: [next],
    reasons: [
      `Budget ${next.budget_flops.toExponential(1)} narrows the 95 % interval of N_opt at ` +
      `${adaptive.target_flops.toExponential(1)} most: hi/lo ${width(uncertainty)} → ` +
      `${width(chosen?.uncertainty)} expected (candidates: ${
        plan.candidates.map((c) => `${c.budget_flops.toExponential(1)} → ${width(c.uncertainty)}`)
          .join(", ")
      }).`,
      ...next.warnings,
    ],
    uncertainty,
    candidates: plan.candidates,
  };
}

/** A hi/lo ratio: two decimals, exponent form past 1000. */
function ratioText(ratio: number): string {
  return ratio < 1000 ? ratio.toFixed(2) : ratio.toExponential(1);
}

function keyOf(p: PlannedPoint): string {
  return p.key;
}

/**
 * Read `rounds.jsonl` (one round per line; a torn last line is ignored).
 *
 * @param path The file.
 * @returns The rounds in order, empty when the file does not exist.
 */
export async function readRounds(path: string): Promise<RoundRecord[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  const rounds: RoundRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      rounds.push(JSON.parse(line) as RoundRecord);
    } catch {
      break; // a torn last line: the round it began is planned again
    }
  }
  return rounds.filter((r, i) => r.round === i);
}

/**
 * Append a round to `rounds.jsonl` and fsync it.
 *
 * @param path The file.
 * @param round The round.
 */
export async function appendRound(path: string, round: RoundRecord): Promise<void> {
  using file = await Deno.open(path, { append: true, create: true });
  await file.write(new TextEncoder().encode(JSON.stringify(round) + "\n"));
  await file.sync();
}

/**
 * The rounds as markdown for the report: which round added which points and why.
 *
 * @param rounds The rounds.
 * @param stop Why the study stopped, when it did.
 * @param sizeParam The family's size parameter name.
 * @returns Markdown lines.
 */
export function formatRounds(
  rounds: readonly RoundRecord[],
  stop: RoundStop | null,
  sizeParam: string,
): string[] {
  const lines = [
    "## Adaptive rounds",
    "",
    "| round | kind | budget | sizes added | FLOPs | why |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of rounds) {
    for (const [i, g] of r.grids.entries()) {
      const why = r.kind === "planned"
        ? `planned (centre from ${g.centre_from})`
        : r.kind === "budget"
        ? (r.reasons[0] ?? "")
        : (r.reasons[i] ?? "");
      lines.push(
        `| ${r.round} | ${r.kind} | ${g.budget_flops.toExponential(1)} | ` +
          `${sizeParam}=${g.points.map((p) => p.size).join(", ")} | ` +
          `${g.points.reduce((s, p) => s + p.flops, 0).toExponential(2)} | ${why} |`,
      );
    }
  }
  if (stop !== null) {
    lines.push("");
    lines.push(`Stopped (${stop.stop}): ${stop.reason}`);
  }
  // The report's one number format (3.0e9, not 3.0e+9), also in the planner's reasons.
  return lines.map(plainExponents);
}
