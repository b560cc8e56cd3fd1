/**
 * Errors that dataset code throws and callers may want to tell apart.
 *
 * Parse failures of a file are plain `SyntaxError`s and bad options `RangeError`s (the std
 * convention); the classes here are the library's errors ({@linkcode FlopsFitError}), each with
 * the status and field the HTTP layer answers with.
 *
 * @module
 */
import { FlopsFitError } from "../lib/errors.ts";

/** No dataset is registered under the name. */
export class UnknownDatasetError extends FlopsFitError {
  /** The name that was asked for. */
  readonly dataset: string;

  /**
   * @param dataset The unknown name.
   * @param known Registered names, listed in the message.
   */
  constructor(dataset: string, known: readonly string[]) {
    super(`No dataset named ${JSON.stringify(dataset)}; known: ${known.join(", ")}.`, {
      status: 404,
      field: "name",
    });
    this.name = "UnknownDatasetError";
    this.dataset = dataset;
  }
}

/** A dataset name or file path that is malformed or tries to leave its directory. */
export class InvalidDataPathError extends FlopsFitError {
  /**
   * @param message What is wrong with the name or path.
   */
  constructor(message: string) {
    super(message, { status: 400, field: "name" });
    this.name = "InvalidDataPathError";
  }
}

/** The split does not exist in the dataset. */
export class UnknownSplitError extends FlopsFitError {
  /**
   * @param dataset Dataset name.
   * @param split The split asked for.
   * @param known The dataset's splits.
   */
  constructor(dataset: string, split: string, known: readonly string[]) {
    super(
      `Dataset ${dataset} has no split ${JSON.stringify(split)}; splits: ${known.join(", ")}.`,
      { status: 422, field: "split" },
    );
    this.name = "UnknownSplitError";
  }
}

/** The dataset is not prepared locally yet (call `prepare()` or `POST …/prepare`). */
export class NotPreparedError extends FlopsFitError {
  /**
   * @param dataset Dataset name.
   */
  constructor(dataset: string) {
    super(
      `Dataset ${dataset} is not prepared: call prepare() or POST /v1/datasets/${dataset}/prepare.`,
      { status: 409, field: "name" },
    );
    this.name = "NotPreparedError";
  }
}

/**
 * A download failed (offline, HTTP error) or its checksum did not match: the message names the
 * URL, the expected checksum and where to put the file by hand.
 */
export class DataUnavailableError extends FlopsFitError {
  /** Where the file is downloaded from. */
  readonly url: string;
  /** Expected checksums, e.g. `{ sha256: "…" }`. */
  readonly expected: Record<string, string>;
  /** Where a file placed by hand is picked up (and verified). */
  readonly manualPath: string;

  /**
   * @param reason What went wrong, one sentence.
   * @param details URL, expected checksums and the by-hand path.
   */
  constructor(
    reason: string,
    details: { url: string; expected: Record<string, string>; manualPath: string },
  ) {
    const sums = Object.entries(details.expected).map(([k, v]) => `${k} ${v}`).join(", ");
    super(
      `${reason} Download ${details.url}` + (sums === "" ? "" : ` (expected ${sums})`) +
        ` by hand and put it at ${details.manualPath}; it is verified on next use.`,
      {
        status: 503,
        extra: {
          url: details.url,
          expected_checksum: details.expected,
          manual_path: details.manualPath,
        },
      },
    );
    this.name = "DataUnavailableError";
    this.url = details.url;
    this.expected = details.expected;
    this.manualPath = details.manualPath;
  }
}
