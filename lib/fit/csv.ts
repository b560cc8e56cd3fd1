/**
 * CSV points: a header `N,D,loss[,C][,budget]` (any order, case-insensitive) and one
 * run per line. Blank lines and lines starting with `#` are skipped; CRLF and a UTF-8
 * BOM are accepted. Every error names its line (1-based) and column.
 *
 * @module
 */
import { FitInputError } from "./errors.ts";

/** Columns a CSV may have. */
const KNOWN = ["N", "D", "loss", "C", "budget"] as const;
/** Columns it must have. */
const REQUIRED = ["N", "D", "loss"] as const;

/** One CSV row as the JSON body would carry it (numbers not yet range-checked). */
export interface CsvPoint {
  /** Parameters. */
  N: number;
  /** Data. */
  D: number;
  /** Loss. */
  loss: number;
  /** FLOPs, when the column is present and the cell is not empty. */
  C?: number;
  /** Budget label, when the column is present and the cell is not empty. */
  budget?: string;
}

/** Parsed CSV: the points and the 1-based line of each. */
export interface CsvTable {
  /** Points in file order. */
  points: CsvPoint[];
  /** Line number of each point. */
  lines: number[];
}

/**
 * Parse CSV text into points.
 *
 * @param text The CSV.
 * @param maxPoints Most data rows accepted; past it a 413 error is thrown at once.
 * @returns The points, in file order, and the line each came from.
 * @throws {FitInputError} Missing header or column, wrong cell count, non-numeric or
 *   non-finite cell (field `csv line L column NAME`), or too many rows (status 413).
 *
 * @example
 * ```ts
 * import { parsePointsCsv } from "./csv.ts";
 * const { points, lines } = parsePointsCsv("N,D,loss\n1e6,2e7,3.5\n", 100);
 * if (points[0]!.D !== 2e7 || lines[0] !== 2) throw new Error("bad parse");
 * ```
 */
export function parsePointsCsv(text: string, maxPoints: number): CsvTable {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let lineNo = 0;
  let header: (typeof KNOWN)[number][] | null = null;
  const out: CsvPoint[] = [];
  const lineOf: number[] = [];
  for (const raw of lines) {
    lineNo++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    if (header === null) {
      header = cells.map((c) => {
        const known = KNOWN.find((k) => k.toLowerCase() === c.toLowerCase());
        if (known === undefined) {
          throw new FitInputError(
            `csv line ${lineNo}`,
            `line ${lineNo}: unknown column "${c}"; the header must be N,D,loss[,C][,budget]`,
          );
        }
        return known;
      });
      for (const r of REQUIRED) {
        if (!header.includes(r)) {
          throw new FitInputError(
            `csv line ${lineNo}`,
            `line ${lineNo}: the header lacks column "${r}"; expected N,D,loss[,C][,budget]`,
          );
        }
      }
      if (new Set(header).size !== header.length) {
        throw new FitInputError(`csv line ${lineNo}`, `line ${lineNo}: a column is repeated`);
      }
      continue;
    }
    if (cells.length !== header.length) {
      throw new FitInputError(
        `csv line ${lineNo}`,
        `line ${lineNo}: ${cells.length} cell(s), the header has ${header.length}`,
      );
    }
    if (out.length >= maxPoints) {
      throw new FitInputError(
        "points",
        `the CSV has more than ${maxPoints} points (the limit of one fit)`,
        { status: 413, limit: { name: "max_fit_points", value: maxPoints } },
      );
    }
    const point: Partial<CsvPoint> = {};
    header.forEach((col, j) => {
      const cell = cells[j]!;
      if (col === "budget") {
        if (cell !== "") point.budget = cell;
        return;
      }
      if (col === "C" && cell === "") return;
      const v = cell === "" ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new FitInputError(
          `csv line ${lineNo} column ${col}`,
          `line ${lineNo}, column ${col}: "${cell}" is not a finite number`,
        );
      }
      point[col] = v;
    });
    out.push(point as CsvPoint);
    lineOf.push(lineNo);
  }
  if (header === null) {
    throw new FitInputError("csv", "the CSV is empty: expected a header N,D,loss");
  }
  return { points: out, lines: lineOf };
}
