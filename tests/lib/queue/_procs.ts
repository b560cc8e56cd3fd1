/**
 * Child processes for the queue tests: coordinators and workers as the user starts them, with
 * their output collected so a test can wait for a line, and kill -9 / SIGTERM by process id.
 *
 * @module
 */

/** A running child. */
export interface Child {
  /** Process id. */
  pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Wait until its output matches (guard: fails after `limitMs`, never asserts a speed). */
  waitFor(pattern: RegExp, limitMs?: number): Promise<RegExpMatchArray>;
  /** Its exit status, when it ends. */
  status: Promise<Deno.CommandStatus>;
  /** Send a signal. */
  kill(signal: Deno.Signal): void;
}

const ROOT = new URL("../../../", import.meta.url).pathname;

/**
 * Start `deno run -A <script> <args>` in the repository root.
 *
 * @param script Path relative to the repository root.
 * @param args Its arguments.
 * @returns The child.
 */
export function spawnDeno(script: string, args: string[]): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let text = "";
  const waiters = new Set<() => void>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const w of waiters) w();
    }
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  const status = process.status.then(async (s) => {
    await pumps;
    for (const w of waiters) w();
    return s;
  });
  let exited = false;
  status.then(() => exited = true);
  return {
    pid: process.pid,
    output: () => text,
    status,
    kill(signal) {
      if (!exited) {
        try {
          process.kill(signal);
        } catch {
          // already gone
        }
      }
    },
    waitFor(pattern, limitMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (match) {
            done();
            resolve(match);
          } else if (exited) {
            done();
            reject(new Error(`exited before printing ${pattern}:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${limitMs} ms:\n${text}`));
        }, limitMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/**
 * Start `n` queue workers.
 *
 * @param url Connection string.
 * @param n How many.
 * @param extra More flags.
 * @returns The workers, once each has said it is pulling.
 */
export async function startWorkers(url: string, n: number, extra: string[] = []): Promise<Child[]> {
  const workers = Array.from(
    { length: n },
    () =>
      spawnDeno("lib/queue/worker_cli.ts", ["--queue", url, "--supervise-interval", "1", ...extra]),
  );
  await Promise.all(workers.map((w) => w.waitFor(/pulling points from/)));
  return workers;
}

/**
 * Stop workers with SIGTERM and wait for them.
 *
 * @param workers The workers.
 */
export async function stopWorkers(workers: readonly Child[]): Promise<void> {
  for (const w of workers) w.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.status));
}
