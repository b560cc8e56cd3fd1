/**
 * Which tfjs backend trains: WebGPU on a hardware adapter, otherwise the fastest CPU path.
 *
 * Candidates form a registry ({@linkcode BACKEND_CANDIDATES}) in order of preference: WebGPU,
 * the OpenBLAS-backed CPU path (`lib/backend/blas/`), wasm, plain JavaScript. Selection walks it
 * and takes the first candidate whose `probe` says it is usable here and whose `register`
 * succeeds; the configured {@linkcode BackendChoice} (`FLOPS_FIT_BACKEND`, parsed once by the
 * program's configuration and passed down) or the `override` option names one directly. Adding a
 * backend is one more entry in the array and one more name in `BACKEND_NAMES` (lib/config/).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { AUTO_BACKEND, type BackendChoice } from "../config/mod.ts";
import { BACKEND_RETRY_AFTER_S, FlopsFitError } from "../errors.ts";
import { blasBackendInfo, findOpenBlas, loadOpenBlas, registerBlasBackend } from "./blas/mod.ts";

// Production mode: no console warnings (tfjs-cpu greets every Node-like host with an advert for
// tfjs-node) and no debug-only checks.
tf.env().set("PROD", true);

/** Environment variable naming the backend to use, overriding the automatic choice. */
export const BACKEND_ENV_VAR = "FLOPS_FIT_BACKEND";

/** GPU adapter facts reported by `/healthz` and the train response. */
export interface AdapterInfo {
  /** Vendor string, e.g. `nvidia`, `mesa`. */
  vendor: string;
  /** Architecture, when reported. */
  architecture: string;
  /** Device name, when reported. */
  device: string;
  /** Driver description, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`. */
  description: string;
  /** True for a software (fallback) adapter such as llvmpipe or SwiftShader. */
  fallback: boolean;
}

/** What a probe found. */
export interface ProbeResult {
  /** Whether the candidate can be used on this host. */
  usable: boolean;
  /** Why not, when unusable (or a note when usable). */
  reason?: string;
  /** The GPU adapter, for GPU candidates. */
  adapter?: AdapterInfo;
}

/** What a probe is told about the configured choice. */
export interface ProbeContext {
  /** Whether a software WebGPU adapter (llvmpipe) counts as usable (tests only). */
  allowSoftwareAdapter: boolean;
}

/** One backend the selector may choose. */
export interface BackendCandidate {
  /** tfjs backend name, e.g. `wasm`. */
  name: string;
  /** Whether it runs on a GPU or the CPU. */
  kind: "gpu" | "cpu";
  /** One line for `/healthz`. */
  description: string;
  /**
   * Bytes of activations a training step may hold on this backend (the wasm heap stops at
   * 2 GiB): the trainer micro-batches to stay under it.
   */
  activationBudgetBytes: number;
  /** Whether it is usable here, without initialising tfjs. */
  probe(context?: ProbeContext): Promise<ProbeResult>;
  /**
   * Whether it is likely usable here, loading nothing (no library, no build, no tfjs): what the
   * request thread asks ({@linkcode probeBackend}). Defaults to `probe`.
   */
  detect?(context?: ProbeContext): Promise<ProbeResult>;
  /** Make the backend known to tfjs (register its factory); false when that fails. */
  register(): Promise<boolean>;
}

/** The backend that was selected and initialised. */
export interface BackendInfo {
  /** tfjs backend name now active. */
  name: string;
  /** GPU or CPU. */
  kind: "gpu" | "cpu";
  /** One-line description. */
  description: string;
  /** How it was chosen: `env`, `option` or `auto`. */
  chosenBy: "env" | "option" | "auto";
  /** The GPU adapter, for GPU backends, or the software adapter that was passed over. */
  adapter?: AdapterInfo;
  /** Each candidate considered and why it was (not) chosen. */
  candidates: { name: string; usable: boolean; reason?: string }[];
  /** Activation budget of the backend, in bytes. */
  activationBudgetBytes: number;
}

/**
 * wasm's heap stops at 2 GiB (2.15e9 bytes); keep ~350 MB for weights, optimiser state, the
 * allocator's slack. Steps peaking at 1.68e9 (ViT 64/4/4, batch 128) and 1.76e9 (GPT 128/4/4,
 * batch 32) bytes of tensors run there; ViT 128/6/8 at batch 128 (≈ 5e9) crashes the module.
 */
const WASM_ACTIVATION_BUDGET_BYTES = 1.8e9;

/** JS typed arrays are not bounded by the wasm heap; stay well under this host's RAM. */
const CPU_ACTIVATION_BUDGET_BYTES = 8e9;

