/**
 * `deno task bench`: every benchmark section, in order, printed as one markdown report.
 *
 * @module
 */
import { run as fit } from "./fit.ts";
import { run as data } from "./data.ts";
import { run as train } from "./train.ts";

const sections = [fit, data, train];
for (const section of sections) console.log(await section());
