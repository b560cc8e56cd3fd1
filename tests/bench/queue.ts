/**
 * Queue benchmark: what the Postgres job queue costs per point, with points that train in no
 * time (the mock law, no delay), so every millisecond measured is the queue's. On a PostgreSQL
 * server the bench starts on loopback (as the queue tests do), with 1, 4 and 16 worker processes
 * (`deno task worker`), it reports:
 *
 * - points per second from enqueue to the last result recorded (a backlog of P points);
 * - per point, from pg-boss's own timestamps (database clock): enqueue → claimed while a worker
 *   idles (bound by its 0.5 s idle poll), and claimed → recorded (the worker's claim update, the
 *   mock, and the transaction that completes the job and writes the result).
 *
 * @module
 */
import { startTestPostgres } from "../lib/queue/_postgres.ts";
import { postgresMissing } from "../lib/queue/_postgres.ts";
import { type Child, startWorkers, stopWorkers } from "../lib/queue/_procs.ts";
import { openQueue, QUEUE } from "../../lib/queue/db.ts";
import { enqueueStudy, waitForResults } from "../lib/queue/_study.ts";
import { resolveSweepConfig, type SweepConfig } from "../../lib/sweep/config.ts";
import { median } from "../../lib/stats.ts";
import { machineLine } from "./report.ts";

/** Worker counts measured. */
const WORKERS = [1, 4, 16];

/** Job policy of the measured studies: no retries, leases far longer than any point. */
const POLICY = { retries: 0, timeoutS: 60, leaseS: 60, backoffS: 1 };

function studyConfig(name: string, budgets: number[], sizesPerBudget: number): SweepConfig {
  return resolveSweepConfig({
    overrides: {
      name,
      budgets,
      sizes_per_budget: sizesPerBudget,
      width: 200,
      mock: true,
      mock_law: { delay_ms: 0 } as SweepConfig["mock_law"],
    },
  });
}

/**
 * Run the benchmark.
 *
 * @returns A markdown section.
 * @throws {Error} When PostgreSQL is not installed.
 */
export async function run(): Promise<string> {
  const missing = postgresMissing();
  if (missing !== undefined) throw new Error(`queue bench needs PostgreSQL: ${missing}`);
  const machine = machineLine();
  const server = await startTestPostgres();
  const rows: string[] = [];
  let idle: { claimMs: number; recordMs: number; n: number } | undefined;
  try {
    await server.createDatabase("bench");
    const url = server.urlOf("bench");
    const queue = await openQueue(url, { role: "bench", supervise: false });
    try {
      const budgets = Array.from({ length: 12 }, (_, i) => 1e11 * 1.5 ** i);
      for (const n of WORKERS) {
        const workers: Child[] = await startWorkers(url, n);
        try {
          if (n === 1) idle = await idleLatency(queue);
          const config = studyConfig(`throughput-${n}`, budgets, 20);
          const started = performance.now();
          const { study, points } = await enqueueStudy(queue, config, POLICY);
          await waitForResults(queue, study, points.length, 20);
          const elapsedS = (performance.now() - started) / 1000;
          const timing = await jobTimings(queue, study);
          rows.push(
            `| ${n} | ${points.length} | ${(points.length / elapsedS).toFixed(1)} | ` +
              `${(elapsedS * 1000 / points.length).toFixed(1)} | ${timing.runMs.toFixed(1)} |`,
          );
        } finally {
          await stopWorkers(workers);
        }
      }
    } finally {
      await queue.close();
    }
  } finally {
    await server.destroy();
  }
  return [
    "## Job queue (Postgres, pg-boss): overhead per point",
    "",
    machine,
    "",
    "PostgreSQL started by the bench on loopback (fsync off, as in the tests); worker processes",
    "are `deno task worker` on the same host, so with 16 of them the two cores are shared by",
    "16 workers, the server and the bench. Points are mocked with no delay: every millisecond is",
    "the queue's (claim, heartbeat bookkeeping, the transaction that completes the job and",
    "writes the result).",
    "",
    idle === undefined ? "" : [
      `Idle worker, one point enqueued at a time (median of ${idle.n}): enqueue → claimed ` +
      `${idle.claimMs.toFixed(0)} ms (bound by the idle poll, 0.5 s), claimed → recorded ` +
      `${idle.recordMs.toFixed(1)} ms.`,
      "",
    ].join("\n"),
    "A backlog of points enqueued at once, until the last is recorded:",
    "",
    "| workers | points | points/s | ms per point (wall / points) | claimed → recorded, median ms |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}

/** Median of pg-boss's started_on − created_on and completed_on − started_on for a study. */
async function jobTimings(
  queue: Awaited<ReturnType<typeof openQueue>>,
  study: string,
): Promise<{ claimMs: number; runMs: number }> {
  const { rows } = await queue.db.executeSql(
    `SELECT extract(epoch FROM started_on - created_on) * 1000 AS claim_ms,
       extract(epoch FROM completed_on - started_on) * 1000 AS run_ms
     FROM pgboss.job WHERE name = $1 AND data->>'study' = $2 AND state = 'completed'`,
    [QUEUE, study],
  );
  return {
    claimMs: median(rows.map((r: Record<string, unknown>) => Number(r.claim_ms))),
    runMs: median(rows.map((r: Record<string, unknown>) => Number(r.run_ms))),
  };
}

/** Enqueue small studies one after another on an idle worker; per-point latencies. */
async function idleLatency(
  queue: Awaited<ReturnType<typeof openQueue>>,
): Promise<{ claimMs: number; recordMs: number; n: number }> {
  const claim: number[] = [];
  const record: number[] = [];
  const repeats = 7;
  for (let i = 0; i < repeats; i++) {
    // One point per study: a single budget and explicit single size.
    const config = resolveSweepConfig({
      overrides: {
        name: `idle-${i}`,
        budgets: [1e11 * (1 + i / 10)],
        sizes: [16],
        mock: true,
        mock_law: { delay_ms: 0 } as SweepConfig["mock_law"],
      },
    });
    // Let the worker go idle (its next fetch finds nothing and it sleeps) before enqueueing.
    await new Promise((r) => setTimeout(r, 700 + 97 * i));
    const { study, points } = await enqueueStudy(queue, config, POLICY);
    await waitForResults(queue, study, points.length, 10);
    const t = await jobTimings(queue, study);
    claim.push(t.claimMs);
    record.push(t.runMs);
  }
  return { claimMs: median(claim), recordMs: median(record), n: repeats };
}
