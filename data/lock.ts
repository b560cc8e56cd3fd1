/**
 * A cross-process lock on a file (`flock(2)` through `Deno.FsFile.lock`), so two processes that
 * prepare the same dataset at once take turns instead of corrupting each other's files. The
 * kernel drops the lock when its holder dies, so a crash never leaves a stale lock behind.
 *
 * @module
 */

/**
 * Run `fn` while holding an exclusive lock on `lockPath` (created if absent).
 *
 * @param lockPath Lock file; its parent directory must exist.
 * @param fn Work to do under the lock.
 * @returns What `fn` returns.
 *
 * @example
 * ```ts
 * import { withFileLock } from "./lock.ts";
 * const dir = await Deno.makeTempDir();
 * const value = await withFileLock(`${dir}/x.lock`, () => Promise.resolve(42));
 * if (value !== 42) throw new Error("unexpected");
 * ```
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(lockPath, { create: true, write: true });
  try {
    await file.lock(true);
    try {
      return await fn();
    } finally {
      await file.unlock();
    }
  } finally {
    file.close();
  }
}
