// Child process of the concurrency test: prepare CIFAR-10 from a test URL into a shared data dir.
import { createCifar10 } from "../../data/cifar10.ts";

const [url, md5, dataDir] = Deno.args as [string, string, string];
await createCifar10({ url, checksums: { md5 } }).prepare({ dataDir });
console.log("ready");
