/**
 * The runtime under the compiled step: buffers allocated once ({@linkcode Arena}), kernels as
 * plain data ({@linkcode KernelSpec}: WGSL source, bound regions, workgroup counts), and a
 * {@linkcode Program} that turns a list of specs into pipelines and bind groups once, then
 * records them into a compute pass as often as asked — nothing is created per step.
 *
 * @module
 */
import type { GpuLimits } from "./device.ts";
import type { Grid } from "./wgsl.ts";

/** A contiguous run of 4-byte elements inside one GPU buffer. */
export interface Region {
  /** The buffer. */
  buffer: GPUBuffer;
  /** Byte offset (a multiple of the device's storage offset alignment). */
  offset: number;
  /** Elements (f32, u32 or i32: 4 bytes each). */
  length: number;
  /** Name, for error messages and labels. */
  label: string;
}

/** Bytes of a region. */
export function regionBytes(r: Region): number {
  return r.length * 4;
}

/** A view of `length` elements of `r` starting at element `start` (start·4 must stay aligned). */
export function subRegion(r: Region, start: number, length: number, label = r.label): Region {
  if (start + length > r.length) throw new RangeError(`${label}: view past the end of ${r.label}`);
  return { buffer: r.buffer, offset: r.offset + start * 4, length, label };
}

/** Usage of every arena buffer: storage, and copies both ways (uploads, clears, readbacks). */
const ARENA_USAGE = 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08; /* COPY_DST */

/**
 * Allocates regions out of large buffers, each region aligned to the device's storage offset
 * alignment. A buffer holds at most `maxStorageBufferBindingSize` bytes (so any region of it can
 * be bound); when one fills, the next region starts a new buffer. Regions live until
 * {@linkcode Arena.destroy}.
 */
export class Arena {
  readonly #device: GPUDevice;
  readonly #alignBytes: number;
  readonly #chunkBytes: number;
  readonly #label: string;
  #buffers: GPUBuffer[] = [];
  #planned: { regions: { region: Region; at: number; set: (b: GPUBuffer) => void }[] }[] = [];
  #used = 0;
  #sealed = false;

  /**
   * An empty arena; regions are reserved with {@linkcode Arena.alloc}.
   * @param device The device.
   * @param options The device's limits and a label for the buffers.
   */
  constructor(device: GPUDevice, options: { limits: GpuLimits; label: string }) {
    this.#device = device;
    this.#alignBytes = Math.max(16, options.limits.minStorageBufferOffsetAlignment);
    const most = Math.min(options.limits.maxStorageBufferBindingSize, options.limits.maxBufferSize);
    this.#chunkBytes = most - (most % this.#alignBytes);
    this.#label = options.label;
  }

  /**
   * Reserve `length` elements. The region's buffer exists once {@linkcode Arena.seal} ran.
   * @param label Name of the tensor.
   * @param length Elements (4 bytes each).
   */
  alloc(label: string, length: number): Region {
    if (this.#sealed) throw new Error(`${this.#label}: alloc(${label}) after seal()`);
    const bytes = Math.max(4, length * 4);
    if (bytes > this.#chunkBytes) {
      throw new RangeError(
        `${label} needs ${bytes} bytes, more than one storage binding may hold (${this.#chunkBytes})`,
      );
    }
    const padded = Math.ceil(bytes / this.#alignBytes) * this.#alignBytes;
    let chunk = this.#planned.at(-1);
    if (chunk === undefined || this.#used + padded > this.#chunkBytes) {
      chunk = { regions: [] };
      this.#planned.push(chunk);
      this.#used = 0;
    }
    const region: Region = {
      buffer: undefined as unknown as GPUBuffer,
      offset: this.#used,
      length,
      label,
    };
    chunk.regions.push({ region, at: this.#used, set: (b) => (region.buffer = b) });
    this.#used += padded;
    return region;
  }

  /** Create the buffers behind every region reserved so far. */
  seal(): void {
    if (this.#sealed) return;
    this.#sealed = true;
    this.#planned.forEach((chunk, i) => {
      const last = chunk.regions.at(-1)!;
      const size = last.at + Math.ceil(Math.max(4, last.region.length * 4) / 16) * 16;
      const buffer = this.#device.createBuffer({
        label: `${this.#label}.${i}`,
        size,
        usage: ARENA_USAGE,
      });
      this.#buffers.push(buffer);
      for (const r of chunk.regions) r.set(buffer);
    });
  }

  /** The buffers behind the regions (after {@linkcode Arena.seal}). */
  get buffers(): readonly GPUBuffer[] {
    return this.#buffers;
  }

  /** Bytes reserved, over every buffer. */
  get bytes(): number {
    return this.#planned.reduce((sum, c) => {
      const last = c.regions.at(-1);
      return sum + (last === undefined ? 0 : last.at + last.region.length * 4);
    }, 0);
  }

  /** Free every buffer. */
  destroy(): void {
    for (const b of this.#buffers) b.destroy();
    this.#buffers = [];
  }
}

/** One kernel launch as data: what a kernel module returns. */
export interface KernelSpec {
  /** Name in traces and errors, e.g. `blocks.0.fc1 NN`. */
  label: string;
  /** WGSL source with one `@compute` entry point `main`. */
  code: string;
  /** Regions bound to `@binding(0…)` of group 0, in order. */
  bindings: Region[];
  /** Workgroups to dispatch. */
  grid: Grid;
}

