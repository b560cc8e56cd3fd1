/**
 * The query-string form of `/v1/fit`'s options, for CSV bodies — derived from the body schema
 * (`FitRequestSchema`), not written out again: every body option but `points` is a query
 * parameter of the same name, and a new body option is one without more code.
 *
 * How a body field is written in the query:
 * - a number, a string or an enum: its text (`?bootstrap=100`, `?form=joint`);
 * - a boolean: `true` or `false`;
 * - an array of numbers: comma-separated (`?budgets=1e20,1e21`);
 * - an object: one parameter per field, `FIELD_SUB` (`?E_fixed=1.7`, `?E_min=1`);
 * - a boolean-or-object (`backtest`): `true`/`false`, or the object's fields by their own names
 *   (`?hold_out_above=3e19` is `{"backtest": {"hold_out_above": 3e19}}`).
 *
 * Values are only decoded here; the body schema validates them afterwards, so a bad value is
 * refused with the same message in the query as in the body. An unknown parameter is a 422
 * naming it.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { FitRequestSchema } from "../lib/fit/mod.ts";

/** How one query parameter becomes (part of) a body field. */
interface QueryParameter {
  /** The body field it sets. */
  field: string;
  /** The sub-field it sets, for an object-valued field. */
  sub?: string;
  /** Text → the value the body schema validates. */
  decode: (text: string) => unknown;
  /** For the OpenAPI document. */
  description: string;
}

/** A zod schema's definition, as far as this walk reads it. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema under `.optional()`, `.default()`, `.nullable()` and pipes. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (def.innerType !== undefined) s = def.innerType;
    else if (def.type === "pipe" && def.in !== undefined) s = def.in;
    else return s;
  }
}

/** Text as a number; empty text is NaN (refused by the schema), not 0. */
function number(text: string): number {
  return text.trim() === "" ? NaN : Number(text);
}

/** `true`/`false` as booleans; anything else stays text (and the schema says what it wants). */
function boolean(text: string): unknown {
  return text === "true" ? true : text === "false" ? false : text;
}

/** The decoder of a scalar field, by its zod type. */
function scalarDecoder(schema: z.ZodType): ((text: string) => unknown) | undefined {
  const def = defOf(unwrap(schema));
  switch (def.type) {
    case "number":
      return number;
    case "boolean":
      return boolean;
    case "string":
    case "enum":
    case "literal":
      return (text) => text;
    case "array":
      return defOf(unwrap(def.element!)).type === "number"
        ? (text) => text.split(",").map(number)
        : (text) => text.split(",");
    default:
      return undefined;
  }
}

/**
 * The query parameters of a body schema, by name.
 *
 * @param body The body schema (an object).
 * @param skip Body fields that have no query form (the points: they are the CSV).
 * @returns Parameter name → how it sets the body.
 * @throws {TypeError} When a body field's type has no query form (a schema change to mirror).
 */
export function queryParameters(
  body: z.ZodObject,
  skip: readonly string[] = ["points"],
): Map<string, QueryParameter> {
  const out = new Map<string, QueryParameter>();
  const add = (name: string, parameter: QueryParameter) => {
    if (out.has(name)) throw new TypeError(`Query parameter ${name} would mean two fields.`);
    out.set(name, parameter);
  };
  for (const [field, schema] of Object.entries(body.shape as Record<string, z.ZodType>)) {
    if (skip.includes(field)) continue;
    const description = `CSV bodies: the body's \`${field}\`.`;
    const def = defOf(unwrap(schema));
    const scalar = scalarDecoder(schema);
    if (scalar !== undefined) {
      add(field, { field, decode: scalar, description });
    } else if (def.type === "object") {
      for (const [sub, subSchema] of Object.entries(def.shape!)) {
        add(`${field}_${sub}`, {
          field,
          sub,
          decode: scalarDecoder(subSchema) ?? ((text) => text),
          description: `CSV bodies: the body's \`${field}.${sub}\`.`,
        });
      }
    } else if (def.type === "union") {
      for (const option of def.options!) {
        const optionDef = defOf(unwrap(option));
        if (optionDef.type === "object") {
          for (const [sub, subSchema] of Object.entries(optionDef.shape!)) {
            add(sub, {
              field,
              sub,
              decode: scalarDecoder(subSchema) ?? ((text) => text),
              description: `CSV bodies: the body's \`${field}\` as \`{"${sub}": …}\`.`,
            });
          }
        } else if (!out.has(field)) {
          add(field, { field, decode: scalarDecoder(option) ?? ((text) => text), description });
        }
      }
    } else {
      throw new TypeError(`Body field ${field} (${def.type}) has no query form.`);
    }
  }
  return out;
}

/** `/v1/fit`'s query parameters (other than `format`), from the body schema. */
export const FIT_QUERY_PARAMETERS: Map<string, QueryParameter> = queryParameters(
  FitRequestSchema,
);

/** Query of `POST /v1/fit`; the options after `format` apply to CSV bodies only. */
export const FitQuerySchema = z.object({
  format: z.enum(["json", "markdown"]).optional().openapi({
    description: "`markdown` answers the compute-optimal table as text/markdown.",
  }),
  ...Object.fromEntries(
    [...FIT_QUERY_PARAMETERS].map((
      [name, p],
    ) => [name, z.string().optional().openapi({ description: p.description })]),
  ),
});

/**
 * The first query parameter `/v1/fit` does not know, if any.
 *
 * @param names The query's parameter names.
 * @returns The unknown name, or undefined.
 */
export function unknownFitQueryParameter(names: Iterable<string>): string | undefined {
  for (const name of names) {
    if (name !== "format" && !FIT_QUERY_PARAMETERS.has(name)) return name;
  }
  return undefined;
}

/**
 * The body options a query states (decoded, not yet validated: the body schema does that).
 *
 * @param query Parameter → text, as the route's query validator passes it.
 * @returns The options, as a JSON body would carry them.
 *
 * @example
 * ```ts
 * import { fitOptionsFromQuery } from "./fit_query.ts";
 * const body = fitOptionsFromQuery({ bootstrap: "10", E_fixed: "1.7", hold_out_above: "1e19" });
 * if (body.bootstrap !== 10 || (body.E as { fixed: number }).fixed !== 1.7) {
 *   throw new Error("unexpected");
 * }
 * ```
 */
export function fitOptionsFromQuery(
  query: Record<string, string | undefined>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const objects: Record<string, Record<string, unknown>> = {};
  for (const [name, text] of Object.entries(query)) {
    const parameter = FIT_QUERY_PARAMETERS.get(name);
    if (parameter === undefined || text === undefined) continue;
    const value = parameter.decode(text);
    if (parameter.sub === undefined) body[parameter.field] = value;
    else (objects[parameter.field] ??= {})[parameter.sub] = value;
  }
  // An object's fields win over the same field's flag (`hold_out_above` over `backtest`).
  return { ...body, ...objects };
}