/** A GPU's memory is not known through WebGPU; assume a modest card. */
const GPU_ACTIVATION_BUDGET_BYTES = 4e9;

/** Adapter descriptions that betray a software rasteriser even when not flagged as fallback. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

/** Device nodes through which a Linux process reaches a GPU (DRM, NVIDIA, AMD KFD, WSL2). */
const GPU_DEVICE_NODES = ["/dev/dri", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"];

/**
 * Whether this Linux host exposes any GPU device node; `undefined` elsewhere or when /dev cannot
 * be read (then WebGPU is asked directly).
 */
export function hasGpuDeviceNode(): boolean | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return GPU_DEVICE_NODES.some((path) => {
      try {
        Deno.statSync(path);
        return true;
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return false;
        throw error;
      }
    });
  } catch {
    return undefined;
  }
}

/**
 * Ask WebGPU for an adapter, without tfjs. On a Linux host without GPU device nodes it is not
 * asked at all unless software adapters are allowed: the only adapter there is a software one
 * (llvmpipe), passed over anyway, and starting it leaves rasteriser threads whose teardown can
 * abort the process at exit ("corrupted size vs. prev_size", about 1 exit in 20 here).
 */
async function probeWebGpu(
  context: ProbeContext = { allowSoftwareAdapter: false },
): Promise<ProbeResult> {
  // deno-lint-ignore no-explicit-any
  const gpu = (globalThis.navigator as any)?.gpu;
  if (gpu === undefined) return { usable: false, reason: "navigator.gpu is absent" };
  if (!context.allowSoftwareAdapter && hasGpuDeviceNode() === false) {
    return {
      usable: false,
      reason: `no GPU device on this host (none of ${GPU_DEVICE_NODES.join(", ")})`,
    };
  }
  let adapter;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return { usable: false, reason: `requestAdapter failed: ${String(error)}` };
  }
  if (adapter === null || adapter === undefined) {
    return { usable: false, reason: "no WebGPU adapter" };
  }
  const info = adapter.info ?? {};
  const description = String(info.description ?? "");
  const found: AdapterInfo = {
    vendor: String(info.vendor ?? ""),
    architecture: String(info.architecture ?? ""),
    device: String(info.device ?? ""),
    description,
    fallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false) ||
      SOFTWARE_ADAPTER.test(description) || SOFTWARE_ADAPTER.test(String(info.device ?? "")),
  };
  if (found.fallback && context.allowSoftwareAdapter) {
    return { usable: true, reason: "software adapter, allowed", adapter: found };
  }
  return found.fallback
    ? { usable: false, reason: `software adapter (${description || found.vendor})`, adapter: found }
    : { usable: true, adapter: found };
}

/** Directory holding tfjs-backend-wasm's .wasm files (Deno's `nodeModulesDir: auto`). */
function wasmDirectory(): string {
  const root = new URL("../../", import.meta.url);
  return new URL("node_modules/@tensorflow/tfjs-backend-wasm/dist/", root).pathname;
}

/**
 * The candidates, in order of preference. A faster CPU backend goes before `wasm`.
 */
export const BACKEND_CANDIDATES: BackendCandidate[] = [
  {
    name: "webgpu",
    kind: "gpu",
    description: "WebGPU (tfjs-backend-webgpu) on a hardware adapter",
    activationBudgetBytes: GPU_ACTIVATION_BUDGET_BYTES,
    probe: probeWebGpu,
    async register() {
      await import("@tensorflow/tfjs-backend-webgpu");
      return tf.findBackendFactory("webgpu") !== undefined;
    },
  },
  {
    name: "blas",
    kind: "cpu",
    description:
      "tfjs-cpu tensors with OpenBLAS matmuls (FFI) and fused native kernels (lib/backend/blas/)",
    activationBudgetBytes: CPU_ACTIVATION_BUDGET_BYTES,
    probe() {
      const load = loadOpenBlas();
      if (!load.ok) return Promise.resolve({ usable: false, reason: load.reason });
      const info = blasBackendInfo();
      if (!info.registered) return Promise.resolve({ usable: false, reason: info.reason });
      return Promise.resolve({
        usable: true,
        reason: `${info.library}, ${info.threads} threads; element-wise: ${info.native}`,
      });
    },
    detect() {
      // Only whether the library is there: loading OpenBLAS and building the native kernels is
      // the training worker's job (lib/backend/blas/native.ts builds them at install time).
      const found = findOpenBlas();
      return Promise.resolve(
        found.ok ? { usable: true, reason: found.path } : { usable: false, reason: found.reason },
      );
    },
    register: () => Promise.resolve(registerBlasBackend()),
  },
  {
    name: "wasm",
    kind: "cpu",
    description: "WebAssembly with XNNPACK (tfjs-backend-wasm), single thread",
    activationBudgetBytes: WASM_ACTIVATION_BUDGET_BYTES,
    async probe() {
      try {
        await Deno.stat(`${wasmDirectory()}tfjs-backend-wasm.wasm`);
        return { usable: true };
      } catch {
        return { usable: false, reason: `tfjs-backend-wasm.wasm not found in ${wasmDirectory()}` };
      }
    },
    register() {
      setWasmPaths(wasmDirectory());
      return Promise.resolve(tf.findBackendFactory("wasm") !== undefined);
    },
  },
  {
    name: "cpu",
    kind: "cpu",
    description: "plain JavaScript (tfjs-backend-cpu)",
    activationBudgetBytes: CPU_ACTIVATION_BUDGET_BYTES,
    probe: () => Promise.resolve({ usable: true }),
    register: () => Promise.resolve(tf.findBackendFactory("cpu") !== undefined),
  },
];

