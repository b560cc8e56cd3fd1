/**
 * From registry names to what the planner needs: the family's buildable sizes with exact
 * parameter and FLOP counts (from `models/mod.ts`), for the dataset the study trains on — as the
 * same {@linkcode FamilyDescription} table a foreign trainer serves.
 *
 * @module
 */
import type { DatasetInfo } from "../../data/mod.ts";
import { ConfigError, getFamily } from "../../models/mod.ts";
import type { SweepFamily } from "./family.ts";
import { type FamilyDescription, familyFromDescription } from "./family_description.ts";

/** Which parameter count is N. */
export type ParamCount = "non_embedding" | "total";

/**
 * Size-parameter values the planner considers: steps of 2 up to 16, of 4 up to 32, of 8 up to
 * 256, of 16 up to 512, of 32 up to 2048 — round widths, dense where tiny models differ most (a
 * step of 2 at d = 8 is already 1.5× in parameters). Each is kept only when the family accepts it
 * (e.g. divisible by its derived head count).
 */
export const CANDIDATE_SIZES: readonly number[] = (() => {
  const out: number[] = [];
  for (let s = 4; s <= 2048; s += s < 16 ? 2 : s < 32 ? 4 : s < 256 ? 8 : s < 512 ? 16 : 32) {
    out.push(s);
  }
  return out;
})();

/** Options of {@linkcode familyForSweep}. */
export interface FamilyOptions {
  /** Config fields fixed for every size (sent as `config`). */
  model?: Record<string, unknown>;
  /** The dataset's metadata (vocabulary, image shape). */
  data?: DatasetInfo;
  /** Which parameter count is N. @default "non_embedding" */
  params?: ParamCount;
}

/**
 * The family's table from the registry, as `GET /v1/families/{name}` serves it: every buildable
 * candidate size with its total and non-embedding parameter counts, exact training FLOPs per
 * sample and resolved config — the numbers the trainer reports for the same request.
 *
 * @param name Registry name (`gpt`, `vit`).
 * @param options Fixed config fields and dataset metadata (`params` is not read: both counts
 *   are listed).
 * @returns The table; `params` is the total count, `non_embedding_params` Kaplan's N.
 * @throws {RangeError} For an unknown family or one that builds none of the candidates.
 * @throws {ConfigError} When the fixed config fields themselves are invalid.
 *
 * @example
 * ```ts
 * import { describeFamily } from "./study.ts";
 * const gpt = describeFamily("gpt", { model: { context: 16 } });
 * if (gpt.data_unit !== "tokens" || gpt.units_per_sample !== 16) throw new Error("unexpected");
 * ```
 */
export function describeFamily(name: string, options: FamilyOptions = {}): FamilyDescription {
  const family = getFamily(name);
  if (family === undefined) throw new RangeError(`Unknown model family "${name}".`);
  const sizes: FamilyDescription["sizes"] = [];
  let unitsPerSample: number | undefined;
  let lastError: ConfigError | undefined;
  for (const size of CANDIDATE_SIZES) {
    let config;
    try {
      config = family.resolveConfig({
        size,
        ...(options.model === undefined ? {} : { config: options.model }),
        ...(options.data === undefined ? {} : { data: options.data }),
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // A size-specific rejection (divisibility) skips the size; a fixed field's error is fatal.
      if (error.field !== "size" && error.field !== "heads" && error.field !== "mlp_ratio") {
        throw error;
      }
      lastError = error;
      continue;
    }
    const counts = family.countParams(config);
    sizes.push({
      size,
      params: counts.total,
      flops_per_sample: family.trainingFlopsPerSample(config),
      non_embedding_params: counts.nonEmbedding,
      config: config as Record<string, unknown>,
    });
    unitsPerSample ??= family.modality === "text" ? family.tokensPerSample(config) : 1;
  }
  if (sizes.length === 0 || unitsPerSample === undefined) {
    throw new RangeError(
      `Family ${name} builds none of the candidate sizes` +
        (lastError === undefined ? "." : `: ${lastError.message}`),
    );
  }
  sizes.sort((a, b) => a.params - b.params);
  return {
    name,
    size_param: family.sizeParam,
    data_unit: family.modality === "text" ? "tokens" : "images",
    units_per_sample: unitsPerSample,
    sizes,
  };
}

/**
 * The family as the planner sees it, with every buildable candidate size: the registry's table
 * ({@linkcode describeFamily}) read exactly as a foreign trainer's would be — or a foreign
 * trainer's table itself, already validated.
 *
 * @param name Registry name (`gpt`, `vit`), or a whole table.
 * @param options Fixed config fields, dataset metadata (for a registry name), parameter count.
 * @returns The family.
 * @throws {RangeError} For an unknown family or one that builds none of the candidates.
 * @throws {ConfigError} When the fixed config fields themselves are invalid.
 *
 * @example
 * ```ts
 * import { familyForSweep } from "./study.ts";
 * const gpt = familyForSweep("gpt");
 * if (gpt.dataUnit !== "tokens" || gpt.unitsPerSample !== 128) throw new Error("unexpected");
 * ```
 */
export function familyForSweep(
  name: string | FamilyDescription,
  options: FamilyOptions = {},
): SweepFamily {
  const table = typeof name === "string" ? describeFamily(name, options) : name;
  return familyFromDescription(table, { params: options.params ?? "non_embedding" });
}
