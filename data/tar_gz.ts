/**
 * Read named members out of a `.tar.gz` stream, in memory, without extracting anything to disk.
 *
 * Supports ustar (name + prefix), GNU long names (`L`) and pax `path=` records — what `tar` and
 * Python's `tarfile` write. Every member name is checked for traversal (absolute, `..`), and an
 * archive holding one is rejected outright: nothing from it is trusted. Header checksums are
 * verified, so a corrupt or truncated archive is a `SyntaxError`, never garbage data.
 *
 * @module
 */
import { ByteReader } from "./byte_reader.ts";
import { isSafeRelativePath } from "./cache.ts";
import { InvalidDataPathError } from "./errors.ts";

/** Tar block size in bytes. */
const BLOCK = 512;

/** One header's fields that matter here. */
interface TarHeader {
  name: string;
  size: number;
  type: string;
}

function cString(bytes: Uint8Array, start: number, length: number): string {
  const field = bytes.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

/** Octal (or GNU base-256 when the top bit is set) numeric field. */
function numberField(bytes: Uint8Array, start: number, length: number): number {
  if (bytes[start]! & 0x80) {
    let value = bytes[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + bytes[i]!;
    return value;
  }
  const text = cString(bytes, start, length).trim();
  if (!/^[0-7]*$/.test(text)) {
    throw new SyntaxError(`Bad tar numeric field ${JSON.stringify(text)}.`);
  }
  return text === "" ? 0 : parseInt(text, 8);
}

function parseHeader(block: Uint8Array, offset: number): TarHeader | null {
  if (block.every((b) => b === 0)) return null;
  // Checksum: sum of all header bytes with the checksum field (148..156) read as spaces.
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  if (sum !== numberField(block, 148, 8)) {
    throw new SyntaxError(`Corrupt tar header at byte ${offset} (checksum mismatch).`);
  }
  let name = cString(block, 0, 100);
  if (cString(block, 257, 5) === "ustar") {
    const prefix = cString(block, 345, 155);
    if (prefix !== "") name = `${prefix}/${name}`;
  }
  return { name, size: numberField(block, 124, 12), type: String.fromCharCode(block[156]!) };
}

/** The `path` record of a pax extended header, if any. */
function paxPath(data: Uint8Array): string | undefined {
  const text = new TextDecoder().decode(data);
  for (const match of text.matchAll(/\d+ path=([^\n]*)\n/g)) return match[1];
  return undefined;
}

/** Strip `./` prefixes and a trailing slash, then check for traversal. */
function checkedName(raw: string): string {
  const name = raw.replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (name !== "" && !isSafeRelativePath(name)) {
    throw new InvalidDataPathError(
      `Archive member ${JSON.stringify(raw)} escapes the archive; refusing the whole archive.`,
    );
  }
  return name;
}

/**
 * Read the members named in `names` from a gzip-compressed tar stream.
 *
 * @param stream The `.tar.gz` bytes.
 * @param names Member paths wanted, e.g. `cifar-10-batches-bin/test_batch.bin`.
 * @returns The wanted members found, by name (a missing one is simply absent).
 * @throws {SyntaxError} Not gzip, corrupt header, or truncated archive.
 * @throws {InvalidDataPathError} Any member name is absolute or contains `..`.
 */
export async function readTarGzMembers(
  stream: ReadableStream<Uint8Array>,
  names: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const wanted = new Set(names);
  const found = new Map<string, Uint8Array>();
  const reader = new ByteReader(
    stream.pipeThrough<Uint8Array>(
      new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
    ),
  );
  const block = new Uint8Array(BLOCK);
  let longName: string | undefined;
  try {
    while (true) {
      const at = reader.offset;
      let got: Uint8Array | null;
      try {
        got = await reader.readExactly(BLOCK, block);
      } catch (error) {
        throw new SyntaxError(`Not a valid gzip stream: ${(error as Error).message}`);
      }
      if (got === null) {
        if (reader.partial === 0 && at > 0) break; // end without the zero blocks: tolerated
        throw new SyntaxError(`Truncated tar archive at byte ${at}.`);
      }
      const header = parseHeader(block, at);
      if (header === null) break;
      const padded = Math.ceil(header.size / BLOCK) * BLOCK;
      if (header.type === "L" || header.type === "x") {
        const data = await readOrThrow(reader, padded);
        const meta = data.subarray(0, header.size);
        longName = header.type === "L" ? cString(meta, 0, meta.length) : paxPath(meta);
        continue;
      }
      const name = checkedName(longName ?? header.name);
      longName = undefined;
      const isFile = header.type === "0" || header.type === "\0";
      if (isFile && wanted.has(name)) {
        const data = await readOrThrow(reader, padded);
        found.set(name, data.slice(0, header.size));
      } else if (!(await reader.skip(padded))) {
        throw new SyntaxError(`Truncated tar archive in member ${name}.`);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return found;
}

async function readOrThrow(reader: ByteReader, n: number): Promise<Uint8Array> {
  const data = await reader.readExactly(n).catch((error: Error) => {
    throw new SyntaxError(`Not a valid gzip stream: ${error.message}`);
  });
  if (data === null) throw new SyntaxError(`Truncated tar archive at byte ${reader.offset}.`);
  return data;
}

/**
 * Build a `.tar.gz` holding the given files (ustar headers, names under 100 bytes). Used by tests
 * and by anyone packing their own data the way CIFAR-10 ships.
 *
 * @param files Member path → bytes.
 * @param options `compress: false` writes deflate *stored* blocks — a valid gzip file, no smaller
 * than the tar, but built in milliseconds (tests pack tens of MB). @default { compress: true }
 * @returns The gzip'd archive.
 */
export async function packTarGz(
  files: Record<string, Uint8Array>,
  options: { compress?: boolean } = {},
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const [name, data] of Object.entries(files)) {
    const header = new Uint8Array(BLOCK);
    const nameBytes = enc.encode(name);
    if (nameBytes.length > 100) throw new RangeError(`Member name too long: ${name}`);
    header.set(nameBytes, 0);
    header.set(enc.encode("0000644\0"), 100);
    header.set(enc.encode("0000000\0"), 108);
    header.set(enc.encode("0000000\0"), 116);
    header.set(enc.encode(data.length.toString(8).padStart(11, "0") + "\0"), 124);
    header.set(enc.encode("00000000000\0"), 136);
    header[156] = "0".charCodeAt(0);
    header.set(enc.encode("ustar\0"), 257);
    header.set(enc.encode("00"), 263);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    header.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    parts.push(header, data, new Uint8Array((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const tar = new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer());
  if (options.compress === false) return gzipStored(tar);
  const body = new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Largest deflate stored block (its LEN field is 16 bits). */
const STORED_MAX = 65_535;

/**
 * gzip (RFC 1952) with deflate stored blocks (RFC 1951 §3.2.4): header, blocks of
 * `[BFINAL, LEN, ~LEN, bytes]`, then CRC-32 and length, both little-endian.
 */
function gzipStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_MAX));
  const out = new Uint8Array(10 + data.length + 5 * blocks + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  const view = new DataView(out.buffer);
  let o = 10;
  for (let b = 0; b < blocks; b++) {
    const chunk = data.subarray(b * STORED_MAX, (b + 1) * STORED_MAX);
    out[o] = b === blocks - 1 ? 1 : 0;
    view.setUint16(o + 1, chunk.length, true);
    view.setUint16(o + 3, ~chunk.length & 0xffff, true);
    out.set(chunk, o + 5);
    o += 5 + chunk.length;
  }
  view.setUint32(o, crc32(data), true);
  view.setUint32(o + 4, data.length >>> 0, true);
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as gzip's trailer needs. */
function crc32(data: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
