/**
 * Where the trainer finds datasets by default.
 *
 * The dataset registry (`data/mod.ts`) is built separately; until it is part of this build, no
 * dataset is registered here and every name is unknown (a 422 naming `dataset`). Library callers
 * and tests pass their own {@linkcode DatasetResolver}.
 *
 * @module
 */
import type { DatasetResolver } from "./plan.ts";

/**
 * The default dataset lookup.
 * @param _name Dataset name.
 * @returns The dataset, or `undefined` when none has that name.
 */
export const defaultDatasetResolver: DatasetResolver = (_name) => undefined;