/** A compiled launch. */
export interface Dispatch {
  /** Name of the launch. */
  label: string;
  /** Its pipeline. */
  pipeline: GPUComputePipeline;
  /** Its bindings. */
  bindGroup: GPUBindGroup;
  /** Workgroups dispatched. */
  grid: Grid;
}

/**
 * Compiles {@linkcode KernelSpec}s into pipelines (one per distinct source) and bind groups (one
 * per launch), once; {@linkcode Program.record} replays them into a compute pass.
 */
export class Program {
  readonly #device: GPUDevice;
  readonly #pipelines: Map<string, GPUComputePipeline>;
  readonly #dispatches: Dispatch[];

  /**
   * Compile the launches: pipelines (cached by source) and one bind group each.
   * @param device The device.
   * @param specs The launches, in order.
   * @param pipelines A cache shared between programs on the same device.
   */
  constructor(
    device: GPUDevice,
    specs: KernelSpec[],
    pipelines: Map<string, GPUComputePipeline> = new Map(),
  ) {
    this.#device = device;
    this.#pipelines = pipelines;
    this.#dispatches = specs.map((s) => this.#compile(s));
  }

  #compile(spec: KernelSpec): Dispatch {
    let pipeline = this.#pipelines.get(spec.code);
    if (pipeline === undefined) {
      const module = this.#device.createShaderModule({ label: spec.label, code: spec.code });
      pipeline = this.#device.createComputePipeline({
        label: spec.label,
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      this.#pipelines.set(spec.code, pipeline);
    }
    const bindGroup = this.#device.createBindGroup({
      label: spec.label,
      layout: pipeline.getBindGroupLayout(0),
      entries: spec.bindings.map((r, i) => {
        if (r.buffer === undefined) throw new Error(`${spec.label}: ${r.label} has no buffer yet`);
        return { binding: i, resource: { buffer: r.buffer, offset: r.offset, size: r.length * 4 } };
      }),
    });
    return { label: spec.label, pipeline, bindGroup, grid: spec.grid };
  }

  /** Launches per {@linkcode Program.record}. */
  get dispatches(): number {
    return this.#dispatches.length;
  }

  /** The compiled launches, in order (profiling). */
  launches(): readonly Dispatch[] {
    return this.#dispatches;
  }

  /** Labels of the launches, in order. */
  get labels(): string[] {
    return this.#dispatches.map((d) => d.label);
  }

  /**
   * Record every launch, in order, into `pass`.
   * @param pass An open compute pass.
   */
  record(pass: GPUComputePassEncoder): void {
    let current: GPUComputePipeline | undefined;
    for (const d of this.#dispatches) {
      if (d.pipeline !== current) pass.setPipeline(d.pipeline);
      current = d.pipeline;
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.grid.x, d.grid.y);
    }
  }
}

/**
 * GPU time of each launch of `programs`, run once, each launch in a compute pass of its own with
 * timestamps at its start and end (the device must have `timestamp-query`). Profiling only: the
 * passes serialise what one pass would overlap.
 * @param device A device opened with `timestamp-query`.
 * @param programs The programs, run in order.
 * @returns Label and GPU milliseconds of every launch, in order.
 */
export async function profilePrograms(
  device: GPUDevice,
  programs: Program[],
): Promise<{ label: string; ms: number }[]> {
  const launches = programs.flatMap((p) => p.launches());
  const count = launches.length * 2;
  const querySet = device.createQuerySet({ type: "timestamp", count });
  const resolve = device.createBuffer({ size: count * 8, usage: 0x200 | 0x04 }); // QUERY_RESOLVE | COPY_SRC
  const staging = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  launches.forEach((d, i) => {
    const pass = encoder.beginComputePass({
      timestampWrites: {
        querySet,
        beginningOfPassWriteIndex: 2 * i,
        endOfPassWriteIndex: 2 * i + 1,
      },
    });
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.grid.x, d.grid.y);
    pass.end();
  });
  encoder.resolveQuerySet(querySet, 0, count, resolve, 0);
  encoder.copyBufferToBuffer(resolve, 0, staging, 0, count * 8);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const ns = new BigInt64Array(staging.getMappedRange().slice(0));
  staging.unmap();
  for (const o of [staging, resolve]) o.destroy();
  querySet.destroy();
  return launches.map((d, i) => ({
    label: d.label,
    ms: Number(ns[2 * i + 1]! - ns[2 * i]!) / 1e6,
  }));
}

/**
 * Run `program` once in its own submission and wait for the queue (tests, one-offs).
 * @param device The device.
 * @param program What to run.
 */
export async function runOnce(device: GPUDevice, program: Program): Promise<void> {
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  program.record(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}

/**
 * Copy `region` back to the host (creates a staging buffer; tests and one-offs only).
 * @param device The device.
 * @param region What to read.
 * @returns Its contents as f32.
 */
export async function readRegion(device: GPUDevice, region: Region): Promise<Float32Array> {
  const bytes = region.length * 4;
  const staging = device.createBuffer({
    size: Math.ceil(bytes / 4) * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(region.buffer, region.offset, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

/**
 * Write `data` into `region` (through the queue: ordered before the next submission).
 * @param device The device.
 * @param region Destination.
 * @param data Exactly `region.length` 4-byte elements.
 */
export function writeRegion(
  device: GPUDevice,
  region: Region,
  data: Float32Array | Int32Array | Uint32Array,
): void {
  if (data.length !== region.length) {
    throw new RangeError(
      `${region.label}: ${data.length} elements for a region of ${region.length}`,
    );
  }
  device.queue.writeBuffer(region.buffer, region.offset, data as Float32Array<ArrayBuffer>);
}
