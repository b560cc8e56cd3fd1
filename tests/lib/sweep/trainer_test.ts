import assert from "node:assert/strict";
import { localTrainer } from "../../../lib/sweep/local.ts";
import { PermanentError, permanentIfInvalid } from "../../../lib/sweep/trainer.ts";

Deno.test("permanentIfInvalid() makes input errors permanent, through causes, and nothing else", () => {
  const wrapped = new Error("Training failed on blas: RangeError: The split holds 0 tokens.", {
    cause: new RangeError("The split holds 0 tokens, fewer than context + 1 = 17."),
  });
  const permanent = permanentIfInvalid(wrapped);
  assert.ok(permanent instanceof PermanentError);
  assert.equal(permanent.message, wrapped.message);
  const refused = Object.assign(new Error("no"), { name: "InvalidDataPathError" });
  assert.ok(permanentIfInvalid(refused) instanceof PermanentError);
  // Retryable: a cancellation, memory, a crash, anything unknown.
  const abort = new DOMException("stopped", "AbortError");
  assert.equal(permanentIfInvalid(abort), abort);
  const oom = new RangeError("Array buffer allocation failed");
  assert.equal(permanentIfInvalid(oom), oom);
  const crash = new Error("RuntimeError: Aborted()");
  assert.equal(permanentIfInvalid(crash), crash);
  const already = new PermanentError("bad", 422);
  assert.equal(permanentIfInvalid(already), already);
});

Deno.test("the in-process worker fails a text-file with no tokens (an empty file, a /proc file) permanently", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flops-fit-empty-" });
  try {
    await Deno.writeTextFile(`${dir}/empty.txt`, "");
    const worker = await localTrainer();
    const files = [`${dir}/empty.txt`, ...(Deno.build.os === "linux" ? ["/proc/self/comm"] : [])];
    for (const file of files) {
      const attempt = worker.train({
        family: "gpt",
        size: 16,
        dataset: `text-file:${file}`,
        budget: { flops: 1e9 },
        seed: 0,
        config: { context: 16, depth: 1, heads: 2 },
      }, { signal: new AbortController().signal });
      await assert.rejects(attempt, PermanentError, file);
      await attempt.catch((error) => assert.match(error.message, /0 tokens/));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
