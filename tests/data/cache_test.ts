import assert from "node:assert/strict";
import { isSafeRelativePath, resolveDataDir, writeAtomic } from "../../data/cache.ts";

Deno.test("resolveDataDir() prefers the override, then FLOPS_FIT_DATA_DIR, XDG_CACHE_HOME, HOME", () => {
  const env = { FLOPS_FIT_DATA_DIR: "/data", XDG_CACHE_HOME: "/xdg", HOME: "/home/u" };
  assert.equal(resolveDataDir("/explicit", env), "/explicit");
  assert.equal(resolveDataDir(undefined, env), "/data");
  assert.equal(resolveDataDir(undefined, { ...env, FLOPS_FIT_DATA_DIR: "" }), "/xdg/flops-fit");
  assert.equal(resolveDataDir(undefined, { HOME: "/home/u" }), "/home/u/.cache/flops-fit");
});

Deno.test("isSafeRelativePath() accepts plain relative paths and refuses every traversal form", () => {
  for (const ok of ["a", "a/b.txt", "cifar-10-batches-bin/test_batch.bin", "..a/b.."]) {
    assert.equal(isSafeRelativePath(ok), true, ok);
  }
  for (
    const bad of ["", "/a", "../a", "a/..", "a/../b", "./a", "a//b", "a\\b", "a\0b", "C:x", "a/"]
  ) {
    assert.equal(isSafeRelativePath(bad), false, JSON.stringify(bad));
  }
});

Deno.test("writeAtomic() replaces a file in one rename, leaving no temporary behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeAtomic(`${dir}/f`, "one");
    await writeAtomic(`${dir}/f`, new TextEncoder().encode("two"));
    assert.equal(await Deno.readTextFile(`${dir}/f`), "two");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["f"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
