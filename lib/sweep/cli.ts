/**
 * `deno task sweep`: a whole scaling study from the command line.
 *
 * With no arguments it runs the default preset (`gpt-synthetic`: tiny GPTs on the synthetic text
 * source with a known entropy rate), in-process, offline, and prints the compute-optimal table
 * and both approaches' laws. Rerunning the same command resumes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { PRESETS, resolveSweepConfig, type SweepConfig, type SweepFile } from "./config.ts";
import { parseTrainerList } from "./http_trainer.ts";
import { type DatasetInfo, getDataset, UnknownDatasetError } from "../../data/mod.ts";
import { getFamily } from "../../models/mod.ts";
import { describeLocalBackend, localTrainer } from "./local.ts";
import { DEFAULT_SWEEP_CLI_CONFIG, type SweepCliConfig } from "./cli_config.ts";
import { familyFromConfig, resolveSweepFamily } from "./family_source.ts";
import { runSweep, type StudyEnvironment } from "./sweep.ts";

/** The usage text of `deno task sweep --help`. */
export const USAGE = `deno task sweep [options]

Plans an IsoFLOP sweep, trains every point (in-process, or on --workers), fits Chinchilla
Approaches 2 and 3 with bootstrap CIs and writes results.jsonl, fit.json, summary.md, SVG plots
and report.html into the output directory. Rerun the same command to resume.

  --preset NAME           ${Object.keys(PRESETS).join(" | ")} (default gpt-synthetic)
  --config FILE           sweep file (JSON); fields override the preset
  --out DIR               output directory (default sweeps/<name>)
  --budgets C1,C2,...     budgets in FLOPs, e.g. 1e11,3e11,1e12
  --sizes-per-budget N    model sizes per budget (default 5)
  --width W               largest/smallest parameters per grid (default 16)
  --sizes S1,S2,...       explicit size-parameter values at every budget
  --trainers URL[,URL]    train on servers speaking POST /v1/train
  --workers URL[,URL]     deprecated spelling of --trainers
  --queue URL             points on a Postgres queue for \`deno task worker\` (docs/queue.md)
  --concurrency N         points in flight per trainer (default 1)
  --retries N             retries per point (default 3)
  --timeout S             per-point timeout in seconds (default 3600)
  --bootstrap N           bootstrap resamples (default 200)
  --seed N                training and bootstrap seed (default 0)
  --adaptive              train in rounds until every budget brackets its optimum
                          (docs/adaptive_study.md)
  --mock                  losses from a known law plus noise, instantly
  --plan                  print and write the plan only
  -h, --help              this text
`;

/** What the command line asked for. */
export interface CliRequest {
  /** Preset name. */
  preset?: string;
  /** Path of a sweep file. */
  configFile?: string;
  /** Fields from flags. */
  overrides: Partial<SweepFile>;
  /** Plan only. */
  planOnly: boolean;
  /** `--adaptive`: adaptive rounds, with the sweep file's settings when it has them. */
  adaptive?: boolean;
  /** Print the usage. */
  help: boolean;
}

/**
 * Parse the command line.
 *
 * @param args `Deno.args`.
 * @returns The request.
 * @throws {TypeError} For an unknown flag or a malformed value, naming it.
 */
