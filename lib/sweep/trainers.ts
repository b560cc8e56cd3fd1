/**
 * Which trainer trained which point, for the report: every worker that answered (a URL,
 * `in-process`, `mock`) with the backend it reported and the points it trained.
 *
 * @module
 */
import { sci } from "./format.ts";
import type { ResultRecord } from "./results.ts";

/**
 * One markdown line naming every trainer of a study and its points.
 *
 * @param records The study's records.
 * @returns e.g. ``Trained by: `http://gpu-1:8100` (torch-cuda) — 10 points (C=1.0e12: size 64, 96…)``,
 *   or `undefined` when there are none.
 *
 * @example
 * ```ts
 * import { trainersLine } from "./trainers.ts";
 * const line = trainersLine([{ key: "k", budget_flops: 1e9, size: 8, N: 1, D: 1, C: 1e9,
 *   loss: 2, wall_s: 1, worker: "mock", finished_at: "" }]);
 * if (!line?.includes("`mock`")) throw new Error();
 * ```
 */
export function trainersLine(records: readonly ResultRecord[]): string | undefined {
  const byWorker = new Map<string, ResultRecord[]>();
  for (const r of records) byWorker.set(r.worker, [...(byWorker.get(r.worker) ?? []), r]);
  if (byWorker.size === 0) return undefined;
  const parts = [...byWorker].map(([worker, rs]) => {
    const backends = [...new Set(rs.map((r) => r.backend).filter((b) => b !== undefined))];
    const budgets = new Map<number, number[]>();
    for (const r of rs) {
      budgets.set(r.budget_flops, [...(budgets.get(r.budget_flops) ?? []), r.size]);
    }
    const points = [...budgets].sort((a, b) => a[0] - b[0]).map(([c, sizes]) =>
      `C=${sci(c)}: size ${sizes.sort((a, b) => a - b).join(", ")}`
    ).join("; ");
    return `\`${worker}\`` + (backends.length === 0 ? "" : ` (${backends.join(", ")})`) +
      ` — ${rs.length} point${rs.length === 1 ? "" : "s"} (${points})`;
  });
  return `Trained by: ${parts.join(" · ")}.`;
}