/** Options of {@linkcode selectBackend} and {@linkcode probeBackend}. */
export interface SelectOptions {
  /**
   * The configured choice (`FLOPS_FIT_BACKEND`, `FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE`, parsed once by
   * the program's configuration). @default automatic, software adapters refused
   */
  choice?: BackendChoice;
  /** Backend name to use, overriding the choice (tests, benchmarks). */
  override?: string;
  /** Candidates to choose among; defaults to {@linkcode BACKEND_CANDIDATES}. */
  candidates?: BackendCandidate[];
}

/** A backend name that is not a candidate, or a named backend that cannot start (503). */
export class BackendError extends FlopsFitError {
  /**
   * @param message What went wrong, in sentence case.
   */
  constructor(message: string) {
    super(message, { status: 503, retryAfterS: BACKEND_RETRY_AFTER_S });
    this.name = "BackendError";
  }
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** The backend a choice and an override name, if any, and how it was chosen. */
function wantedBackend(
  options: SelectOptions,
): { wanted?: string; chosenBy: BackendInfo["chosenBy"]; allowSoftwareAdapter: boolean } {
  const choice = options.choice ?? AUTO_BACKEND;
  const allowSoftwareAdapter = choice.allowSoftwareAdapter === true;
  if (options.override !== undefined) {
    return { wanted: options.override, chosenBy: "option", allowSoftwareAdapter };
  }
  if (choice.mode === "named") {
    return { wanted: choice.name, chosenBy: "env", allowSoftwareAdapter };
  }
  // A software adapter trains only where webgpu is named (tests): the automatic choice never
  // takes one, whatever FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE says.
  return { chosenBy: "auto", allowSoftwareAdapter: false };
}

/**
 * The one walk over the candidates that {@linkcode selectBackend} and {@linkcode probeBackend}
 * share: a named backend is looked at and taken (or refused); otherwise the first candidate that
 * looks usable — and, when `start` is given, starts — is taken.
 */
async function walkCandidates(
  options: SelectOptions,
  steps: {
    /** Whether a candidate is usable here (`probe`, or the cheaper `detect`). */
    look: (candidate: BackendCandidate, context: ProbeContext) => Promise<ProbeResult>;
    /** Register and activate it; absent when only looking. */
    start?: (candidate: BackendCandidate) => Promise<boolean>;
    /** The message when no candidate will do. */
    none: string;
  },
): Promise<BackendInfo> {
  const candidates = options.candidates ?? BACKEND_CANDIDATES;
  const { wanted, chosenBy, allowSoftwareAdapter } = wantedBackend(options);
  const context: ProbeContext = { allowSoftwareAdapter };
  const report: BackendInfo["candidates"] = [];
  if (wanted !== undefined) {
    const candidate = candidates.find((c) => c.name === wanted);
    if (candidate === undefined) {
      throw new BackendError(
        `Unknown backend ${wanted}; known: ${candidates.map((c) => c.name).join(", ")}.`,
      );
    }
    const probe = await steps.look(candidate, context);
    report.push({ name: candidate.name, usable: probe.usable, reason: probe.reason });
    if (steps.start !== undefined && !(await steps.start(candidate))) {
      throw new BackendError(`Backend ${wanted} failed to initialise.`);
    }
    return describe(candidate, chosenBy, report, probe.adapter);
  }
  let softwareAdapter: AdapterInfo | undefined;
  for (const candidate of candidates) {
    const probe = await steps.look(candidate, context);
    if (probe.adapter?.fallback) softwareAdapter = probe.adapter;
    if (!probe.usable || steps.start === undefined) {
      report.push({ name: candidate.name, usable: probe.usable, reason: probe.reason });
      if (!probe.usable) continue;
      return describe(candidate, chosenBy, report, probe.adapter ?? softwareAdapter);
    }
    let ok = false;
    try {
      ok = await steps.start(candidate);
    } catch (error) {
      report.push({ name: candidate.name, usable: false, reason: String(error) });
      continue;
    }
    report.push({ name: candidate.name, usable: ok, reason: ok ? "selected" : "failed to start" });
    if (ok) return describe(candidate, chosenBy, report, probe.adapter ?? softwareAdapter);
  }
  throw new BackendError(steps.none);
}

/**
 * Choose, register and activate a backend (`tf.setBackend`).
 *
 * @param options The configured choice, an override, the candidates.
 * @returns What was selected.
 * @throws {BackendError} When the named backend is unknown or fails to initialise.
 */
export async function selectBackend(options: SelectOptions = {}): Promise<BackendInfo> {
  current = await walkCandidates(options, {
    look: (candidate, context) => candidate.probe(context),
    start: async (candidate) =>
      (await candidate.register()) && (await tf.setBackend(candidate.name)),
    none: "No tfjs backend could be initialised.",
  });
  return current;
}

function describe(
  candidate: BackendCandidate,
  chosenBy: BackendInfo["chosenBy"],
  candidates: BackendInfo["candidates"],
  adapter: AdapterInfo | undefined,
): BackendInfo {
  const info: BackendInfo = {
    name: candidate.name,
    kind: candidate.kind,
    description: candidate.description,
    chosenBy,
    candidates,
    activationBudgetBytes: candidate.activationBudgetBytes,
  };
  if (adapter !== undefined) info.adapter = adapter;
  return info;
}

/** Probes remembered per choice (they only look at the host). */
const probed = new Map<string, Promise<BackendInfo>>();

/**
 * Which backend {@linkcode selectBackend} would choose, found without starting it: each
 * candidate's `detect` (no OpenBLAS load, no native build, no `tf.setBackend`). What the request
 * thread needs to plan a run — the name and the activation budget — while training itself, and
 * the real selection, happen in a training worker. Remembered per choice.
 *
 * @param options The configured choice, an override, the candidates.
 * @returns The backend that would be selected (`candidates` says why).
 * @throws {BackendError} When the named backend is unknown, or no candidate is usable.
 */
export function probeBackend(options: SelectOptions = {}): Promise<BackendInfo> {
  const key = options.candidates === undefined
    ? JSON.stringify([options.override ?? null, options.choice ?? AUTO_BACKEND])
    : undefined;
  const cachedProbe = key === undefined ? undefined : probed.get(key);
  if (cachedProbe !== undefined) return cachedProbe;
  const result = walkCandidates(options, {
    look: (candidate, context) => candidate.detect?.(context) ?? candidate.probe(context),
    none: "No tfjs backend is usable on this host.",
  });
  if (key !== undefined) {
    probed.set(key, result);
    result.catch(() => probed.delete(key));
  }
  return result;
}

/**
 * The backend in use, selecting one on first call (memoised; concurrent callers share it).
 *
 * @param options As {@linkcode selectBackend}; a different `override` re-selects.
 * @returns What is active.
 */
export function ensureBackend(options: SelectOptions = {}): Promise<BackendInfo> {
  const wanted = wantedBackend(options).wanted;
  if (
    current !== undefined && tf.getBackend() === current.name &&
    (wanted === undefined || wanted === current.name)
  ) {
    return Promise.resolve(current);
  }
  pending ??= selectBackend(options).finally(() => {
    pending = undefined;
  });
  return pending;
}

/** @returns The backend selected so far, if any (no side effects). */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Replace the active backend with a fresh instance of itself, after a crash left it unusable
 * (a wasm module that hit "memory access out of bounds" or `Aborted()` cannot run again). Every
 * tensor on the old instance is lost; the trainer has already dropped its own.
 *
 * @returns True when a fresh instance is active.
 */
export async function resetBackend(): Promise<boolean> {
  const name = tf.getBackend();
  const factory = tf.findBackendFactory(name);
  if (factory === undefined || factory === null) return false;
  try {
    tf.removeBackend(name);
  } catch {
    // A crashed instance may fail to dispose; its registration is gone either way.
  }
  tf.registerBackend(name, factory);
  return await tf.setBackend(name);
}
