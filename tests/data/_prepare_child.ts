// Child process of the concurrency test: download one file into a shared destination.
import { ensureDownloaded } from "../../data/download.ts";

const [url, dest, sha256] = Deno.args as [string, string, string];
const got = await ensureDownloaded({ url, dest, expected: { sha256 } });
console.log(JSON.stringify(got));
