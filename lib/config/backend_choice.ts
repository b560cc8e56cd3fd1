/**
 * The backend choice: which tfjs backend trains, as the configuration states it, parsed once
 * (from `FLOPS_FIT_BACKEND` and `FLOPS_FIT_WEBGPU_ALLOW_SOFTWARE`) and passed down to the
 * selector (`lib/backend/select.ts`), the request thread's probe and the training worker.
 *
 * @module
 */

/** The backends flops-fit can train on, in the selector's order of preference. */
export const BACKEND_NAMES = ["webgpu", "blas", "wasm", "cpu"] as const;

/** One of {@linkcode BACKEND_NAMES}. */
export type BackendName = typeof BACKEND_NAMES[number];

/**
 * Which backend trains: chosen automatically (the first usable candidate) or named. Plain data
 * (structured-cloneable): it crosses into the training Web Worker as it is.
 */
export type BackendChoice =
  & ({ mode: "auto" } | { mode: "named"; name: BackendName })
  & {
    /**
     * Let a software WebGPU adapter (llvmpipe, SwiftShader) be used — for tests only; the
     * automatic choice refuses one unless this is set. @default false
     */
    allowSoftwareAdapter?: boolean;
  };

/** The automatic choice, software adapters refused. */
export const AUTO_BACKEND: BackendChoice = { mode: "auto" };

/**
 * Whether a string names a backend.
 *
 * @param name Any string.
 * @returns True for one of {@linkcode BACKEND_NAMES}.
 */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * Parse a backend name as configured into a {@linkcode BackendChoice}.
 *
 * @param name The name (`webgpu`, `blas`, `wasm`, `cpu`); unset or empty chooses automatically.
 * @param allowSoftwareAdapter Whether a software WebGPU adapter may be used. @default false
 * @returns The choice.
 * @throws {TypeError} For a name that is not a backend, listing the known ones.
 *
 * @example
 * ```ts
 * import { parseBackendChoice } from "./backend_choice.ts";
 * const choice = parseBackendChoice("wasm");
 * if (choice.mode !== "named" || choice.name !== "wasm") throw new Error("unexpected");
 * ```
 */
export function parseBackendChoice(
  name: string | undefined,
  allowSoftwareAdapter = false,
): BackendChoice {
  const flag = allowSoftwareAdapter ? { allowSoftwareAdapter: true } : {};
  if (name === undefined || name.trim() === "") return { mode: "auto", ...flag };
  const trimmed = name.trim();
  if (!isBackendName(trimmed)) {
    throw new TypeError(
      `Unknown backend "${trimmed}"; known: ${BACKEND_NAMES.join(", ")} (unset: automatic).`,
    );
  }
  return { mode: "named", name: trimmed, ...flag };
}
