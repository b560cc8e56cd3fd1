/**
 * `deno task bench`: every benchmark section, in order, printed as one markdown report.
 *
 * @module
 */
import { run as data } from "./data.ts";
import { run as kernels } from "./kernels.ts";
import { run as train } from "./train.ts";
import { run as trainFast } from "./train_fast.ts";

const sections: (() => Promise<string>)[] = [data, kernels, trainFast, () => train()];
for (const section of sections) console.log(`${await section()}\n`);
