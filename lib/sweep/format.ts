/**
 * The report's one number format: three significant digits, and an exponent without a plus sign
 * (`1.49e5`, never `1.49e+5` or `149,000`) from 1000 up; FLOP budgets with one decimal (`3.0e11`);
 * losses with four decimals. The summary, the HTML page, the plan and the plots' axes all use it.
 *
 * @module
 */

/**
 * Three significant digits; exponent form (`7.87e3`) at and above 1000 and below 0.001.
 *
 * @param x A number.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { sig } from "./format.ts";
 * if (sig(7871) !== "7.87e3" || sig(957) !== "957" || sig(0.4671) !== "0.467") throw new Error();
 * ```
 */
export function sig(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const exp = x.toExponential(2);
  const power = Number(exp.slice(exp.indexOf("e") + 1));
  if (x !== 0 && (power >= 3 || power < -3)) return exp.replace("e+", "e");
  return x.toPrecision(3);
}

/**
 * A FLOP count in exponent form with one decimal: `3.0e11`.
 *
 * @param x FLOPs.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { sci } from "./format.ts";
 * if (sci(3e11) !== "3.0e11") throw new Error();
 * ```
 */
export function sci(x: number): string {
  return x.toExponential(1).replace("e+", "e");
}

/**
 * A loss in nats with four decimals: `2.3492`.
 *
 * @param x Loss.
 * @returns The text.
 */
export function loss4(x: number): string {
  return x.toFixed(4);
}

/**
 * A value and its interval, three significant digits each: `1.71e5 [1.29e5, 2.72e5]`.
 *
 * @param value The value.
 * @param ci Its interval, when there is one.
 * @returns The text.
 */
export function withInterval(
  value: number,
  ci: readonly [number, number] | null | undefined,
): string {
  return ci === null || ci === undefined
    ? sig(value)
    : `${sig(value)} [${sig(ci[0])}, ${sig(ci[1])}]`;
}

/**
 * A loss and its interval, four decimals each: `2.3389 [2.2470, 2.3602]`.
 *
 * @param value The loss.
 * @param ci Its interval, when there is one.
 * @returns The text.
 */
export function lossWithInterval(
  value: number,
  ci: readonly [number, number] | null | undefined,
): string {
  return ci === null || ci === undefined
    ? loss4(value)
    : `${loss4(value)} [${loss4(ci[0])}, ${loss4(ci[1])}]`;
}

/**
 * A ratio such as an extrapolation factor, rounded to what a reader compares: `10×`, `3.2×`,
 * `100×` (10.0009 reads `10×`).
 *
 * @param x The ratio.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { times } from "./format.ts";
 * if (times(10.0009) !== "10×" || times(3.24) !== "3.2×" || times(100.02) !== "100×") {
 *   throw new Error();
 * }
 * ```
 */
export function times(x: number): string {
  return `${Number(x.toPrecision(x >= 100 ? 3 : 2))}×`;
}

/**
 * Text from elsewhere (the fitter's warnings) in this format: exponents lose their plus sign
 * (`3.00e+12` → `3.00e12`).
 *
 * @param text The text.
 * @returns The text with every `e+` exponent rewritten.
 *
 * @example
 * ```ts
 * import { plainExponents } from "./format.ts";
 * if (plainExponents("C = 3.00e+12 (budget 3e+11)") !== "C = 3.00e12 (budget 3e11)") {
 *   throw new Error();
 * }
 * ```
 */
export function plainExponents(text: string): string {
  return text.replace(/(\d)e\+(\d)/g, "$1e$2");
}

/**
 * The Vega expression that writes an axis tick in the same format (`1e9`, `3e4`, `0.5`): for the
 * plots' `labelExpr`. Ticks Vega leaves unlabelled (a log axis thins its labels) stay blank.
 */
export const AXIS_LABEL_EXPR = "datum.label == '' ? '' : abs(datum.value) >= 1000 ? " +
  "replace(format(datum.value, '.1~e'), 'e+', 'e') : format(datum.value, '~g')";
