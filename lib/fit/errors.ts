/**
 * The one error the fitter throws for input it cannot fit.
 *
 * Library code has no HTTP in it: it throws {@linkcode FitInputError} with the
 * offending field and a sentence, and `routes/fit.ts` turns it into problem+json.
 *
 * @module
 */

/** Why a fit request was refused: the field at fault and what is wrong with it. */
export class FitInputError extends Error {
  /** Path of the offending field, e.g. `points[3].N`, `budgets`, or `(body)`. */
  readonly field: string;
  /** Suggested HTTP status: 413 for a limit on size, 422 otherwise. */
  readonly status: 413 | 422;
  /** The limit that was exceeded, when one was. */
  readonly limit?: number;

  /**
   * @param field Path of the offending field.
   * @param message What is wrong, in sentence case.
   * @param options Status (default 422) and the limit that was exceeded.
   */
  constructor(
    field: string,
    message: string,
    options: { status?: 413 | 422; limit?: number } = {},
  ) {
    super(message);
    this.name = "FitInputError";
    this.field = field;
    this.status = options.status ?? 422;
    if (options.limit !== undefined) this.limit = options.limit;
  }
}
