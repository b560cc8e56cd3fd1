/**
 * The IDX format of (Fashion-)MNIST: a big-endian header — magic `0x0000 08 NN` (type 0x08 =
 * unsigned byte, NN = number of dimensions; 0x803 for images, 0x801 for labels) then one 32-bit
 * size per dimension — followed by the uint8 data in row-major order.
 *
 * @module
 */

/** A parsed IDX array of unsigned bytes. */
export interface IdxArray {
  /** Sizes of each dimension, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** Row-major data (a view into the input). */
  data: Uint8Array;
}

/** IDX type code of unsigned bytes. */
const IDX_UBYTE = 0x08;

/**
 * Parse an uncompressed IDX file of unsigned bytes.
 *
 * @param bytes File contents.
 * @param expectedDims Number of dimensions required (3 for images, 1 for labels), if any.
 * @returns Dimensions and data.
 * @throws {SyntaxError} Wrong magic, wrong dimension count or a truncated/oversized body.
 *
 * @example
 * ```ts
 * import { parseIdx } from "./idx.ts";
 * const file = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]);
 * const { dims, data } = parseIdx(file, 1);
 * if (dims[0] !== 2 || data[1] !== 9) throw new Error("unexpected");
 * ```
 */
export function parseIdx(bytes: Uint8Array, expectedDims?: number): IdxArray {
  if (bytes.length < 4) throw new SyntaxError("IDX file is shorter than its 4-byte magic.");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >>> 8) & 0xff;
  const ndim = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== IDX_UBYTE || ndim === 0) {
    throw new SyntaxError(
      `Not an IDX ubyte file: magic 0x${magic.toString(16).padStart(8, "0")} ` +
        `(want 0x00000801 or 0x00000803).`,
    );
  }
  if (expectedDims !== undefined && ndim !== expectedDims) {
    throw new SyntaxError(`IDX file has ${ndim} dimensions, expected ${expectedDims}.`);
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new SyntaxError("IDX header is truncated.");
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - headerBytes !== count) {
    throw new SyntaxError(
      `IDX body holds ${bytes.length - headerBytes} bytes; its header says ${count} ` +
        `(dims ${dims.join("×")}).`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * Gunzip bytes (the `.gz` IDX files as published).
 *
 * @param bytes gzip data.
 * @returns The decompressed bytes.
 * @throws {SyntaxError} Not gzip or truncated.
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new SyntaxError(`Not valid gzip data: ${(error as Error).message}`);
  }
}
