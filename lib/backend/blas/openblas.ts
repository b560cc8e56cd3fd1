/**
 * OpenBLAS loaded through Deno's FFI (`Deno.dlopen`): single-precision GEMM on Float32Arrays.
 *
 * The library is Debian's `libopenblas0-pthread` (`libopenblas.so.0`). Its thread count and idle
 * spin are read from `OPENBLAS_NUM_THREADS` and `OPENBLAS_THREAD_TIMEOUT` when the library loads,
 * so {@linkcode loadOpenBlas} sets them for the load unless already set (default: every core Deno
 * reports; no spinning), and unsets them afterwards.
 *
 * @module
 */

import { loadNativeSettings, withEnvDefaults } from "../../config/mod.ts";

/** Where Debian and other distributions put the pthread OpenBLAS, tried in order. */
const OPENBLAS_CANDIDATES: readonly string[] = [
  "/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/usr/local/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "libopenblas.so.0",
];

/** CBLAS enum values (cblas.h). */
export const CBLAS_ROW_MAJOR = 101;
/** CBLAS: use the matrix as stored. */
export const CBLAS_NO_TRANS = 111;
/** CBLAS: use the transpose of the stored matrix. */
export const CBLAS_TRANS = 112;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

/** A loaded OpenBLAS: the raw symbols plus what was loaded. */
export interface OpenBlas {
  /** The path `Deno.dlopen` accepted. */
  path: string;
  /** OpenBLAS's own build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Zen". */
  config: string;
  /** Threads in OpenBLAS's pool. */
  threads: number;
  /** The FFI symbols. */
  symbols: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
}

/** Why loading failed, or the loaded library. */
export type OpenBlasLoad = { ok: true; blas: OpenBlas } | { ok: false; reason: string };

let cached: OpenBlasLoad | undefined;

/**
 * Loads OpenBLAS once per process (later calls return the same result).
 *
 * @param options.path Try this path first (also read from `FLOPS_FIT_OPENBLAS`).
 * @param options.threads Pool size when `OPENBLAS_NUM_THREADS` is unset (default: all cores).
 * @returns The library, or `ok: false` with the reason (no FFI permission, library not found).
 * @example
 * ```ts
 * const r = loadOpenBlas();
 * if (r.ok) console.log(r.blas.path, r.blas.threads);
 * ```
 */
export function loadOpenBlas(options: { path?: string; threads?: number } = {}): OpenBlasLoad {
  if (cached) return cached;
  cached = tryLoad(options);
  return cached;
}

/**
 * Where OpenBLAS would be loaded from, found without loading it (no `dlopen`, no thread pool):
 * the first candidate path that exists. A bare soname (`libopenblas.so.0`, resolved by the
 * dynamic loader) cannot be checked this way; only {@linkcode loadOpenBlas} knows about it.
 *
 * @param options.path Try this path first (also read from `FLOPS_FIT_OPENBLAS`).
 * @returns The path, or why none was found.
 *
 * @example
 * ```ts
 * import { findOpenBlas } from "./openblas.ts";
 * const found = findOpenBlas();
 * console.log(found.ok ? found.path : found.reason);
 * ```
 */
export function findOpenBlas(
  options: { path?: string } = {},
): { ok: true; path: string } | { ok: false; reason: string } {
  if (typeof Deno?.dlopen !== "function") {
    return { ok: false, reason: "Deno.dlopen is unavailable" };
  }
  const envPath = loadNativeSettings().openblas;
  const paths = [options.path, envPath, ...OPENBLAS_CANDIDATES].filter((p): p is string =>
    !!p && p.includes("/")
  );
  for (const path of paths) {
    try {
      if (Deno.statSync(path).isFile) return { ok: true, path };
    } catch {
      // Not there (or not readable): the next one.
    }
  }
  return {
    ok: false,
    reason: "libopenblas.so.0 not found (apt-get install libopenblas0-pthread)",
  };
}

function tryLoad(options: { path?: string; threads?: number }): OpenBlasLoad {
  if (typeof Deno?.dlopen !== "function") {
    return { ok: false, reason: "Deno.dlopen is unavailable" };
  }
  const envPath = loadNativeSettings().openblas;
  return withEnvDefaults({
    OPENBLAS_NUM_THREADS: String(options.threads ?? navigator.hardwareConcurrency ?? 1),
    // OpenBLAS's idle workers busy-wait 2^28 cycles (~0.1 s) after every call by default, taking
    // a core from the JavaScript and OpenMP work between GEMMs; 2^4 makes them sleep at once.
    // Measured on the 2-core host: a ViT training step 20-25 % faster.
    OPENBLAS_THREAD_TIMEOUT: "4",
  }, () => searchAndLoad(options.path, envPath));
}

function searchAndLoad(path: string | undefined, envPath: string | undefined): OpenBlasLoad {
  const paths = [path, envPath, ...OPENBLAS_CANDIDATES].filter((p): p is string => !!p);
  const errors: string[] = [];
  for (const path of paths) {
    try {
      const lib = Deno.dlopen(path, SYMBOLS);
      const configPtr = lib.symbols.openblas_get_config();
      const config = configPtr ? Deno.UnsafePointerView.getCString(configPtr) : "OpenBLAS";
      const threads = lib.symbols.openblas_get_num_threads();
      return { ok: true, blas: { path: resolvePath(path), config, threads, symbols: lib.symbols } };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.includes("Requires ffi access") || error instanceof Deno.errors.NotCapable) {
        return { ok: false, reason: `no FFI permission (run with --allow-ffi): ${message}` };
      }
      errors.push(`${path}: ${message.split("\n")[0]}`);
    }
  }
  return {
    ok: false,
    reason: `libopenblas.so.0 not found (apt-get install libopenblas0-pthread); tried ${
      errors.slice(0, 3).join("; ")
    }`,
  };
}

function resolvePath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}
