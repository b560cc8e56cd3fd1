/**
 * The Postgres job queue against a real server started by the test (skipped where PostgreSQL is
 * not installed): three worker processes, coordinators killed with SIGKILL and restarted, a
 * worker killed mid-point, the database stopped mid-study, two coordinators at once, retries
 * then failure, and a late result from a lapsed lease. Points are mocked (a known law with a
 * delay), so each scenario takes seconds.
 */
import assert from "node:assert/strict";
import pg from "pg";
import { postgresMissing, startTestPostgres, type TestPostgres } from "./_postgres.ts";
import { type Child, spawnDeno, startWorkers, stopWorkers } from "./_procs.ts";
import { enqueueStudy } from "./_study.ts";
import { openQueue, QUEUE } from "../../../lib/queue/db.ts";
import type { PointJob } from "../../../lib/queue/store.ts";
import { recordResult, startQueueWorker } from "../../../lib/queue/worker.ts";
import { runQueuedSweep } from "../../../lib/queue/coordinator.ts";
import { resolveSweepConfig, type SweepFile } from "../../../lib/sweep/config.ts";
import { studyEnvironment } from "../../../lib/sweep/cli.ts";
import { toRecord } from "../../../lib/sweep/runner.ts";
import type { Job } from "pg-boss";

const missing = postgresMissing();
if (missing !== undefined) console.warn(`queue tests skipped: ${missing}`);

type Row = Record<string, unknown>;

