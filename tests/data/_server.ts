/**
 * A loopback HTTP file server for data tests: serves byte arrays by path, honours `Range` (or
 * ignores it on request), and can cut a response after a number of bytes to simulate an
 * interrupted download.
 *
 * @module
 */

/** One request the server saw. */
export interface SeenRequest {
  path: string;
  range: string | null;
}

/** Options of {@linkcode serveFiles}. */
export interface ServeOptions {
  /** Answer ranged requests with 206 (true) or ignore the header and send 200 (false). */
  ranges?: boolean;
  /** Abort the body of the first `cuts.length` responses after this many bytes each. */
  cuts?: number[];
}

/** A running server. */
export interface FileServer {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Requests seen so far. */
  seen: SeenRequest[];
  /** Replace or add a file. */
  files: Map<string, Uint8Array>;
  /** Stop the server. */
  close(): Promise<void>;
}

/**
 * Serve `files` (path → bytes) on a free loopback port.
 *
 * @param files Path (starting with `/`) → contents.
 * @param options Range support and cuts.
 * @returns The running server.
 */
export function serveFiles(
  files: Record<string, Uint8Array>,
  options: ServeOptions = {},
): FileServer {
  const map = new Map(Object.entries(files));
  const seen: SeenRequest[] = [];
  const cuts = [...(options.cuts ?? [])];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    const range = req.headers.get("range");
    seen.push({ path, range });
    const body = map.get(path);
    if (body === undefined) return new Response("not found", { status: 404 });
    let start = 0;
    let status = 200;
    const headers: Record<string, string> = { "accept-ranges": "bytes" };
    const m = range?.match(/^bytes=(\d+)-$/);
    if (m && options.ranges !== false) {
      start = Number(m[1]);
      if (start >= body.length) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${body.length}` },
        });
      }
      status = 206;
      headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const slice = body.subarray(start);
    headers["content-length"] = String(slice.length);
    const cut = cuts.shift();
    if (cut === undefined) {
      return new Response(slice as Uint8Array<ArrayBuffer>, { status, headers });
    }
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(slice.slice(0, cut));
        // Give the bytes time to reach the client before the connection breaks.
        setTimeout(() => controller.close(), 50); // shorter than content-length: a broken download
      },
    });
    return new Response(stream, { status, headers });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    base: `http://127.0.0.1:${addr.port}`,
    seen,
    files: map,
    close: () => server.shutdown(),
  };
}

/** Absolute path of the shared data folder (`../shared/data` beside the repository). */
export const SHARED_DATA = new URL("../../../shared/data/", import.meta.url).pathname;

/** Whether `../shared/data` is present (tests that need it are ignored otherwise). */
export const HAVE_SHARED = (() => {
  try {
    return Deno.statSync(`${SHARED_DATA}cifar10/test_batch_first1000.bin`).isFile;
  } catch {
    return false;
  }
})();

if (!HAVE_SHARED) {
  console.warn(`data tests: ${SHARED_DATA} is absent; tests on the real files are skipped.`);
}
