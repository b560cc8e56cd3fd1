/**
 * The family table a trainer serves (`GET /v1/families/{name}`), and its conversion to what the
 * planner spends budgets with.
 *
 * A {@linkcode FamilyDescription} is the whole of what the sweep needs to know about a model it
 * did not build: the buildable sizes, and for each the parameter count the law should use and the
 * exact training FLOPs per sample. flops-fit's own server answers it from `models/`
 * ({@linkcode describeFamily} in `study.ts`); any other trainer (the PyTorch worker in
 * `examples/pytorch/`) answers it for its own models, and a sweep file may carry one inline.
 *
 * A table is valid when every count is positive and finite and `size` and `params` both rise
 * strictly from one row to the next (a bigger model that is not bigger is a wrong table).
 *
 * @module
 */
import { z } from "zod";
import { FlopsFitError, summarizeIssues } from "../errors.ts";
import type { SweepFamily } from "./family.ts";

/** One buildable size of a served family. */
export const FamilySizeSchema = z.object({
  /** The family's size parameter (e.g. `d_model`). */
  size: z.number().int().positive().meta({ example: 64 }),
  /** Parameters N the law should use (for flops-fit's families: every trainable parameter). */
  params: z.number().int().positive().meta({ example: 116_352 }),
  /** Exact training FLOPs per sample: 3 × 2 × multiply-adds of every matmul of the forward. */
  flops_per_sample: z.number().positive().finite().meta({ example: 1.1e8 }),
  /** Parameters that are not lookup tables (Kaplan's N), when the trainer knows them. */
  non_embedding_params: z.number().int().positive().optional(),
  /** The full config this size builds (informative; the sweep sends only `size` and `model`). */
  config: z.record(z.string(), z.unknown()).optional(),
}).strict();

/** The contract of `GET /v1/families/{name}`: one model family's buildable sizes and counts. */
export const FamilyDescriptionSchema = z.object({
  /** The name `POST /v1/train` accepts as `family`. */
  name: z.string().min(1).max(64).meta({ example: "gpt" }),
  /** Name of the size parameter, e.g. `d_model` or `embed_dim`. */
  size_param: z.string().min(1).max(64).meta({ example: "d_model" }),
  /** What D counts: tokens (language models), images (classifiers), or samples. */
  data_unit: z.enum(["tokens", "images", "samples"]),
  /** D units one sample holds: the context length, 1 image, 1 sample. */
  units_per_sample: z.number().int().positive().meta({ example: 128 }),
  /** Every buildable size, ascending in `size` and in `params`. */
  sizes: z.array(FamilySizeSchema).min(1).max(10_000),
}).strict().superRefine((family, ctx) => {
  for (let i = 1; i < family.sizes.length; i++) {
    const previous = family.sizes[i - 1]!;
    const row = family.sizes[i]!;
    for (const key of ["size", "params"] as const) {
      if (!(row[key] > previous[key])) {
        ctx.addIssue({
          code: "custom",
          path: ["sizes", i, key],
          message: `sizes must be ascending: ${key} ${row[key]} does not exceed the previous ` +
            `row's ${previous[key]}.`,
        });
        return;
      }
    }
  }
}).meta({ id: "FamilyDescription" });

/** A served family table. */
export type FamilyDescription = z.infer<typeof FamilyDescriptionSchema>;

/** `GET /v1/families`: every family a trainer can build. */
export const FamilyListSchema = z.object({
  families: z.array(FamilyDescriptionSchema),
}).meta({ id: "FamilyList" });

/** A family table that breaks the contract; `field` is the path of the first offending value. */
export class FamilyDescriptionError extends FlopsFitError {
  /** Path of the offending value, e.g. `sizes[3].params`. */
  declare readonly field: string;
  /**
   * @param field Offending path.
   * @param message What is wrong.
   */
  constructor(field: string, message: string) {
    super(message, { field });
    this.name = "FamilyDescriptionError";
  }
}

/**
 * Validate a family table from anywhere (a worker's answer, a sweep file).
 *
 * @param value The parsed JSON.
 * @param source Who it came from, for the message (`http://host:8100`, `the sweep file`).
 * @returns The table.
 * @throws {FamilyDescriptionError} naming the first offending field.
 *
 * @example
 * ```ts
 * import { parseFamilyDescription } from "./family_description.ts";
 * const t = parseFamilyDescription({ name: "m", size_param: "d", data_unit: "samples",
 *   units_per_sample: 1, sizes: [{ size: 8, params: 100, flops_per_sample: 600 }] }, "a test");
 * if (t.sizes.length !== 1) throw new Error();
 * ```
 */
export function parseFamilyDescription(value: unknown, source: string): FamilyDescription {
  const parsed = FamilyDescriptionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { field, message } = summarizeIssues(parsed.error.issues, "(root)");
  throw new FamilyDescriptionError(
    field,
    `The family table from ${source} is invalid at ${field}: ${message}`,
  );
}

/**
 * The planner's view of a served table. N is `non_embedding_params` when asked for and every
 * row has it, else `params`.
 *
 * @param description A validated table.
 * @param options.params Which count is N. @default "total"
 * @returns The family, sizes ascending in N.
 */
export function familyFromDescription(
  description: FamilyDescription,
  options: { params?: "non_embedding" | "total" } = {},
): SweepFamily {
  const nonEmbedding = options.params === "non_embedding" &&
    description.sizes.every((s) => s.non_embedding_params !== undefined);
  const sizes = description.sizes.map((s) => ({
    size: s.size,
    params: nonEmbedding ? s.non_embedding_params! : s.params,
    flopsPerSample: s.flops_per_sample,
  }));
  sizes.sort((a, b) => a.params - b.params);
  return {
    name: description.name,
    sizeParam: description.size_param,
    dataUnit: description.data_unit,
    unitsPerSample: description.units_per_sample,
    sizes,
  };
}

/**
 * Where two tables of one family first differ, or `undefined` when they agree on everything the
 * planner reads (size parameter, data unit, units per sample, and every row's size and counts).
 *
 * @param a One table.
 * @param b Another.
 * @returns A sentence naming the first difference.
 */
export function tableDifference(a: FamilyDescription, b: FamilyDescription): string | undefined {
  for (const key of ["name", "size_param", "data_unit", "units_per_sample"] as const) {
    if (a[key] !== b[key]) return `${key} ${JSON.stringify(a[key])} ≠ ${JSON.stringify(b[key])}`;
  }
  if (a.sizes.length !== b.sizes.length) {
    return `${a.sizes.length} sizes ≠ ${b.sizes.length} sizes`;
  }
  for (let i = 0; i < a.sizes.length; i++) {
    const x = a.sizes[i]!;
    const y = b.sizes[i]!;
    for (const key of ["size", "params", "flops_per_sample", "non_embedding_params"] as const) {
      if (x[key] !== y[key]) return `sizes[${i}].${key} ${x[key]} ≠ ${y[key]}`;
    }
  }
  return undefined;
}
