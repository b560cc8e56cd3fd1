/**
 * Where a sweep's family table comes from: the registry (`models/`) when it has the family, the
 * sweep file when it carries the table inline (`"family": {…FamilyDescription}`), else the
 * workers, each asked `GET /v1/families/{name}` — and they must all tell the same table.
 *
 * Every path ends in the same `SweepFamily`, so the planner snaps, rounds to whole steps and
 * spends budgets for a foreign family exactly as for one in `models/`. Every failure (no worker
 * knows the family, workers disagree, a table that is not ascending or has non-positive counts)
 * is an error here, before any point trains.
 *
 * @module
 */
import type { DatasetInfo } from "../../data/mod.ts";
import {
  type FamilyDescription,
  FamilyDescriptionError,
  familyForSweep,
  parseFamilyDescription,
  type SweepFamily,
  tableDifference,
} from "../plan/mod.ts";
import { familyNames, getFamily } from "../../models/mod.ts";
import type { SweepConfig } from "./config.ts";
import { type FamilyAnswer, fetchFamilyTable } from "./http_trainer.ts";

/** A family and where its table came from. */
export interface ResolvedFamily {
  /** The planner's view. */
  family: SweepFamily;
  /** `models/`, `the sweep file`, or the worker URLs that served it. */
  source: string;
  /** Whether the family is one of flops-fit's own (`models/`). */
  registry: boolean;
  /** Things the user should know (a worker that could not be asked). */
  notes: string[];
}

/** The registry's family, or the sweep file's inline table; `undefined` when workers must tell. */
export function familyFromConfig(
  config: Pick<SweepConfig, "family" | "params" | "model">,
  dataset?: DatasetInfo,
): ResolvedFamily | undefined {
  if (typeof config.family !== "string") {
    const table = parseFamilyDescription(config.family, "the sweep file's `family`");
    return {
      family: familyForSweep(table, { params: config.params }),
      source: "the sweep file",
      registry: false,
      notes: [],
    };
  }
  if (getFamily(config.family) === undefined) return undefined;
  return {
    family: familyForSweep(config.family, {
      params: config.params,
      ...(dataset === undefined ? {} : { data: dataset }),
      ...(config.model === undefined ? {} : { model: config.model }),
    }),
    source: "models/",
    registry: true,
    notes: [],
  };
}

/**
 * The sweep's family: from the registry or the sweep file, else from its workers.
 *
 * @param config The sweep configuration (`family`, `params`, `model`, `dataset`, `workers`).
 * @param options.dataset The dataset's metadata, when flops-fit's registry has it.
 * @param options.token Bearer token for the workers.
 * @returns The family and where it came from.
 * @throws {RangeError} When no worker knows the family, or there are none to ask.
 * @throws {FamilyDescriptionError} When a table breaks the contract (names the field).
 * @throws {Error} When workers disagree, or none could be reached.
 */
export async function resolveSweepFamily(
  config: Pick<SweepConfig, "family" | "params" | "model" | "dataset" | "trainers">,
  options: { dataset?: DatasetInfo; token?: string } = {},
): Promise<ResolvedFamily> {
  const local = familyFromConfig(config, options.dataset);
  if (local !== undefined) return local;
  const name = config.family as string;
  if (config.trainers.length === 0) {
    throw new RangeError(
      `Unknown model family "${name}": models/ has ${familyNames().join(", ")}. Give --workers ` +
        `whose trainers serve GET /v1/families/${name}, or describe the family inline ` +
        `("family": {name, size_param, data_unit, units_per_sample, sizes}).`,
    );
  }
  const answers = await Promise.all(config.trainers.map(async (url) => {
    try {
      return {
        url,
        answer: await fetchFamilyTable(url, name, {
          dataset: config.dataset,
          ...(config.model === undefined ? {} : { model: config.model }),
          ...(options.token === undefined ? {} : { token: options.token }),
        }),
      };
    } catch (error) {
      if (error instanceof FamilyDescriptionError) throw error;
      return { url, error: (error as Error).message };
    }
  }));
  const known = answers.filter((a): a is { url: string; answer: FamilyAnswer & { known: true } } =>
    a.answer?.known === true
  );
  const unknown = answers.filter((a) => a.answer?.known === false);
  const unreachable = answers.filter((a) => a.error !== undefined);
  if (known.length === 0) {
    if (unknown.length > 0) {
      throw new RangeError(
        `No worker knows model family "${name}" (models/ has ${familyNames().join(", ")}): ` +
          unknown.map((a) => `${a.url} answered 404`).join("; ") +
          (unreachable.length === 0
            ? "."
            : `; ${unreachable.map((a) => `${a.url}: ${a.error}`).join("; ")}.`),
      );
    }
    throw new Error(
      `Could not ask any worker for family "${name}": ` +
        unreachable.map((a) => `${a.url}: ${a.error}`).join("; "),
    );
  }
  if (unknown.length > 0) {
    throw new Error(
      `Workers disagree on family "${name}": ${known[0]!.url} serves it, ` +
        `${
          unknown.map((a) => a.url).join(", ")
        } does not know it (every point it took would fail).`,
    );
  }
  const first: FamilyDescription = known[0]!.answer.table;
  for (const other of known.slice(1)) {
    const difference = tableDifference(first, other.answer.table);
    if (difference !== undefined) {
      throw new Error(
        `Workers disagree on family "${name}": ${known[0]!.url} and ${other.url} serve ` +
          `different tables (${difference}).`,
      );
    }
  }
  if (first.name !== name) {
    throw new Error(
      `${known[0]!.url} answered GET /v1/families/${name} with family ${first.name}.`,
    );
  }
  return {
    family: familyForSweep(first, { params: config.params }),
    source: known.map((a) => a.url).join(", "),
    registry: false,
    notes: unreachable.map((a) =>
      `could not ask ${a.url} for family "${name}" (${a.error}); planned from the others' table`
    ),
  };
}
