/**
 * The process environment, for the configuration modules only: no other module reads or writes
 * `Deno.env` (a test scans the sources for it).
 *
 * @module
 */

/**
 * The process environment as a plain object; empty without `--allow-env`.
 *
 * @returns Variable → value.
 */
export function processEnvironment(): Record<string, string | undefined> {
  try {
    return Deno.env.toObject();
  } catch {
    return {}; // no --allow-env: every setting takes its default
  }
}

/**
 * Runs `load` with each variable of `defaults` set unless it is already set, then unsets the ones
 * it set. Native libraries (OpenBLAS, libgomp) read their settings from the environment once,
 * when loaded, so they are set just for the `dlopen` and removed again — child processes (e.g.
 * the PyTorch reference) never inherit them. Without env permission, runs `load` as is.
 *
 * @param defaults Variable → value.
 * @param load The loading step.
 * @returns What `load` returns.
 */
export function withEnvDefaults<T>(defaults: Record<string, string>, load: () => T): T {
  const added: string[] = [];
  try {
    for (const [name, value] of Object.entries(defaults)) {
      if (!Deno.env.get(name)) {
        Deno.env.set(name, value);
        added.push(name);
      }
    }
  } catch {
    // No --allow-env: the libraries use their own defaults.
  }
  try {
    return load();
  } finally {
    for (const name of added) Deno.env.delete(name);
  }
}
