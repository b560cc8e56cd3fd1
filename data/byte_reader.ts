/**
 * Exact-length reads from a byte stream whose chunks have arbitrary sizes.
 *
 * @module
 */

/** Pulls exactly `n` bytes at a time from a `ReadableStream<Uint8Array>`. */
export class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #pos = 0;
  /** Bytes consumed so far. */
  offset = 0;

  /**
   * @param stream The source; this reader takes its lock.
   */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** Refill the current chunk; false at end of stream. */
  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#chunk.length) {
      const { done, value } = await this.#reader.read();
      if (done) return false;
      this.#chunk = value;
      this.#pos = 0;
    }
    return true;
  }

  /**
   * Read exactly `n` bytes into `out` (or a fresh array).
   *
   * @param n Byte count.
   * @param out Destination of length ≥ n.
   * @returns The bytes, or `null` when the stream ended first (`partial` then says how many came).
   */
  async readExactly(n: number, out = new Uint8Array(n)): Promise<Uint8Array | null> {
    let got = 0;
    while (got < n) {
      if (!(await this.#fill())) {
        this.partial = got;
        return null;
      }
      const take = Math.min(n - got, this.#chunk.length - this.#pos);
      out.set(this.#chunk.subarray(this.#pos, this.#pos + take), got);
      this.#pos += take;
      got += take;
      this.offset += take;
    }
    return out;
  }

  /** Bytes delivered by the last `readExactly` that hit the end of the stream. */
  partial = 0;

  /**
   * Skip `n` bytes.
   *
   * @param n Byte count.
   * @returns Whether all `n` were there.
   */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (!(await this.#fill())) return false;
      const take = Math.min(left, this.#chunk.length - this.#pos);
      this.#pos += take;
      left -= take;
      this.offset += take;
    }
    return true;
  }

  /** Stop reading and release the stream. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}
