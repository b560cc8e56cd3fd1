/**
 * What the sweep planner needs to know about a model family: which sizes it can build, and for
 * each size the exact parameter count and training FLOPs per sample.
 *
 * The planner only sees {@linkcode SweepFamily}; `familyForSweep` (`study.ts`) builds one from
 * the model registry (`models/mod.ts`), `familyFromDescription` (`family_description.ts`) from a
 * trainer's served table, and tests may pass their own.
 *
 * @module
 */

/** One buildable size of a family, with the numbers the planner spends budgets with. */
export interface FamilySize {
  /** The family's size parameter (GPT: `d_model`, ViT: `embed_dim`). */
  size: number;
  /** Parameters counted by the scaling law (N). */
  params: number;
  /** Exact training FLOPs per sample (forward + backward, attention included). */
  flopsPerSample: number;
}

/** A model family as the planner sees it. */
export interface SweepFamily {
  /** Registry name, e.g. `gpt`. */
  name: string;
  /** Name of the size parameter, e.g. `d_model`. */
  sizeParam: string;
  /** Units of D: `tokens` for language models, `images` for classifiers, else `samples`. */
  dataUnit: "tokens" | "images" | "samples";
  /** D units per sample (GPT: the context length; ViT: 1 image). */
  unitsPerSample: number;
  /** Every size the planner may choose from, ascending in params. */
  sizes: FamilySize[];
}
