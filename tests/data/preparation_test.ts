import assert from "node:assert/strict";
import { PreparationTracker } from "../../data/preparation.ts";
import type { Dataset } from "../../data/types.ts";

function fake(prepare: Dataset["prepare"]): Dataset {
  return {
    info: { name: "fake", description: "", modality: "text", splits: {}, license: "" },
    isReady: () => Promise.resolve(false),
    prepare,
    batches: () => {
      throw new Error("unused");
    },
  };
}

Deno.test("PreparationTracker.prepare() joins a running preparation and reports progress until done", async () => {
  let release!: () => void;
  let calls = 0;
  const gate = new Promise<void>((r) => release = r);
  const data = fake(async (o) => {
    calls++;
    o?.onProgress?.("halfway");
    await gate;
  });
  const tracker = new PreparationTracker();
  assert.equal(await tracker.prepare(data, { waitMs: 10 }), false);
  assert.deepEqual(tracker.status("fake"), { running: true, progress: "halfway" });
  const joined = tracker.prepare(data, { waitMs: 5000 });
  release();
  assert.equal(await joined, true);
  assert.equal(calls, 1);
  assert.equal(tracker.status("fake"), undefined);
});

Deno.test("PreparationTracker.prepare() rethrows a failure and remembers it as last error", async () => {
  const tracker = new PreparationTracker();
  const data = fake(() => Promise.reject(new Error("offline")));
  await assert.rejects(tracker.prepare(data, { waitMs: 1000 }), /offline/);
  assert.deepEqual(tracker.status("fake"), { running: false, error: "offline" });
});
