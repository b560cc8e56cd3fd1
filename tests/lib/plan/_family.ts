/**
 * A toy family for the sweep tests: sizes 8…512 in steps of 8, N = 12·d² (a transformer's
 * non-embedding count at depth 1), F = 6·N·T + 2·T²·d·6 per sample of T = 64 tokens.
 *
 * @module
 */
import type { SweepFamily } from "../../../lib/plan/family.ts";

/** Tokens per sample of the toy family. */
export const TOY_CONTEXT = 64;

/**
 * Build the toy family.
 *
 * @param step Spacing of the buildable d values.
 * @returns The family.
 */
export function toyFamily(step = 8): SweepFamily {
  const sizes = [];
  for (let d = step; d <= 512; d += step) {
    const params = 12 * d * d;
    sizes.push({
      size: d,
      params,
      flopsPerSample: 6 * params * TOY_CONTEXT + 12 * TOY_CONTEXT ** 2 * d,
    });
  }
  return { name: "toy", sizeParam: "d", dataUnit: "tokens", unitsPerSample: TOY_CONTEXT, sizes };
}
