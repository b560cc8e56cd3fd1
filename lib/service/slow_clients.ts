/**
 * Closing connections that hold a socket without sending a request: slow or silent clients.
 *
 * Deno 2.9's `Deno.serve` has no header-read or keep-alive timeout, and a handler never sees a
 * connection whose headers have not all arrived: 400 clients sending one byte every 2 s held 400
 * sockets for as long as they liked (issue 22). A {@linkcode SlowClientReaper} looks at the
 * kernel's table of this process's sockets every second (`/proc/self/net/tcp{,6}`, Linux) and
 * shuts down (`shutdown(2)` through FFI, on the server's own descriptor, found in
 * `/proc/self/fd`) every connection to the server's port that has gone `idleTimeoutS` without a
 * request in flight — one still sending its headers, or idle between requests. The server then
 * sees the connection end and lets it go. A request in flight (known from the app's
 * {@linkcode ConnectionWatch}) is never touched: its body has its own timeout
 * (`readBodyFirst`), which asks for its connection to be closed with
 * {@linkcode ConnectionWatch.requestClose} once the 408 is written.
 *
 * Where the table or FFI is unavailable (another OS, no `--allow-ffi`), the reaper reports that
 * it is off and does nothing.
 *
 * @module
 */
import { type ConnectionWatch, parseTableAddress } from "./connection_watch.ts";

/** How often the socket table is read, in milliseconds. */
export const REAP_INTERVAL_MS = 1_000;

/** `st` of an established socket in the socket tables. */
const ESTABLISHED = "01";

/** `shutdown(2)`'s `SHUT_RDWR`. */
const SHUT_RDWR = 2;

/** One server-side connection as the table shows it. */
export interface ServerSocket {
  /** The client's end, `address:port` (as `ConnectionWatch` keys it). */
  remote: string;
  /** The socket's inode, which names its descriptor in `/proc/self/fd`. */
  inode: string;
}

/**
 * The established connections whose local port is `port`, from the socket tables' text.
 *
 * @param tables The text of `/proc/self/net/tcp` and/or `tcp6`.
 * @param port The server's port.
 * @returns Each connection's client end and inode.
 *
 * @example
 * ```ts
 * import { serverSockets } from "./slow_clients.ts";
 * const table = "sl local rem st q q tr tm uid timeout inode\n" +
 *   "0: 0100007F:1F40 0100007F:9C40 01 0:0 0:0 0 0 0 4242 1";
 * if (serverSockets([table], 8000)[0]?.inode !== "4242") throw new Error("unexpected");
 * ```
 */
export function serverSockets(tables: readonly string[], port: number): ServerSocket[] {
  const sockets: ServerSocket[] = [];
  for (const table of tables) {
    for (const line of table.split("\n")) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== ESTABLISHED) continue;
      const local = parseTableAddress(fields[1]!);
      if (local === undefined || !local.endsWith(`:${port}`)) continue;
      const remote = parseTableAddress(fields[2]!);
      if (remote !== undefined) sockets.push({ remote, inode: fields[9]! });
    }
  }
  return sockets;
}

/** Options of {@linkcode SlowClientReaper}. */
export interface SlowClientReaperOptions {
  /** The server's port. */
  port: number;
  /** Longest a connection may go without a request in flight, in seconds. */
  idleTimeoutS: number;
  /** The app's connection watch: which connections have a request in flight. */
  watch: ConnectionWatch;
  /** Time between two reads of the table, in ms. @default REAP_INTERVAL_MS */
  intervalMs?: number;
  /** Called with one JSON line per connection closed. */
  log?: (line: string) => void;
}

/** Per-connection bookkeeping. */
interface Seen {
  /** When it last had a request in flight, or was first seen. */
  activeMs: number;
}

/** libc's `shutdown`, or undefined where it cannot be loaded. */
function loadShutdown(): ((fd: number) => number) | undefined {
  if (Deno.build.os !== "linux" || typeof Deno.dlopen !== "function") return undefined;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
    const libc = Deno.dlopen("libc.so.6", {
      shutdown: { parameters: ["i32", "i32"], result: "i32" },
    });
    return (fd) => libc.symbols.shutdown(fd, SHUT_RDWR);
  } catch {
    return undefined;
  }
}