async function query(url: string, sql: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Results and jobs of a study, for the exactly-once checks. */
async function studyRows(url: string, study: string): Promise<{
  results: { key: string; attempt: number; worker: string }[];
  jobs: { key: string; n: number }[];
}> {
  const results = await query(
    url,
    `SELECT key, attempt, worker FROM flops_fit.results WHERE study = $1 ORDER BY key`,
    [study],
  );
  const jobs = await query(
    url,
    `SELECT data->>'key' AS key, count(*)::int AS n FROM pgboss.job
     WHERE name = $1 AND data->>'study' = $2 GROUP BY 1`,
    [QUEUE, study],
  );
  return {
    results: results as { key: string; attempt: number; worker: string }[],
    jobs: jobs as { key: string; n: number }[],
  };
}

async function jsonlKeys(dir: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${dir}/results.jsonl`);
  return text.trim().split("\n").map((line) => JSON.parse(line).key);
}

async function studyFile(dir: string, file: SweepFile): Promise<string> {
  const path = `${dir}/${file.name}.json`;
  await Deno.writeTextFile(path, JSON.stringify({ bootstrap: 10, mock: true, ...file }));
  return path;
}

function coordinator(url: string, config: string, out: string, extra: string[] = []): Child {
  return spawnDeno("lib/cli/sweep.ts", [
    "--queue",
    url,
    "--config",
    config,
    "--out",
    out,
    "--lease",
    "10",
    ...extra,
  ]);
}

/** Nine points (three budgets × three sizes), each "training" for `delayMs`. */
function nine(name: string, delayMs: number): SweepFile {
  return {
    name,
    budgets: [1e11, 3e11, 1e12],
    sizes_per_budget: 3,
    mock_law: { delay_ms: delayMs },
  } as SweepFile;
}

Deno.test({
  name: "queue: a real Postgres, three workers, every fault the issue lists",
  ignore: missing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const server: TestPostgres = await startTestPostgres();
    const tmp = await Deno.makeTempDir({ prefix: "flops-fit-queue-" });
    try {
      await server.createDatabase("studies");
      const url = server.urlOf("studies");

      await t.step(
        "kill -9 the coordinator mid-study, start it again: every point once",
        async () => {
          const config = await studyFile(tmp, nine("coord-kill", 700));
          const out = `${tmp}/coord-kill`;
          const workers = await startWorkers(url, 3);
          try {
            const first = coordinator(url, config, out);
            await first.waitFor(/9 points enqueued/);
            await first.waitFor(/^done /m);
            first.kill("SIGKILL");
            await first.status;
            const second = coordinator(url, config, out);
            const status = await second.status;
            assert.equal(status.code, 0, second.output());
            assert.match(second.output(), /0 points enqueued/);
            assert.match(second.output(), /# Scaling study: coord-kill/);
            const { results, jobs } = await studyRows(url, "coord-kill-mock");
            assert.equal(results.length, 9);
            assert.equal(jobs.length, 9);
            assert.ok(jobs.every((j) => j.n === 1), "a point was enqueued twice");
            const keys = await jsonlKeys(out);
            assert.equal(keys.length, 9);
            assert.equal(new Set(keys).size, 9);
            for (const file of ["fit.json", "summary.md", "report.html"]) {
              await Deno.stat(`${out}/${file}`);
            }

            const status2 = spawnDeno("lib/cli/sweep.ts", [
              "--queue",
              url,
              "--config",
              config,
              "--status",
            ]);
            assert.equal((await status2.status).code, 0, status2.output());
            assert.match(status2.output(), /9 points: 9 recorded, 0 running/);
            const unknown = spawnDeno("lib/cli/sweep.ts", [
              "--queue",
              url,
              "--config",
              await studyFile(tmp, nine("never-enqueued", 0)),
              "--status",
            ]);
            assert.equal((await unknown.status).code, 1);
            assert.match(unknown.output(), /not in postgres:\/\/flops@127\.0\.0\.1/);
            const after = await studyRows(url, "never-enqueued-mock");
            assert.equal(after.jobs.length, 0, "--status enqueued points");
          } finally {
            await stopWorkers(workers);
          }
        },
      );

      await t.step(
        "kill -9 a worker mid-point: re-run after its lease lapses, recorded once",
        async () => {
          const config = await studyFile(tmp, {
            name: "worker-kill",
            budgets: [1e11, 3e11],
            sizes_per_budget: 3,
            mock_law: { delay_ms: 3000 },
          } as SweepFile);
          const out = `${tmp}/worker-kill`;
          const workers = await startWorkers(url, 3);
          try {
            const coord = coordinator(url, config, out);
            const victim = workers[0]!;
            const [, key] = await victim.waitFor(/start worker-kill-mock (\S+) \(attempt 1\)/);
            victim.kill("SIGKILL");
            await victim.status;
            const status = await coord.status;
            assert.equal(status.code, 0, coord.output());
            const { results, jobs } = await studyRows(url, "worker-kill-mock");
            assert.equal(results.length, 6);
            assert.ok(jobs.every((j) => j.n === 1));
            const rerun = results.find((r) => r.key === key);
            assert.ok(rerun, `no result for ${key}`);
            assert.equal(rerun.attempt, 2, "the killed point was not re-run");
            assert.ok(!rerun.worker.startsWith(`${Deno.hostname()}:${victim.pid}/`));
            const keys = await jsonlKeys(out);
            assert.deepEqual([...keys].sort(), results.map((r) => r.key).sort());
          } finally {
            await stopWorkers(workers.slice(1));
          }
        },
      );

      await t.step(
        "stop Postgres for a few seconds mid-study: everyone reconnects and finishes",
        async () => {
          const config = await studyFile(tmp, nine("outage", 1200));
          const out = `${tmp}/outage`;
          const workers = await startWorkers(url, 3);
          try {
            const coord = coordinator(url, config, out);
            await coord.waitFor(/^done /m);
            await server.stop();
            await new Promise((resolve) => setTimeout(resolve, 3000));
            await server.start();
            const status = await coord.status;
            assert.equal(status.code, 0, coord.output());
            assert.match(coord.output(), /database postgres:\/\/flops@\S+ unreachable: .*retrying/);
            assert.match(coord.output(), /reachable again/);
            const { results, jobs } = await studyRows(url, "outage-mock");
            assert.equal(results.length, 9);
            assert.ok(jobs.every((j) => j.n === 1));
            const keys = await jsonlKeys(out);
            assert.equal(new Set(keys).size, 9);
            assert.equal(keys.length, 9);
          } finally {
            await stopWorkers(workers);
          }
        },
      );

      await t.step("two coordinators on one study at once: no duplicates", async () => {
        const config = await studyFile(tmp, nine("twins", 300));
        const out = `${tmp}/twins`;
        const workers = await startWorkers(url, 3);
        try {
          const a = coordinator(url, config, out);
          const b = coordinator(url, config, out);
          const [sa, sb] = await Promise.all([a.status, b.status]);
          assert.equal(sa.code, 0, a.output());
          assert.equal(sb.code, 0, b.output());
          const enqueued = [a, b].map((c) => Number(c.output().match(/(\d+) points enqueued/)![1]));
          assert.deepEqual(enqueued.sort(), [0, 9]);
          const { results, jobs } = await studyRows(url, "twins-mock");
          assert.equal(results.length, 9);
          assert.equal(jobs.length, 9);
          assert.ok(jobs.every((j) => j.n === 1));
          const keys = await jsonlKeys(out);
          assert.equal(keys.length, 9);
          assert.equal(new Set(keys).size, 9);
        } finally {
          await stopWorkers(workers);
        }
      });

      await t.step(
        "trainer failures: retried with back-off to the limit, then failed with the error",
        async () => {
          // A trainer that refuses one size for good (422) and fails the others (503) every time.
          const server503 = Deno.serve(
            { hostname: "127.0.0.1", port: 0, onListen() {} },
            async (req) => {
              const body = await req.json();
              const status = body.size === 24 ? 422 : 503;
              return Response.json({ detail: `stub says ${status}` }, { status });
            },
          );
          const trainer = `http://127.0.0.1:${server503.addr.port}`;
          const config = resolveSweepConfig({
            overrides: {
              name: "flaky",
              budgets: [3e11],
              sizes_per_budget: 3,
              retries: 1,
              out: `${tmp}/flaky`,
            },
          });
          const lines: string[] = [];
          const worker = await startQueueWorker({
            url,
            trainerUrl: trainer,
            concurrency: 3,
            superviseIntervalS: 1,
            log: (l) => lines.push(l),
          });
          try {
            const outcome = await runQueuedSweep(config, studyEnvironment(config), {
              url,
              leaseS: 10,
              write: () => {},
              tty: false,
              pollMs: 200,
            });
            assert.equal(outcome.run?.failed.length, 3);
            const rows = await query(
              url,
              "SELECT planned->>'size' AS size, attempt, last_error FROM flops_fit.points WHERE study = 'flaky'",
            );
            for (const row of rows) {
              if (row.size === "24") {
                assert.equal(row.attempt, 1, "a permanent failure was retried");
                assert.match(String(row.last_error), /stub says 422/);
              } else {
                assert.equal(row.attempt, 2, "a failing point was not retried up to the limit");
                assert.match(String(row.last_error), /stub says 503/);
              }
            }
            for (const f of outcome.run!.failed) assert.match(f.error, /stub says (422|503)/);
          } finally {
            await worker.stop(1);
            await server503.shutdown();
          }
        },
      );

      await t.step(
        "a late result from a lapsed lease is not recorded; the current attempt's is, once",
        async () => {
          const config = resolveSweepConfig({
            overrides: { name: "late", budgets: [3e11], sizes_per_budget: 3, mock: true },
          });
          const queue = await openQueue(url, { role: "test", supervise: false });
          try {
            const { study, points } = await enqueueStudy(queue, config, {
              retries: 3,
              timeoutS: 60,
              leaseS: 10,
              backoffS: 0,
            });
            const take = async () => {
              for (let i = 0; i < 50; i++) {
                const jobs = await queue.boss.fetch<PointJob>(QUEUE, { batchSize: 1 });
                if (jobs[0] !== undefined && jobs[0].data.study === study) return jobs[0];
                if (jobs[0] !== undefined) {
                  await queue.boss.fail(QUEUE, jobs[0], { message: "not mine" });
                }
                await new Promise((r) => setTimeout(r, 100));
              }
              throw new Error("no job");
            };
            const old: Job<PointJob> = await take();
            // The old lease lapses (what the supervisor does when heartbeats stop).
            await queue.boss.fail(QUEUE, old, { message: "lease lapsed" });
            let current = await take();
            while (current.data.key !== old.data.key) current = await take();
            assert.equal(current.retryCount, old.retryCount + 1);
            const point = points.find((p) => p.key === old.data.key)!;
            const record = toRecord(
              point,
              { loss: 3, flops: point.flops, samples: point.samples },
              "test",
              0.1,
            );
            const late = await recordResult({
              boss: queue.boss,
              db: queue.db,
              job: old,
              study,
              record,
            });
            assert.match(late, /lapsed/);
            assert.equal((await studyRows(url, study)).results.length, 0);
            const now = await recordResult({
              boss: queue.boss,
              db: queue.db,
              job: current,
              study,
              record,
            });
            assert.equal(now, "recorded");
            const again = await recordResult({
              boss: queue.boss,
              db: queue.db,
              job: current,
              study,
              record,
            });
            assert.notEqual(again, "recorded");
            const { results } = await studyRows(url, study);
            assert.equal(results.length, 1);
            assert.equal(results[0].attempt, current.retryCount + 1);
          } finally {
            await queue.close();
          }
        },
      );
    } finally {
      await server.destroy();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("queue: a malformed or unreachable database is a clear error naming it, exit 2", async () => {
  const secret = "s3cr3t-pw";
  const cases: [string, string[], RegExp][] = [
    ["lib/cli/sweep.ts", ["--mock", "--queue", "not a url"], /--queue: "not a url" is not a URL/],
    [
      "lib/cli/sweep.ts",
      ["--mock", "--queue", `mysql://u:${secret}@h/db`],
      /not a postgres:\/\/ URL/,
    ],
    [
      "lib/cli/sweep.ts",
      ["--mock", "--queue", `postgres://u:${secret}@127.0.0.1:1/db`],
      /cannot use the database at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/,
    ],
    [
      "lib/queue/worker_cli.ts",
      ["--queue", `postgres://u:${secret}@127.0.0.1:1/db`],
      /cannot use the database at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/,
    ],
    ["lib/queue/worker_cli.ts", ["--queue", "postgres://"], /names no host/],
  ];
  await Promise.all(cases.map(async ([script, args, pattern]) => {
    const child = spawnDeno(script, args);
    const status = await child.status;
    assert.equal(status.code, 2, child.output());
    assert.match(child.output(), pattern);
    assert.ok(!child.output().includes(secret), `the password leaked: ${child.output()}`);
  }));
});
