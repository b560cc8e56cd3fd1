/**
 * The one error the fitter throws for input it cannot fit.
 *
 * Library code has no HTTP in it: it throws {@linkcode FitInputError} with the offending field, a
 * sentence and, for a limit, its name and value (the error vocabulary of lib/errors.ts); the
 * routes turn it into problem+json.
 *
 * @module
 */
import { FlopsFitError, type LimitInfo } from "../errors.ts";

/** Why a fit request was refused: the field at fault and what is wrong with it. */
export class FitInputError extends FlopsFitError {
  /** Path of the offending field, e.g. `points[3].N`, `budgets`, or `(body)`. */
  declare readonly field: string;
  /** Suggested HTTP status: 413 for a limit on size, 422 otherwise. */
  declare readonly status: 413 | 422;

  /**
   * @param field Path of the offending field.
   * @param message What is wrong, in sentence case.
   * @param options Status (default 422) and the limit that was exceeded.
   */
  constructor(
    field: string,
    message: string,
    options: { status?: 413 | 422; limit?: LimitInfo } = {},
  ) {
    super(message, {
      field,
      status: options.status ?? 422,
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    this.name = "FitInputError";
  }
}