export function parseCliArgs(args: string[]): CliRequest {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      preset: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
      budgets: { type: "string" },
      "sizes-per-budget": { type: "string" },
      width: { type: "string" },
      sizes: { type: "string" },
      trainers: { type: "string" },
      workers: { type: "string" },
      concurrency: { type: "string" },
      retries: { type: "string" },
      timeout: { type: "string" },
      bootstrap: { type: "string" },
      seed: { type: "string" },
      mock: { type: "boolean" },
      adaptive: { type: "boolean" },
      plan: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const overrides: Partial<SweepFile> = {};
  const number = (flag: string, text: string) => {
    const x = Number(text);
    if (text.trim() === "" || !Number.isFinite(x)) {
      throw new TypeError(`--${flag}: "${text}" is not a number.`);
    }
    return x;
  };
  const list = (flag: string, text: string) =>
    text.split(",").filter((s) => s.trim() !== "").map((s) => number(flag, s));
  if (values.out !== undefined) overrides.out = values.out;
  if (values.budgets !== undefined) overrides.budgets = list("budgets", values.budgets);
  if (values["sizes-per-budget"] !== undefined) {
    overrides.sizes_per_budget = number("sizes-per-budget", values["sizes-per-budget"]);
  }
  if (values.width !== undefined) overrides.width = number("width", values.width);
  if (values.sizes !== undefined) overrides.sizes = list("sizes", values.sizes);
  // --workers is the deprecated spelling of --trainers.
  const trainers = values.trainers ?? values.workers;
  if (trainers !== undefined) overrides.trainers = parseTrainerList(trainers);
  if (values.concurrency !== undefined) {
    overrides.concurrency = number("concurrency", values.concurrency);
  }
  if (values.retries !== undefined) overrides.retries = number("retries", values.retries);
  if (values.timeout !== undefined) overrides.timeout_s = number("timeout", values.timeout);
  if (values.bootstrap !== undefined) overrides.bootstrap = number("bootstrap", values.bootstrap);
  if (values.seed !== undefined) overrides.seed = number("seed", values.seed);
  if (values.mock) overrides.mock = true;
  return {
    ...(values.adaptive ? { adaptive: true } : {}),
    ...(values.preset === undefined ? {} : { preset: values.preset }),
    ...(values.config === undefined ? {} : { configFile: values.config }),
    overrides,
    planOnly: values.plan === true,
    help: values.help === true,
  };
}

/**
 * Resolve the configuration a command line asks for (reading the sweep file).
 *
 * @param request The parsed command line.
 * @returns The configuration.
 */
