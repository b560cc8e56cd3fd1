/**
 * The native helper library (lib/backend/blas/native/ff_kernels.c): built with the host's C compiler
 * (`cc -O3 -march=native`) into `.cache/native/`, then loaded through `Deno.dlopen`. `.ci/run`
 * builds it at install time (`deno run -A lib/backend/blas/native.ts`); when it is missing, the first
 * {@linkcode loadNative} builds it, and without a compiler the `blas` backend uses its
 * JavaScript twins of the same kernels.
 *
 * @module
 */

import { hashString } from "../../random.ts";
import { loadNativeSettings, withEnvDefaults } from "../../config/mod.ts";

/**
 * Flags the library is built with; part of the cache key. The math flags let gcc vectorise the
 * exp/erf loops (reassociation, no errno/traps) without `-ffast-math`'s finite-math assumption
 * (softmax starts from −∞) or its process-wide flush-to-zero.
 */
const CFLAGS = [
  "-O3",
  "-march=native",
  "-fno-math-errno",
  "-fno-trapping-math",
  "-fassociative-math",
  "-fno-signed-zeros",
  "-freciprocal-math",
  "-shared",
  "-fPIC",
];

/**
 * Threads for the attention's heads and the long element-wise loops; without OpenMP the library
 * builds serial (same results).
 */
const OPENMP_FLAGS = ["-fopenmp"];

const SOURCE = new URL("./native/ff_kernels.c", import.meta.url);
const CACHE_DIR = new URL("../../../.cache/native/", import.meta.url);

/** The interface version ff_kernels.c reports (`ff_version`). */
const NATIVE_VERSION = 10;

const SYMBOLS = {
  ff_version: { parameters: [], result: "i32" },
  ff_exp: { parameters: ["buffer", "buffer", "i64"], result: "void" },
  ff_erf: { parameters: ["buffer", "buffer", "i64"], result: "void" },
  ff_gelu: { parameters: ["buffer", "buffer", "i64"], result: "void" },
  ff_gelu_grad: { parameters: ["buffer", "buffer", "buffer", "i64"], result: "void" },
  ff_layernorm: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "i64", "i64", "f32"],
    result: "void",
  },
  ff_layernorm_grad: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "i64",
    ],
    result: "i32",
  },
  ff_softmax: { parameters: ["buffer", "buffer", "i64", "i64"], result: "void" },
  ff_softmax_grad: { parameters: ["buffer", "buffer", "buffer", "i64", "i64"], result: "void" },
  ff_binary2d: {
    parameters: ["i32", "buffer", "i64", "i64", "buffer", "i64", "i64", "buffer", "i64", "i64"],
    result: "void",
  },
  ff_cross_entropy: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "i64", "i64"],
    result: "void",
  },
  ff_cross_entropy_grad: {
    parameters: ["buffer", "buffer", "buffer", "i64", "i64", "f32", "f32"],
    result: "void",
  },
  ff_adamw: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "buffer",
    ],
    result: "void",
  },
  ff_sum3: { parameters: ["buffer", "buffer", "i64", "i64", "i64", "f32"], result: "i32" },
  ff_threads: { parameters: [], result: "i32" },
  ff_attention: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "i64", "i64", "i64", "i64", "i32"],
    result: "i32",
  },
  ff_attention_grad: {
    parameters: [
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "i64",
      "i64",
      "i64",
      "i64",
      "i32",
    ],
    result: "i32",
  },
} as const;

/** The native kernels' FFI symbols. */
export type NativeKernels = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The loaded library, or why there is none. */
export type NativeLoad =
  | { ok: true; path: string; symbols: NativeKernels }
  | { ok: false; reason: string };

let cached: NativeLoad | undefined;

/**
 * What `-march=native` compiles for: the CPU's model name and feature flags from
 * `/proc/cpuinfo` (a library built on one CPU may use instructions another lacks), or the empty
 * string where that file cannot be read.
 */
function cpuIdentity(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const field = (name: string) =>
      info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1] ?? "";
    return `${field("model name")}|${field("flags")}`;
  } catch {
    return "";
  }
}

/** FNV-1a of the source, flags, target and CPU: the cache key of the built library. */
function cacheKey(source: string): string {
  const text = source + CFLAGS.join(" ") + OPENMP_FLAGS.join(" ") + Deno.build.target +
    cpuIdentity();
  return hashString(text).toString(16).padStart(8, "0");
}

/** The path the built library has for the current source. */
function libraryPath(): string {
  const source = Deno.readTextFileSync(SOURCE);
  return new URL(`libff_kernels-${cacheKey(source)}.so`, CACHE_DIR).pathname;
}

/**
 * Compiles ff_kernels.c into `.cache/native/` unless already there.
 *
 * @returns The library path.
 * @throws {Error} When no C compiler runs or the build fails (the message says which).
 */
export function buildNative(): string {
  const path = libraryPath();
  try {
    Deno.statSync(path);
    return path;
  } catch {
    // Not built yet.
  }
  Deno.mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  const compiler = loadNativeSettings().compiler;
  const compile = (extra: string[]) => {
    try {
      return new Deno.Command(compiler, {
        args: [...CFLAGS, ...extra, "-o", tmp, SOURCE.pathname, "-lm", "-ldl"],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
    } catch (error) {
      throw new Error(`C compiler ${compiler} not runnable: ${(error as Error).message}`);
    }
  };
  let out = compile(OPENMP_FLAGS);
  if (!out.success) out = compile([]); // no OpenMP runtime: a serial build
  if (!out.success) {
    throw new Error(`${compiler} failed: ${new TextDecoder().decode(out.stderr).slice(0, 500)}`);
  }
  Deno.renameSync(tmp, path);
  return path;
}

/**
 * Loads the native kernels once per process, building them first if needed.
 * `FLOPS_FIT_NATIVE=0` disables them (the `blas` backend then uses its JavaScript kernels).
 *
 * @returns The symbols, or the reason they are unavailable.
 */
export function loadNative(): NativeLoad {
  if (cached) return cached;
  cached = tryLoad();
  return cached;
}

function tryLoad(): NativeLoad {
  if (!loadNativeSettings().native) {
    return { ok: false, reason: "disabled by FLOPS_FIT_NATIVE=0" };
  }
  let path: string;
  try {
    path = buildNative();
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  // libgomp reads these when the library loads: sleeping (not spinning) idle threads leave the
  // cores to OpenBLAS's pool, which PyTorch needs the same setting for on 2 cores.
  return withEnvDefaults({
    OMP_WAIT_POLICY: "PASSIVE",
    OMP_NUM_THREADS: String(navigator.hardwareConcurrency ?? 1),
  }, () => open(path));
}

function open(path: string): NativeLoad {
  try {
    const lib = Deno.dlopen(path, SYMBOLS);
    const version = lib.symbols.ff_version();
    if (version !== NATIVE_VERSION) {
      lib.close();
      return { ok: false, reason: `${path} reports version ${version}, want ${NATIVE_VERSION}` };
    }
    return { ok: true, path, symbols: lib.symbols };
  } catch (error) {
    return { ok: false, reason: `dlopen ${path}: ${(error as Error).message}` };
  }
}

if (import.meta.main) {
  const load = loadNative();
  console.log(
    load.ok ? `native kernels: ${load.path}` : `native kernels unavailable: ${load.reason}`,
  );
}
