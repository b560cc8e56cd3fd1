/**
 * `deno task bench`: every benchmark section, in order, printed as one markdown report.
 *
 * @module
 */
import { run as fit } from "./fit.ts";
import { run as data } from "./data.ts";

const sections = [fit, data];
for (const section of sections) console.log(await section());
