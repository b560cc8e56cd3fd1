/**
 * The model-family registry. The trainer and the routes look families up here by name and never
 * import one directly: adding a family is one new file and one line in {@linkcode FAMILIES}.
 *
 * @module
 */
import type { ModelFamily } from "./family.ts";
import { gpt } from "./gpt.ts";
import { vit } from "./vit.ts";

export * from "./family.ts";
// What a compiled step needs to schedule the same computation (lib/backend/webgpu/graph.ts).
export type { GptConfig } from "./gpt.ts";
export { sinCos2d, type VitConfig } from "./vit.ts";
export { LAYER_NORM_EPS } from "./layers.ts";

/** A family of any config type, as the registry holds it. */
// deno-lint-ignore no-explicit-any
export type AnyModelFamily = ModelFamily<any>;

/** Every registered family, by name. */
export const FAMILIES: Readonly<Record<string, AnyModelFamily>> = {
  [vit.name]: vit,
  [gpt.name]: gpt,
};

/**
 * Look up a family.
 * @param name Registry name, e.g. `gpt`.
 * @returns The family, or `undefined` when none has that name.
 *
 * @example
 * ```ts
 * import { getFamily } from "./mod.ts";
 * if (getFamily("gpt")?.sizeParam !== "d_model") throw new Error();
 * ```
 */
export function getFamily(name: string): AnyModelFamily | undefined {
  return Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
}

/** @returns The registered family names. */
export function familyNames(): string[] {
  return Object.keys(FAMILIES);
}
