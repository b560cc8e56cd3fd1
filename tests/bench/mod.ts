/**
 * `deno task bench`: every benchmark section, in order, printed as one markdown report.
 *
 * @module
 */
import { run as train } from "./train.ts";

const sections = [train];
for (const section of sections) console.log(await section());
