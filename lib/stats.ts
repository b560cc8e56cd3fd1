/**
 * Small statistics shared by the trainer, the fitter and the sweep's report.
 *
 * @module
 */

/**
 * Median of a non-empty list: the middle value of the sorted list, or the mean of the middle two
 * for an even count.
 *
 * @param values Numbers.
 * @returns Their median.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * if (median([3, 1, 2, 10]) !== 2.5) throw new Error("unexpected");
 * ```
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
