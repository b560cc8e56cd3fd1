/**
 * A pool of Float32Array buffers for the `blas` backend's kernel outputs.
 *
 * A training step allocates the same few hundred MB of activations and gradients every step
 * (≈ 420 MB for the benchmark GPT). Fresh memory costs a page fault per 4 KiB on first touch — on
 * these VMs a fresh 8 MB output doubles the time of the GEMM that fills it — so buffers whose
 * tensors are disposed come back here and the next kernel output of the same length reuses one.
 *
 * Safety: only arrays this pool handed out are ever reused, and only once every tensor holding
 * one is disposed. The backend reports each tensor write ({@linkcode Float32Pool.attach}), each
 * disposal ({@linkcode Float32Pool.detach}) and each read-out of values to code outside the
 * backend ({@linkcode Float32Pool.escape}: `dataSync()` hands out the array itself, which the
 * caller may keep). A buffer that escaped, or that a tensor holds only part of (a view), is never
 * reused.
 *
 * @module
 */
import { loadNativeSettings } from "../../config/mod.ts";

/** What the pool knows of one buffer it handed out. */
interface Ownership {
  /** Live tensors holding the whole array. */
  refs: number;
  /** Seen outside the backend, or held as a view: never reused. */
  escaped: boolean;
}

/** Counters of a pool, for benchmarks and tests. */
export interface PoolStats {
  /** `take` answered from the free lists. */
  hits: number;
  /** `take` allocated fresh memory. */
  misses: number;
  /** Bytes waiting in the free lists now. */
  freeBytes: number;
  /** The most bytes the free lists may hold. */
  capBytes: number;
}

/** Default cap on the free lists: 1 GiB. */
export const DEFAULT_POOL_CAP_BYTES = 1 << 30;

/** Reuses Float32Array buffers by exact length (see the module doc for when one is reused). */
export class Float32Pool {
  /** Free arrays by length; the Map's key order is least recently used first. */
  #free = new Map<number, Float32Array[]>();
  #freeBytes = 0;
  #owned = new WeakMap<ArrayBuffer, Ownership>();
  #capBytes: number;
  #hits = 0;
  #misses = 0;

  /** @param capBytes Most bytes kept in the free lists (0 disables reuse). */
  constructor(capBytes = DEFAULT_POOL_CAP_BYTES) {
    this.#capBytes = Math.max(0, capBytes);
  }

  /**
   * An array of `length` floats with unspecified contents (a reused buffer keeps old values):
   * for outputs the caller writes in full.
   */
  take(length: number): Float32Array {
    const list = this.#free.get(length);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.#freeBytes -= reused.byteLength;
      if (list!.length === 0) this.#free.delete(length);
      this.#hits++;
      this.#owned.set(reused.buffer as ArrayBuffer, { refs: 0, escaped: false });
      return reused;
    }
    this.#misses++;
    const fresh = new Float32Array(length);
    if (this.#capBytes > 0 && length > 0) {
      this.#owned.set(fresh.buffer as ArrayBuffer, { refs: 0, escaped: false });
    }
    return fresh;
  }

  /** An array of `length` zeros. */
  takeZeroed(length: number): Float32Array {
    const a = this.take(length);
    a.fill(0);
    return a;
  }

  /** A tensor now holds `values` (the backend wrote it). */
  attach(values: unknown): void {
    const own = this.#ownership(values);
    if (own === undefined) return;
    if (isWhole(values as Float32Array)) own.refs++;
    else own.escaped = true;
  }

  /** A tensor holding `values` was disposed: the buffer returns once no tensor holds it. */
  detach(values: unknown): void {
    const own = this.#ownership(values);
    if (own === undefined || !isWhole(values as Float32Array)) return;
    own.refs--;
    if (own.refs <= 0 && !own.escaped) this.#putBack(values as Float32Array);
  }

  /** `values` left the backend (read by user code): never reuse its buffer. */
  escape(values: unknown): void {
    const own = this.#ownership(values);
    if (own !== undefined) own.escaped = true;
  }

  /** Gives back a scratch array from {@linkcode take} that no tensor holds. */
  release(values: Float32Array): void {
    const own = this.#ownership(values);
    if (own === undefined || own.refs > 0 || own.escaped || !isWhole(values)) return;
    this.#putBack(values);
  }

  /** Drops every free array. */
  clear(): void {
    this.#free.clear();
    this.#freeBytes = 0;
  }

  /** Hits, misses and free bytes. */
  stats(): PoolStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      freeBytes: this.#freeBytes,
      capBytes: this.#capBytes,
    };
  }

  #ownership(values: unknown): Ownership | undefined {
    if (!(values instanceof Float32Array)) return undefined;
    return this.#owned.get(values.buffer as ArrayBuffer);
  }

  #putBack(values: Float32Array): void {
    // Forget the owner record: a buffer is in the free lists or held, never both.
    this.#owned.delete(values.buffer as ArrayBuffer);
    if (values.byteLength > this.#capBytes) return;
    const length = values.length;
    const list = this.#free.get(length) ?? [];
    // Re-insert the key: the Map's order stays least recently used first.
    this.#free.delete(length);
    list.push(values);
    this.#free.set(length, list);
    this.#freeBytes += values.byteLength;
    for (const [key, arrays] of this.#free) {
      if (this.#freeBytes <= this.#capBytes) break;
      while (arrays.length > 0 && this.#freeBytes > this.#capBytes) {
        this.#freeBytes -= arrays.shift()!.byteLength;
      }
      if (arrays.length === 0) this.#free.delete(key);
    }
  }
}

/** Whether `a` spans its whole buffer (not a view of part of one). */
function isWhole(a: Float32Array): boolean {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

/**
 * The pool size from `FLOPS_FIT_POOL_MB` (MiB; `0` turns reuse off), else
 * {@linkcode DEFAULT_POOL_CAP_BYTES}.
 */
export function poolCapFromEnv(): number {
  const { poolMb } = loadNativeSettings();
  return poolMb === undefined ? DEFAULT_POOL_CAP_BYTES : Math.floor(poolMb * 1024 * 1024);
}

/** The pool shared by the `blas` backend and its kernels. */
export const float32Pool: Float32Pool = new Float32Pool(poolCapFromEnv());
