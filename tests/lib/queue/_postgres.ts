/**
 * A throw-away PostgreSQL server for the queue tests: `initdb` into a temporary directory and
 * `pg_ctl` on a free loopback port, as an unprivileged user when the tests run as root (the
 * `postgres` account Debian's package creates, else `nobody`). Trust authentication on
 * 127.0.0.1 only; the directory is removed on {@linkcode TestPostgres.destroy}.
 *
 * @module
 */

/** A running test server. */
export interface TestPostgres {
  /** Connection string of the `postgres` database (user `flops`, no password). */
  url: string;
  /** Connection string of another database on the server. */
  urlOf(database: string): string;
  /** Port on 127.0.0.1. */
  port: number;
  /** Create a database. */
  createDatabase(name: string): Promise<void>;
  /** Stop the server (fast shutdown: connections are cut). */
  stop(): Promise<void>;
  /** Start it again on the same port. */
  start(): Promise<void>;
  /** Stop it and delete its directory. */
  destroy(): Promise<void>;
}

/**
 * Where Debian's PostgreSQL binaries are, if installed.
 *
 * @returns The `bin` directory of the newest version, or `undefined`.
 */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  try {
    for (const entry of Deno.readDirSync("/usr/lib/postgresql")) {
      if (entry.isDirectory) candidates.push(`/usr/lib/postgresql/${entry.name}/bin`);
    }
  } catch {
    // not installed here
  }
  candidates.sort((a, b) => Number(b.split("/")[3]) - Number(a.split("/")[3]));
  for (const bin of [...candidates, ...(Deno.env.get("PG_BIN") ? [Deno.env.get("PG_BIN")!] : [])]) {
    try {
      Deno.statSync(`${bin}/initdb`);
      Deno.statSync(`${bin}/pg_ctl`);
      return bin;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** Why the queue tests cannot run here, or `undefined` when they can. */
export function postgresMissing(): string | undefined {
  if (findPostgresBin() === undefined) {
    return "PostgreSQL is not installed (apt-get install postgresql; or set PG_BIN to its bin/)";
  }
  if (Deno.uid() === 0 && unprivilegedUser() === undefined) {
    return "running as root with neither a postgres nor a nobody account to run the server as";
  }
  return undefined;
}

function unprivilegedUser(): { name: string; uid: number; gid: number } | undefined {
  const text = Deno.readTextFileSync("/etc/passwd");
  for (const name of ["postgres", "nobody"]) {
    const line = text.split("\n").find((l) => l.startsWith(`${name}:`));
    if (line === undefined) continue;
    const fields = line.split(":");
    return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return undefined;
}

async function run(args: string[], asUser?: string): Promise<string> {
  const [command, ...rest] = asUser === undefined ? args : ["runuser", "-u", asUser, "--", ...args];
  const out = await new Deno.Command(command!, { args: rest, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${args.join(" ")} failed (${out.code}): ${text}`);
  return text;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Initialise and start a server.
 *
 * @returns The server.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(postgresMissing());
  const dir = await Deno.makeTempDir({ prefix: "flops-fit-pg-" });
  let user: string | undefined;
  if (Deno.uid() === 0) {
    const account = unprivilegedUser()!;
    user = account.name;
    await Deno.chown(dir, account.uid, account.gid);
    await Deno.chmod(dir, 0o700);
  }
  const data = `${dir}/data`;
  await run([`${bin}/initdb`, "-D", data, "-U", "flops", "--auth=trust", "-E", "UTF8"], user);
  const port = freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off ` +
    `-c max_connections=200 -c shared_buffers=32MB`;
  const start = () =>
    run(
      [`${bin}/pg_ctl`, "-D", data, "-o", options, "-l", `${dir}/log`, "-w", "-t", "60", "start"],
      user,
    );
  await start();
  const urlOf = (database: string) => `postgres://flops@127.0.0.1:${port}/${database}`;
  const stop = () => run([`${bin}/pg_ctl`, "-D", data, "-m", "fast", "-w", "stop"], user);
  let running = true;
  return {
    url: urlOf("postgres"),
    urlOf,
    port,
    async createDatabase(name) {
      await run([
        `${bin}/psql`,
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "flops",
        "-d",
        "postgres",
        "-q",
        "-c",
        `CREATE DATABASE "${name}"`,
      ]);
    },
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => "");
      running = false;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
