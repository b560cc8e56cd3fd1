/**
 * Small helpers the kernel modules share when they write WGSL: float literals, the 2-D split of a
 * large 1-D dispatch, and the storage-binding declarations.
 *
 * Every storage binding is declared `read_write`: wgpu then sees one usage of each buffer in a
 * dispatch, so two views of one arena buffer (an input and an output at different offsets) may be
 * bound together.
 *
 * @module
 */

/** Workgroups along one dispatch dimension that every WebGPU device accepts. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * A WGSL `f32` literal of `x`, exactly as `Math.fround(x)` (e.g. `1e-5f`, `-1f`).
 * @param x A finite number.
 */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`Not a finite f32: ${x}`);
  const s = String(Math.fround(x));
  return `${s}f`;
}

/** A 1-D count of workgroups split into (x, y) with x ≤ 65535. */
export interface Grid {
  /** Workgroups along x. */
  x: number;
  /** Workgroups along y. */
  y: number;
}

/**
 * Split `count` workgroups into a 2-D grid; kernels recover the flat index with
 * {@linkcode flatIndex}.
 * @param count Workgroups wanted (≥ 1).
 */
export function grid(count: number): Grid {
  const x = Math.max(1, Math.min(count, MAX_WORKGROUPS_PER_DIM));
  return { x, y: Math.ceil(Math.max(1, count) / x) };
}

/**
 * WGSL expression of the flat workgroup index of a {@linkcode grid} dispatch, given the builtin
 * `workgroup_id` named `wg`.
 * @param g The grid.
 */
export function flatIndex(g: Grid): string {
  return `(wg.x + wg.y * ${g.x}u)`;
}

/**
 * Declarations of storage bindings 0…n−1 in group 0, all `read_write`.
 * @param bindings `[name, element type]` per binding, e.g. `["x", "f32"]`.
 */
export function storage(bindings: [string, "f32" | "u32" | "i32"][]): string {
  return bindings
    .map(([name, type], i) =>
      `@group(0) @binding(${i}) var<storage, read_write> ${name}: array<${type}>;`
    )
    .join("\n");
}
