/**
 * Noticing that a client left, whatever its request body's size.
 *
 * `Request.signal` is not enough in Deno 2.9: once a request body of about 500 bytes or more
 * has been read, the server stops reading the socket until the answer is written, so a client
 * that closes its connection while a fit or a training runs is never noticed (issue 22). A
 * {@linkcode ConnectionWatch} looks at the kernel's own table of this process's TCP sockets
 * instead (`/proc/self/net/tcp` and `tcp6`, Linux): a watched connection whose server-side
 * socket is no longer `ESTABLISHED` — the client sent FIN (`CLOSE_WAIT`) or a reset (gone) — is
 * aborted. The table is read every {@linkcode DEFAULT_WATCH_INTERVAL_MS} ms, and only while some
 * connection is watched. Where the table cannot be read (another OS, no read permission on
 * `/proc`), watching is off and requests rely on `Request.signal` alone.
 *
 * A client that only half-closes (shuts down its sending side and still waits for the answer)
 * counts as gone, as it does for most servers and proxies.
 *
 * @module
 */

/** How often the socket table is read while connections are watched, in milliseconds. */
export const DEFAULT_WATCH_INTERVAL_MS = 250;

/** The kernel's tables of this process's TCP sockets (its network namespace's). */
const TABLES = ["/proc/self/net/tcp", "/proc/self/net/tcp6"] as const;

/** `st` of an established socket in those tables. */
const ESTABLISHED = "01";

/** Options of {@linkcode ConnectionWatch}. */
export interface ConnectionWatchOptions {
  /** Time between two reads of the table, in ms. @default DEFAULT_WATCH_INTERVAL_MS */
  intervalMs?: number;
  /**
   * Reads the socket tables' text (tests give their own); rejects where there is none, which
   * turns watching off. @default reads `/proc/self/net/tcp` and `tcp6`
   */
  readTables?: () => Promise<string[]>;
}

/** One watched connection. */
export interface Watched {
  /** Aborts (reason: an `AbortError`) when the connection is seen closed by its client. */
  signal: AbortSignal;
  /** Stop watching (the answer was sent); idempotent. */
  release(): void;
}

/**
 * An address as the socket tables write it: IPv4 dotted, IPv4-mapped IPv6 as IPv4, other IPv6
 * as eight lower-case hex groups without leading zeros or `::`.
 *
 * @param hostname An address as `Deno.NetAddr.hostname` gives it (`127.0.0.1`, `::1`,
 *   `::ffff:10.0.0.1`, `[::1]`).
 * @returns The canonical form, or undefined when it is not an IP address.
 *
 * @example
 * ```ts
 * import { canonicalAddress } from "./connection_watch.ts";
 * if (canonicalAddress("::ffff:127.0.0.1") !== "127.0.0.1") throw new Error("unexpected");
 * if (canonicalAddress("::1") !== "0:0:0:0:0:0:0:1") throw new Error("unexpected");
 * ```
 */
export function canonicalAddress(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host;
  if (!host.includes(":")) return undefined;
  // A trailing dotted IPv4 part (`::ffff:10.0.0.1`) is two groups.
  const text = host.replace(
    /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/,
    (_, a, b, c, d) =>
      `${((Number(a) << 8) | Number(b)).toString(16)}:${
        ((Number(c) << 8) | Number(d)).toString(16)
      }`,
  );
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => part === "" ? [] : part.split(":").map((g) => parseInt(g, 16));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) {
    return undefined;
  }
  return fromGroups(groups);
}

/** Eight 16-bit groups as {@linkcode canonicalAddress} writes them. */
function fromGroups(groups: number[]): string {
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join(".");
  }
  return groups.map((g) => g.toString(16)).join(":");
}

/**
 * One `ADDR:PORT` field of `/proc/net/tcp{,6}` as `address:port` (canonical address). The
 * address words are written in the host's byte order, little-endian on every platform served.
 *
 * @param field E.g. `0100007F:1F40`.
 * @returns E.g. `127.0.0.1:8000`, or undefined when malformed.
 *
 * @example
 * ```ts
 * import { parseTableAddress } from "./connection_watch.ts";
 * if (parseTableAddress("0100007F:1F40") !== "127.0.0.1:8000") throw new Error("unexpected");
 * ```
 */
export function parseTableAddress(field: string): string | undefined {
  const [hex, portHex] = field.split(":");
  if (hex === undefined || portHex === undefined || !/^[0-9A-Fa-f]+$/.test(hex + portHex)) {
    return undefined;
  }
  const port = parseInt(portHex, 16);
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    const chunk = hex.slice(word, word + 8);
    if (chunk.length !== 8) return undefined;
    for (let i = 6; i >= 0; i -= 2) bytes.push(parseInt(chunk.slice(i, i + 2), 16));
  }
  if (bytes.length === 4) return `${bytes.join(".")}:${port}`;
  if (bytes.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  return `${fromGroups(groups)}:${port}`;
}

