/**
 * `deno task bench`: every benchmark section, in order, printed as markdown.
 *
 * @module
 */
import { run as fit } from "./fit.ts";

for (const section of [fit]) console.log(await section());
