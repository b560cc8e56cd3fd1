/**
 * Open a WebGPU device for the compiled training step: the adapter, its limits, and a device
 * that asks for the adapter's own storage limits (the defaults are lower than most GPUs allow).
 *
 * Software adapters (Mesa's llvmpipe/lavapipe, SwiftShader) are refused unless the caller passes
 * `allowSoftware: true` — they run the kernels correctly but far slower than the CPU backends.
 *
 * @module
 */

/** Adapter descriptions that betray a software rasteriser even when not flagged as fallback. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/** The limits the kernels and the buffer planner read. */
export interface GpuLimits {
  /** Bytes of `var<workgroup>` memory one workgroup may use. */
  maxComputeWorkgroupStorageSize: number;
  /** Largest storage-buffer binding, in bytes. */
  maxStorageBufferBindingSize: number;
  /** Largest buffer, in bytes. */
  maxBufferSize: number;
  /** Alignment of a storage binding's offset, in bytes. */
  minStorageBufferOffsetAlignment: number;
  /** Storage buffers one shader stage may bind. */
  maxStorageBuffersPerShaderStage: number;
  /** Workgroups along one dispatch dimension. */
  maxComputeWorkgroupsPerDimension: number;
}

/** An open device and what it runs on. */
export interface GpuContext {
  /** The device. */
  device: GPUDevice;
  /** Adapter description, e.g. `NVIDIA H200` or `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  description: string;
  /** Vendor string. */
  vendor: string;
  /** True for a software adapter. */
  software: boolean;
  /** The limits the device was opened with (the adapter's). */
  limits: GpuLimits;
  /** Whether the device was opened with `timestamp-query` (per-kernel GPU times). */
  timestamps: boolean;
}

/** Options of {@linkcode openDevice}. */
export interface OpenDeviceOptions {
  /** Accept a software adapter (tests, CI). @default false */
  allowSoftware?: boolean;
  /** Ask for `timestamp-query` when the adapter has it (profiling). @default false */
  timestamps?: boolean;
}

/** No usable adapter: `reason` says why. */
export class NoGpuError extends Error {
  /**
   * A refusal to open a device.
   * @param message Why no device was opened.
   */
  constructor(message: string) {
    super(message);
    this.name = "NoGpuError";
  }
}

/**
 * Open a device on the high-performance adapter.
 *
 * @param options `allowSoftware` to accept llvmpipe and friends.
 * @returns The device, its adapter's description and limits.
 * @throws {NoGpuError} When WebGPU is absent, no adapter exists, or it is a software adapter that
 *   was not allowed.
 */
export async function openDevice(options: OpenDeviceOptions = {}): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (gpu === undefined) throw new NoGpuError("navigator.gpu is absent");
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (adapter === null) throw new NoGpuError("no WebGPU adapter");
  const info = adapter.info;
  const description = String(info.description || info.device || info.vendor);
  const software = Boolean(info.isFallbackAdapter) || SOFTWARE_ADAPTER.test(description);
  if (software && !options.allowSoftware) {
    throw new NoGpuError(`software adapter (${description}) not allowed`);
  }
  const l = adapter.limits;
  const limits: GpuLimits = {
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  };
  const timestamps = Boolean(options.timestamps) && adapter.features.has("timestamp-query");
  const device = await adapter.requestDevice({
    requiredFeatures: timestamps ? ["timestamp-query"] : [],
    requiredLimits: {
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
    },
  });
  return { device, description, vendor: String(info.vendor), software, limits, timestamps };
}

/** Longest wait for a destroyed device to report itself lost. */
const DEVICE_LOST_WAIT_MS = 5000;

/**
 * Destroy the device and wait (up to 5 s) until WebGPU reports it lost, so that its resources are
 * released before the caller goes on (or its worker is terminated).
 * @param ctx The device to close.
 */
export async function closeDevice(ctx: GpuContext): Promise<void> {
  ctx.device.destroy();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, DEVICE_LOST_WAIT_MS);
  });
  await Promise.race([ctx.device.lost.then(() => undefined), timeout]);
  clearTimeout(timer);
}

/**
 * A context over a device opened elsewhere (the tfjs-webgpu backend's, so that one process holds
 * one device): its own limits and features, the adapter facts the caller knows. The caller keeps
 * ownership: do not {@linkcode closeDevice} it.
 * @param device An open device.
 * @param adapter Description, vendor and whether it is a software adapter.
 */
export function useDevice(
  device: GPUDevice,
  adapter: { description: string; vendor?: string; software: boolean },
): GpuContext {
  const l = device.limits;
  return {
    device,
    description: adapter.description,
    vendor: adapter.vendor ?? "",
    software: adapter.software,
    limits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
    timestamps: device.features.has("timestamp-query"),
  };
}
