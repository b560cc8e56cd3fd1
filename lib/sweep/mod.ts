/**
 * Sweeps: plan a study, train its points on trainers (in-process, HTTP servers or the mock),
 * record results, fit and report — `deno task sweep` (`cli.ts`, started by `lib/cli/sweep.ts`).
 * The door other folders use (the queue's coordinator and workers, the docs generator).
 *
 * @module
 */
export {
  type AdaptiveConfig,
  AdaptiveSchema,
  DEFAULT_PRESET,
  type MockLaw,
  MockLawSchema,
  outputDir,
  PRESETS,
  PriorSchema,
  resolveSweepConfig,
  type SweepConfig,
  SweepConfigSchema,
  type SweepFile,
} from "./config.ts";
export {
  type CliRequest,
  configFromCli,
  loadStudyEnvironment,
  parseCliArgs,
  studyEnvironment,
  sweepCliParts,
  sweepMain,
  USAGE,
} from "./cli.ts";
export { DEFAULT_SWEEP_CLI_CONFIG, loadSweepCliConfig, type SweepCliConfig } from "./cli_config.ts";
export {
  isPermanentStatus,
  PermanentError,
  type PointProgress,
  statusError,
  type TrainCallOptions,
  type Trainer,
  type TrainFn,
} from "./trainer.ts";
export {
  type FamilyAnswer,
  fetchFamilyTable,
  httpTrainer,
  parseTrainerList,
} from "./http_trainer.ts";
export { localTrainer, type LocalTrainerOptions } from "./local.ts";
export { lawLoss, mockTrainer } from "./mock.ts";
export {
  type RecordOptions,
  type RunEvent,
  type RunOptions,
  runPoints,
  type RunSummary,
  toRecord,
} from "./runner.ts";
export {
  openResultsLog,
  type ParsedResults,
  parseResults,
  type ResultRecord,
  type ResultsLog,
} from "./results.ts";
export {
  compact,
  createProgress,
  describe,
  formatDuration,
  type Progress,
  type ProgressOptions,
} from "./progress.ts";
export {
  describePlan,
  planStudy,
  reportStudy,
  type ReportStudyOptions,
  runSweep,
  type RunSweepOptions,
  type StudyEnvironment,
  studyRecords,
  type SweepOutcome,
} from "./sweep.ts";
export { familyFromConfig, type ResolvedFamily, resolveSweepFamily } from "./family_source.ts";