export async function configFromCli(request: CliRequest): Promise<SweepConfig> {
  let file: unknown;
  if (request.configFile !== undefined) {
    const text = await Deno.readTextFile(request.configFile);
    try {
      file = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`${request.configFile} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const config = resolveSweepConfig({
    ...(request.preset === undefined ? {} : { preset: request.preset }),
    ...(file === undefined ? {} : { file }),
    overrides: request.overrides,
  });
  if (request.adaptive && config.adaptive === undefined) {
    return resolveSweepConfig({
      ...(request.preset === undefined ? {} : { preset: request.preset }),
      ...(file === undefined ? {} : { file }),
      overrides: { ...request.overrides, adaptive: {} },
    });
  }
  return config;
}

/**
 * The registries and trainer a configuration needs, for a family in `models/` or described
 * inline in the sweep file (a family only the workers know needs {@linkcode loadStudyEnvironment}).
 *
 * @param config The configuration.
 * @param settings The CLI's configuration (backend, token, data directory). @default nothing set
 * @returns The study environment.
 * @throws {RangeError} For an unknown dataset or family.
 */
export function studyEnvironment(
  config: SweepConfig,
  settings: SweepCliConfig = DEFAULT_SWEEP_CLI_CONFIG,
): StudyEnvironment {
  const dataset = datasetInfo(config);
  const resolved = familyFromConfig(config, dataset);
  if (resolved === undefined) {
    throw new RangeError(
      `Unknown model family "${config.family}" (its table must come from the workers).`,
    );
  }
  return {
    family: resolved.family,
    ...(dataset === undefined ? {} : { dataset }),
    ...trainerSettings(settings),
  };
}

/** The in-process trainer and the token, as the CLI's configuration sets them. */
function trainerSettings(
  settings: SweepCliConfig,
): Pick<StudyEnvironment, "localTrainer" | "describeLocal" | "token"> {
  const { token, backend, dataDir } = settings;
  return {
    localTrainer: () => localTrainer({ backend, ...(dataDir === undefined ? {} : { dataDir }) }),
    describeLocal: () => describeLocalBackend({ backend }),
    ...(token === undefined ? {} : { token }),
  };
}

/**
 * The study environment, asking the workers for the family's table (`GET /v1/families/{name}`)
 * when neither `models/` nor the sweep file has it.
 *
 * @param config The configuration.
 * @param settings The CLI's configuration (backend, token, data directory). @default nothing set
 * @returns The environment, and notes on where the family came from.
 * @throws {RangeError} For an unknown dataset or family, or workers that disagree.
 */
export async function loadStudyEnvironment(
  config: SweepConfig,
  settings: SweepCliConfig = DEFAULT_SWEEP_CLI_CONFIG,
): Promise<StudyEnvironment & { notes: string[] }> {
  const dataset = datasetInfo(config);
  const token = settings.token;
  const resolved = await resolveSweepFamily(config, {
    ...(dataset === undefined ? {} : { dataset }),
    ...(token ? { token } : {}),
  });
  const notes = [...resolved.notes];
  if (!resolved.registry) notes.unshift(`family ${resolved.family.name} from ${resolved.source}`);
  return {
    family: resolved.family,
    ...(dataset === undefined ? {} : { dataset }),
    ...trainerSettings(settings),
    notes,
  };
}

/**
 * The dataset's metadata from flops-fit's registry. A family flops-fit does not build may train
 * on data only its trainer knows, so there an unknown dataset is no error.
 */
function datasetInfo(config: SweepConfig): DatasetInfo | undefined {
  try {
    return getDataset(config.dataset).info;
  } catch (error) {
    if (!(error instanceof UnknownDatasetError)) throw error;
    if (typeof config.family === "string" && getFamily(config.family) !== undefined) {
      throw new RangeError(`Unknown dataset "${config.dataset}".`);
    }
    return undefined;
  }
}

/**
 * What the queued sweep's command (`lib/queue/sweep_cli.ts`) borrows from this one: the usage,
 * the flag parser and the registries — lent by the entry (`lib/cli/sweep.ts`), so that neither
 * folder imports the other.
 *
 * @param settings The CLI's configuration.
 * @returns The usage text, the resolver and the environment of a configuration.
 */
export function sweepCliParts(settings: SweepCliConfig): {
  usage: string;
  resolve(args: string[]): Promise<{ config: SweepConfig; help: boolean; planOnly: boolean }>;
  environment(config: SweepConfig): StudyEnvironment;
} {
  return {
    usage: USAGE,
    resolve: async (rest) => {
      const request = parseCliArgs(rest);
      const config = await configFromCli(request);
      return { config, help: request.help, planOnly: request.planOnly };
    },
    environment: (config) => studyEnvironment(config, settings),
  };
}

/**
 * The plain sweep's command: parse, run, exit status (0 ok, 1 failed points or checks, 2 usage
 * error). Queue mode is the entry's to dispatch (`lib/cli/sweep.ts`).
 *
 * @param args Command-line arguments.
 * @param settings The CLI's configuration (backend, token, data directory). @default nothing set
 * @returns The exit status.
 */
export async function sweepMain(
  args: string[],
  settings: SweepCliConfig = DEFAULT_SWEEP_CLI_CONFIG,
): Promise<number> {
  let config: SweepConfig;
  let request: CliRequest;
  try {
    request = parseCliArgs(args);
    if (request.help) {
      console.log(USAGE);
      return 0;
    }
    config = await configFromCli(request);
  } catch (error) {
    console.error(`sweep: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = () => {
    console.error("\nsweep: interrupted; finishing the record of completed points…");
    controller.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const env = await loadStudyEnvironment(config, settings);
    for (const note of env.notes) console.log(`sweep: ${note}`);
    const outcome = await runSweep(config, env, {
      signal: controller.signal,
      planOnly: request.planOnly,
    });
    if (request.planOnly) return 0;
    if (controller.signal.aborted) return 130;
    return (outcome.run?.failed.length ?? 0) > 0 || outcome.fitError !== undefined ? 1 : 0;
  } catch (error) {
    console.error(`sweep: ${(error as Error).message}`);
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}