/**
 * The remote ends (`address:port`) of every established socket in the tables' text.
 *
 * @param tables The text of `/proc/self/net/tcp` and/or `tcp6`.
 * @returns Remote ends of `ESTABLISHED` sockets.
 */
export function establishedRemotes(tables: readonly string[]): Set<string> {
  const remotes = new Set<string>();
  for (const table of tables) {
    for (const line of table.split("\n")) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 4 || fields[3] !== ESTABLISHED) continue;
      const remote = parseTableAddress(fields[2]!);
      if (remote !== undefined) remotes.add(remote);
    }
  }
  return remotes;
}

/** Read the tables that exist; reject when none does. */
async function readProcTables(): Promise<string[]> {
  const read = await Promise.allSettled(TABLES.map((path) => Deno.readTextFile(path)));
  const texts = read.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  if (texts.length === 0) throw new Error("no socket table");
  return texts;
}

/** A TCP address as the tables key it (`address:port`), or undefined for anything else. */
function keyOf(remote: Deno.Addr): string | undefined {
  if (remote.transport !== "tcp") return undefined;
  const address = canonicalAddress(remote.hostname);
  return address === undefined ? undefined : `${address}:${remote.port}`;
}

/** One watched connection's bookkeeping. */
interface Entry {
  key: string;
  /** `performance.now()` when watching began: only entries older than a read are judged by it. */
  sinceMs: number;
  controller: AbortController;
}

/**
 * Watches server-side TCP connections and aborts a signal when the client closes one.
 *
 * @example
 * ```ts ignore
 * const watch = new ConnectionWatch();
 * const watched = watch.watch(info.remoteAddr);
 * const signal = AbortSignal.any([request.signal, watched.signal]);
 * info.completed.finally(() => watched.release());
 * ```
 */
export class ConnectionWatch {
  #intervalMs: number;
  #readTables: () => Promise<string[]>;
  #entries = new Set<Entry>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disabled = false;
  #reading = false;
  #closeRequests = new Set<string>();

  /** @param options Interval and table reader. */
  constructor(options: ConnectionWatchOptions = {}) {
    this.#intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
    this.#readTables = options.readTables ?? readProcTables;
  }

  /** Connections watched now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether watching was turned off because the socket table cannot be read. */
  get disabled(): boolean {
    return this.#disabled;
  }

  /**
   * The client ends (`address:port`) of the connections watched now: those with a request in
   * flight.
   *
   * @returns The keys.
   */
  inFlight(): Set<string> {
    return new Set([...this.#entries].map((e) => e.key));
  }

  /**
   * Ask for the connection of `remote` to be closed (a body that timed out): the slow-client
   * reaper (`slow_clients.ts`) shuts it down on its next pass.
   *
   * @param remote The client's address.
   */
  requestClose(remote: Deno.Addr | undefined): void {
    const key = remote === undefined ? undefined : keyOf(remote);
    if (key !== undefined) this.#closeRequests.add(key);
  }

  /**
   * Take the pending close requests (the reaper calls this once per pass).
   *
   * @returns Their keys; the set is emptied.
   */
  takeCloseRequests(): Set<string> {
    const taken = this.#closeRequests;
    this.#closeRequests = new Set();
    return taken;
  }

  /**
   * Watch the connection whose client end is `remote`.
   *
   * @param remote The client's address (`ServeHandlerInfo.remoteAddr`).
   * @returns Its signal and how to stop watching; a signal that never aborts when the address
   *   is not TCP/IP or watching is off.
   */
  watch(remote: Deno.Addr): Watched {
    const controller = new AbortController();
    if (this.#disabled || remote.transport !== "tcp") {
      return { signal: controller.signal, release: () => {} };
    }
    const address = canonicalAddress(remote.hostname);
    if (address === undefined) return { signal: controller.signal, release: () => {} };
    const entry: Entry = {
      key: `${address}:${remote.port}`,
      sinceMs: performance.now(),
      controller,
    };
    this.#entries.add(entry);
    this.#schedule();
    return {
      signal: controller.signal,
      release: () => {
        this.#entries.delete(entry);
        if (this.#entries.size === 0) this.#cancelTimer();
      },
    };
  }

  #cancelTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Arm the next read when something is watched and none is pending. */
  #schedule(): void {
    if (this.#timer !== undefined || this.#reading || this.#entries.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#check();
    }, this.#intervalMs);
  }

  async #check(): Promise<void> {
    if (this.#entries.size === 0) return;
    this.#reading = true;
    // A connection accepted after the read began may be missing from it.
    const readAtMs = performance.now();
    let remotes: Set<string>;
    try {
      remotes = establishedRemotes(await this.#readTables());
    } catch {
      this.#disabled = true;
      this.#entries.clear();
      return;
    } finally {
      this.#reading = false;
    }
    for (const entry of [...this.#entries]) {
      if (entry.sinceMs >= readAtMs || remotes.has(entry.key)) continue;
      this.#entries.delete(entry);
      entry.controller.abort(new DOMException("The client closed the connection.", "AbortError"));
    }
    this.#schedule();
  }
}
