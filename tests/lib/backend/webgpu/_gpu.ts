/**
 * Shared by the WebGPU kernel tests: one device for the file (a hardware adapter, or the software
 * one when `FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE=1`), `gpuTest` that skips with the reason when there
 * is none, regions uploaded from host arrays or poisoned with NaN (so an element a kernel fails to
 * write fails the comparison), and tfjs-cpu for the reference values.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../../../../models/gradients.ts";
import {
  type GpuContext,
  type KernelSpec,
  openDevice,
  Program,
  readRegion,
  type Region,
  runOnce,
} from "../../../../lib/backend/webgpu/mod.ts";

tf.env().set("PROD", true); // no tfjs-node advert
await tf.setBackend("cpu");

/** Whether a software adapter may run the tests (the one place this variable is read). */
export const ALLOW_SOFTWARE = Deno.env.get("FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE") === "1";

let context: GpuContext | undefined;
let skipReason = "";
try {
  context = await openDevice({ allowSoftware: ALLOW_SOFTWARE });
} catch (error) {
  skipReason = `${error instanceof Error ? error.message : String(error)}${
    ALLOW_SOFTWARE ? "" : " (FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE=1 allows a software adapter)"
  }`;
}

/** The file's device (undefined when the tests skip). */
export const gpu: GpuContext | undefined = context;

/**
 * A test that needs a WebGPU device; ignored, with the reason printed, when there is none.
 * @param name Test name.
 * @param fn The test, given the device.
 */
export function gpuTest(name: string, fn: (ctx: GpuContext) => Promise<void> | void): void {
  if (context === undefined) {
    console.warn(`WebGPU test "${name}" skipped: ${skipReason}`);
  }
  Deno.test({
    name,
    ignore: context === undefined,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => fn(context!),
  });
}

const USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

/**
 * A region of its own buffer holding `data`.
 * @param ctx The device.
 * @param label Name.
 * @param data Contents.
 */
export function upload(
  ctx: GpuContext,
  label: string,
  data: Float32Array | Uint32Array,
): Region {
  const buffer = ctx.device.createBuffer({
    label,
    size: Math.max(16, data.byteLength),
    usage: USAGE,
  });
  ctx.device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
  return { buffer, offset: 0, length: data.length, label };
}

/**
 * A region of `length` floats filled with NaN (or `fill`).
 * @param ctx The device.
 * @param label Name.
 * @param length Elements.
 * @param fill Initial value. @default NaN
 */
export function output(ctx: GpuContext, label: string, length: number, fill = Number.NaN): Region {
  return upload(ctx, label, new Float32Array(length).fill(fill));
}

/**
 * Run launches once and wait.
 * @param ctx The device.
 * @param specs The launches.
 */
export async function run(ctx: GpuContext, specs: KernelSpec[]): Promise<void> {
  ctx.device.pushErrorScope("validation");
  const program = new Program(ctx.device, specs);
  await runOnce(ctx.device, program);
  const error = await ctx.device.popErrorScope();
  if (error !== null) throw new Error(`WebGPU validation: ${error.message}`);
}

/** Read a region back. */
export function read(ctx: GpuContext, r: Region): Promise<Float32Array> {
  return readRegion(ctx.device, r);
}

/** A seeded uniform(−scale, scale) array. */
export function random(length: number, seed: number, scale = 1): Float32Array<ArrayBuffer> {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  return out;
}

/**
 * Assert `actual` ≈ `expected` element-wise: |a − e| ≤ atol + rtol·|e|, and no NaN.
 * @param actual GPU values.
 * @param expected Reference values.
 * @param what Name in the message.
 * @param tol Tolerances (default atol 1e-5, rtol 1e-4).
 */
export function assertClose(
  actual: Float32Array,
  expected: Float32Array | number[],
  what: string,
  tol: { atol?: number; rtol?: number } = {},
): void {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-4;
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: ${a} vs ${e} (tfjs-cpu)`);
    }
  }
}

/** The values of a tfjs tensor as f32. */
export function values(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

export { tf };
