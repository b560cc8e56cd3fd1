/**
 * How `GET /v1/datasets/{name}/batches` encodes a batch: JSON (the `Batch` schema) or raw
 * typed-array bytes.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { type Batch, detokenize } from "../data/mod.ts";

/** The JSON form of a batch. */
export const BatchSchema = z.object({
  dataset: z.string(),
  split: z.string(),
  seed: z.number().int(),
  offset: z.number().int(),
  count: z.number().int(),
  kind: z.enum(["image", "text"]),
  shape: z.array(z.number().int()),
  images: z.array(z.number()).optional().openapi({ description: "Row-major NHWC, normalised." }),
  labels: z.array(z.number().int()).optional(),
  inputs: z.array(z.array(z.number().int())).optional(),
  targets: z.array(z.array(z.number().int())).optional(),
  texts: z.array(z.string()).optional().openapi({ description: "Inputs decoded (byte tokens)." }),
}).openapi("Batch");

function rows(flat: Int32Array, width: number): number[][] {
  return Array.from(
    { length: flat.length / width },
    (_, r) => Array.from(flat.subarray(r * width, (r + 1) * width)),
  );
}

/**
 * A batch as JSON: image pixels and labels, or text inputs and targets as rows of token ids plus
 * their decoded text.
 *
 * @param batch The examples.
 * @returns The body's data members (the route adds dataset, split, seed, offset and count).
 */
export function jsonBody(batch: Batch) {
  if (batch.kind === "image") {
    return {
      kind: "image" as const,
      shape: [...batch.shape],
      images: Array.from(batch.images),
      labels: Array.from(batch.labels),
    };
  }
  const width = batch.shape[1];
  const inputs = rows(batch.inputs, width);
  return {
    kind: "text" as const,
    shape: [...batch.shape],
    inputs,
    targets: rows(batch.targets, width),
    texts: inputs.map((r) => detokenize(r)),
  };
}

/**
 * A batch as `application/octet-stream`: the arrays' bytes back to back (little-endian), named
 * with their dtype and shape in `x-batch-arrays`, e.g. `images=float32[2,32,32,3]; labels=int32[2]`.
 *
 * @param batch The examples.
 * @param head Where they come from (sent as `x-batch-*` headers).
 * @returns The response.
 */
export function binaryResponse(
  batch: Batch,
  head: { dataset: string; split: string; seed: number; offset: number; count: number },
): Response {
  const arrays: [string, Float32Array | Int32Array, number[]][] = batch.kind === "image"
    ? [["images", batch.images, [...batch.shape]], ["labels", batch.labels, [batch.shape[0]]]]
    : [["inputs", batch.inputs, [...batch.shape]], ["targets", batch.targets, [...batch.shape]]];
  const body = new Uint8Array(arrays.reduce((a, [, x]) => a + x.byteLength, 0));
  let o = 0;
  for (const [, x] of arrays) {
    // Typed arrays are platform-endian; every platform Deno ships on is little-endian.
    body.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), o);
    o += x.byteLength;
  }
  const describe = arrays.map(([name, x, shape]) =>
    `${name}=${x instanceof Float32Array ? "float32" : "int32"}[${shape.join(",")}]`
  ).join("; ");
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "application/octet-stream",
      "x-batch-arrays": describe,
      "x-batch-kind": batch.kind,
      "x-batch-dataset": head.dataset,
      "x-batch-split": head.split,
      "x-batch-offset": String(head.offset),
      "x-batch-count": String(head.count),
      "x-batch-seed": String(head.seed),
    },
  });
}
