/**
 * `deno task bench`: every benchmark section, printed as one markdown report.
 *
 * @module
 */

import { run as kernels } from "./kernels.ts";
import { run as train } from "./train.ts";
import { run as trainFast } from "./train_fast.ts";

const sections: (() => Promise<string>)[] = [kernels, trainFast, () => train()];
for (const section of sections) console.log(`${await section()}\n`);
