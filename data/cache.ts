/**
 * Where downloads and prepared files live, and safe paths inside it.
 *
 * The cache directory is `FLOPS_FIT_DATA_DIR` when set, else `$XDG_CACHE_HOME/flops-fit`, else
 * `~/.cache/flops-fit`. Every dataset keeps its files in its own sub-folder.
 *
 * @module
 */
/** The cache directory, resolved by the configuration (`lib/config/`). */
export { resolveDataDir } from "../lib/config/mod.ts";

/**
 * Check a relative path for traversal: no empty, `.` or `..` segments, no absolute start, no
 * backslash or NUL, no drive letter.
 *
 * @param relative The path to check, `/`-separated.
 * @returns Whether it stays inside whatever directory it is joined to.
 */
export function isSafeRelativePath(relative: string): boolean {
  if (relative === "" || relative.startsWith("/") || /[\\\0]/.test(relative)) return false;
  if (/^[A-Za-z]:/.test(relative)) return false;
  return relative.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..");
}

/**
 * Whether a path exists (as anything).
 *
 * @param path Path to test.
 * @returns `true` when `Deno.stat` succeeds.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Write a file atomically: write `path.tmp-<pid>` then rename over `path`.
 *
 * @param path Destination.
 * @param data Bytes or text.
 */
export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/**
 * Memoise an async loader by key; a failed load is forgotten, so the next call retries.
 *
 * @param load Loads the value of a key.
 * @returns The memoised loader.
 */
export function memoizeAsync<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = load(key);
      cache.set(key, value);
      value.catch(() => cache.delete(key));
    }
    return value;
  };
}

/**
 * Memoise what is loaded from a file, reloading when its size or modification time changes (so
 * a user's file edited between requests is re-read, and an unchanged one is read once).
 *
 * @param load Loads the value from the file at a path.
 * @returns `(path, variant) => value`; `variant` distinguishes loads of the same file.
 */
export function memoizeFile<T>(
  load: (path: string, variant: string) => Promise<T>,
): (path: string, variant?: string) => Promise<T> {
  const cache = new Map<string, { stamp: string; value: Promise<T> }>();
  return async (path, variant = "") => {
    const stat = await Deno.stat(path);
    const stamp = `${stat.size}:${stat.mtime?.getTime() ?? 0}`;
    const key = `${path}\0${variant}`;
    const hit = cache.get(key);
    if (hit !== undefined && hit.stamp === stamp) return await hit.value;
    const value = load(path, variant);
    cache.set(key, { stamp, value });
    value.catch(() => cache.delete(key));
    return await value;
  };
}
