import assert from "node:assert/strict";
import { InvalidDataPathError } from "../../data/errors.ts";
import { packTarGz, readTarGzMembers } from "../../data/tar_gz.ts";

const stream = (bytes: Uint8Array) => new Blob([bytes as BlobPart]).stream();
const enc = new TextEncoder();

Deno.test("readTarGzMembers() returns exactly the named members of a packed archive", async () => {
  const big = new Uint8Array(70_001).map((_, i) => i % 251);
  const archive = await packTarGz({
    "dir/a.bin": enc.encode("hello"),
    "dir/big.bin": big,
    "dir/empty": new Uint8Array(0),
    "other.txt": enc.encode("skip me"),
  });
  const got = await readTarGzMembers(stream(archive), [
    "dir/big.bin",
    "dir/a.bin",
    "dir/empty",
    "missing",
  ]);
  assert.deepEqual([...got.keys()].sort(), ["dir/a.bin", "dir/big.bin", "dir/empty"]);
  assert.equal(new TextDecoder().decode(got.get("dir/a.bin")), "hello");
  assert.deepEqual(got.get("dir/big.bin"), big);
  assert.equal(got.get("dir/empty")!.length, 0);
  const stored = await packTarGz({ "dir/big.bin": big }, { compress: false });
  assert.ok(stored.length > big.length, "stored blocks do not compress");
  const again = await readTarGzMembers(stream(stored), ["dir/big.bin"]);
  assert.deepEqual(again.get("dir/big.bin"), big);
});

Deno.test("readTarGzMembers() refuses an archive with a path-traversal member", async () => {
  for (const evil of ["../etc/passwd", "/etc/passwd", "a/../../b"]) {
    const archive = await packTarGz({ "ok.txt": enc.encode("x"), [evil]: enc.encode("y") });
    await assert.rejects(readTarGzMembers(stream(archive), ["ok.txt"]), InvalidDataPathError, evil);
  }
});

Deno.test("readTarGzMembers() reports a truncated archive, a corrupt header and non-gzip as SyntaxError", async () => {
  const archive = await packTarGz({ "a.bin": new Uint8Array(50_000).fill(1) });
  // Truncate the *uncompressed* tar: recompress its first 10,000 bytes.
  const tar = new Uint8Array(
    await new Response(stream(archive).pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
  );
  const gz = async (bytes: Uint8Array) =>
    new Uint8Array(
      await new Response(stream(bytes).pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
    );
  await assert.rejects(
    readTarGzMembers(stream(await gz(tar.subarray(0, 10_000))), ["a.bin"]),
    SyntaxError,
  );
  const corrupt = tar.slice();
  corrupt[0] ^= 0xff; // name byte changes, header checksum no longer matches
  await assert.rejects(readTarGzMembers(stream(await gz(corrupt)), ["a.bin"]), /checksum/);
  await assert.rejects(
    readTarGzMembers(stream(enc.encode("not gzip at all")), ["a.bin"]),
    SyntaxError,
  );
  await assert.rejects(
    readTarGzMembers(stream(archive.subarray(0, archive.length / 2)), ["a.bin"]),
    SyntaxError,
  );
});
