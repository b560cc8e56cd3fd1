/**
 * Where the trainer finds datasets: the dataset registry (`data/mod.ts`), through a
 * {@linkcode DatasetResolver} so that tests and other callers can pass their own.
 *
 * @module
 */
import { getDataset } from "../../data/mod.ts";
import type { DatasetResolver } from "./run_plan.ts";

/**
 * A resolver over the dataset registry.
 * @param options Data directory of local files, and whether absolute paths may be named
 * (the HTTP API passes `false`).
 * @returns The resolver; it throws the registry's error (unknown name, refused path), which the
 * planner reports as a 422 naming `dataset`.
 */
export function registryResolver(
  options: { dataDir?: string; allowAbsolutePaths?: boolean } = {},
): DatasetResolver {
  return (name) => getDataset(name, options);
}

/** The default lookup of library callers: the registry, absolute local paths allowed. */
export const defaultDatasetResolver: DatasetResolver = registryResolver();
