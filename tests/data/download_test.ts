import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ensureDownloaded } from "../../data/download.ts";
import { DataUnavailableError } from "../../data/errors.ts";
import { serveFiles } from "./_server.ts";

function payload(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24;
  return out;
}
const BYTES = payload(300_000);
const SHA256 = createHash("sha256").update(BYTES).digest("hex");
const MD5 = createHash("md5").update(BYTES).digest("hex");

Deno.test("ensureDownloaded() fetches, verifies sha256 and md5, caches, and skips the next time", async () => {
  const server = serveFiles({ "/f.bin": BYTES });
  const dir = await Deno.makeTempDir();
  try {
    const dest = `${dir}/sub/f.bin`;
    const progress: string[] = [];
    const got = await ensureDownloaded({
      url: `${server.base}/f.bin`,
      dest,
      expected: { sha256: SHA256, md5: MD5 },
      size: BYTES.length,
      onProgress: (m) => progress.push(m),
    });
    assert.deepEqual(got, { sha256: SHA256, md5: MD5 });
    assert.deepEqual(await Deno.readFile(dest), BYTES);
    assert.match(progress.at(-1)!, /f\.bin: 0\.3 \/ 0\.3 MB \(100%\)/);
    await ensureDownloaded({ url: `${server.base}/f.bin`, dest, expected: { sha256: SHA256 } });
    assert.equal(server.seen.length, 1, "second call must use the cache");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDownloaded() rejects a checksum mismatch naming URL, expected sum and the by-hand path", async () => {
  const server = serveFiles({ "/f.bin": BYTES });
  const dir = await Deno.makeTempDir();
  try {
    const dest = `${dir}/f.bin`;
    const wrong = "0".repeat(64);
    const error = await ensureDownloaded({
      url: `${server.base}/f.bin`,
      dest,
      expected: { sha256: wrong },
    }).catch((e) => e);
    assert.ok(error instanceof DataUnavailableError);
    assert.match(error.message, new RegExp(`${server.base}/f\\.bin`));
    assert.match(error.message, new RegExp(`sha256 ${wrong}`));
    assert.match(error.message, new RegExp(`put it at ${dest}`));
    await assert.rejects(Deno.stat(dest), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${dest}.part`), Deno.errors.NotFound);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDownloaded() offline gives an error naming the URL and where to put the file", async () => {
  const dir = await Deno.makeTempDir();
  // A port that was just free: nothing listens there.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  try {
    const error = await ensureDownloaded({
      url: `http://127.0.0.1:${port}/x.tar.gz`,
      dest: `${dir}/x.tar.gz`,
      expected: { md5: MD5 },
    }).catch((e) => e);
    assert.ok(error instanceof DataUnavailableError);
    assert.match(error.message, /Cannot reach http:\/\/127\.0\.0\.1:\d+\/x\.tar\.gz/);
    assert.match(error.message, new RegExp(`md5 ${MD5}`));
    assert.equal(error.manualPath, `${dir}/x.tar.gz`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDownloaded() resumes an interrupted download with a Range request", async () => {
  const server = serveFiles({ "/f.bin": BYTES }, { cuts: [100_000] });
  const dir = await Deno.makeTempDir();
  try {
    const dest = `${dir}/f.bin`;
    const options = { url: `${server.base}/f.bin`, dest, expected: { sha256: SHA256 } };
    const first = await ensureDownloaded(options).catch((e) => e);
    assert.ok(first instanceof DataUnavailableError, String(first));
    assert.match(first.message, /stopped after \d+ bytes/);
    const partSize = (await Deno.stat(`${dest}.part`)).size;
    assert.ok(partSize > 0 && partSize < BYTES.length, `part holds ${partSize}`);
    await ensureDownloaded(options);
    assert.equal(server.seen[1]!.range, `bytes=${partSize}-`);
    assert.deepEqual(await Deno.readFile(dest), BYTES);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDownloaded() restarts cleanly when the server ignores Range", async () => {
  const server = serveFiles({ "/f.bin": BYTES }, { ranges: false });
  const dir = await Deno.makeTempDir();
  try {
    const dest = `${dir}/f.bin`;
    await Deno.writeFile(`${dest}.part`, new Uint8Array(5000).fill(7)); // stale junk
    await ensureDownloaded({ url: `${server.base}/f.bin`, dest, expected: { sha256: SHA256 } });
    assert.equal(server.seen[0]!.range, "bytes=5000-");
    assert.deepEqual(await Deno.readFile(dest), BYTES);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDownloaded() verifies a file put in place by hand, and refuses a wrong one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dest = `${dir}/f.bin`;
    await Deno.writeFile(dest, BYTES);
    const url = "http://127.0.0.1:9/never-fetched";
    assert.deepEqual(await ensureDownloaded({ url, dest, expected: { md5: MD5 } }), { md5: MD5 });
    await Deno.writeFile(`${dir}/g.bin`, BYTES.subarray(1));
    await assert.rejects(
      ensureDownloaded({ url, dest: `${dir}/g.bin`, expected: { md5: MD5 } }),
      (e: Error) => e instanceof DataUnavailableError && /does not match/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