/** The descriptors of this process that are the sockets with these inodes. */
async function descriptorsOf(inodes: ReadonlySet<string>): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const entry of Deno.readDir("/proc/self/fd")) {
    try {
      const target = await Deno.readLink(`/proc/self/fd/${entry.name}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) found.set(inode, Number(entry.name));
    } catch {
      // Closed meanwhile.
    }
  }
  return found;
}

/**
 * Shuts down connections to a server's port that go too long without a request in flight.
 *
 * @example
 * ```ts ignore
 * const reaper = new SlowClientReaper({ port: server.addr.port, idleTimeoutS: 30, watch });
 * reaper.start();
 * // … at shutdown:
 * reaper.stop();
 * ```
 */
export class SlowClientReaper {
  #options: Required<Omit<SlowClientReaperOptions, "log">> & Pick<SlowClientReaperOptions, "log">;
  #seen = new Map<string, Seen>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #shutdown: ((fd: number) => number) | undefined;
  #running = false;
  #closed = 0;

  /** @param options Port, timeout, watch. */
  constructor(options: SlowClientReaperOptions) {
    this.#options = { intervalMs: REAP_INTERVAL_MS, ...options };
  }

  /** Connections shut down so far. */
  get closed(): number {
    return this.#closed;
  }

  /**
   * Start reading the table every interval.
   *
   * @returns Whether reaping is possible here (Linux, FFI allowed, the table readable).
   */
  start(): boolean {
    this.#shutdown ??= loadShutdown();
    if (this.#shutdown === undefined || this.#running) return this.#running;
    try {
      Deno.readTextFileSync("/proc/self/net/tcp");
    } catch {
      return false;
    }
    this.#running = true;
    this.#schedule();
    return true;
  }

  /** Stop reading the table. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.tick().finally(() => this.#schedule());
    }, this.#options.intervalMs);
  }

  /** One pass: note activity, shut down what waited too long or was asked to close. */
  async tick(): Promise<void> {
    const shutdown = this.#shutdown;
    if (shutdown === undefined) return;
    let tables: string[];
    try {
      const read = await Promise.allSettled(
        ["/proc/self/net/tcp", "/proc/self/net/tcp6"].map((p) => Deno.readTextFile(p)),
      );
      tables = read.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    } catch {
      return;
    }
    const now = performance.now();
    const inFlight = this.#options.watch.inFlight();
    const toClose = this.#options.watch.takeCloseRequests();
    const limitMs = this.#options.idleTimeoutS * 1000;
    const sockets = serverSockets(tables, this.#options.port);
    const live = new Set<string>();
    const doomed = new Map<string, { remote: string; reason: string }>();
    for (const socket of sockets) {
      live.add(socket.inode);
      const seen = this.#seen.get(socket.inode);
      if (seen === undefined) {
        this.#seen.set(socket.inode, { activeMs: now });
      } else if (inFlight.has(socket.remote)) {
        seen.activeMs = now;
      } else if (now - seen.activeMs > limitMs) {
        doomed.set(socket.inode, { remote: socket.remote, reason: "idle" });
      }
      if (toClose.has(socket.remote)) {
        doomed.set(socket.inode, { remote: socket.remote, reason: "body_timeout" });
      }
    }
    for (const inode of this.#seen.keys()) if (!live.has(inode)) this.#seen.delete(inode);
    if (doomed.size === 0) return;
    const descriptors = await descriptorsOf(new Set(doomed.keys()));
    for (const [inode, fd] of descriptors) {
      // Checked again just before: a descriptor closed and reused meanwhile is left alone.
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${fd}`) !== `socket:[${inode}]`) continue;
      } catch {
        continue;
      }
      shutdown(fd);
      this.#closed++;
      this.#seen.delete(inode);
      const { reason } = doomed.get(inode)!;
      this.#options.log?.(JSON.stringify({
        level: "info",
        event: "connection_closed",
        reason,
        ...(reason === "idle" ? { idle_timeout_s: this.#options.idleTimeoutS } : {}),
      }));
    }
  }
}
