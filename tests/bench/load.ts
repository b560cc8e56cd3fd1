/**
 * Load bench: `/v1/fit` requests per second and latency on loopback, with and without a
 * training running, plus `/healthz` latency sampled alongside.
 *
 * The server runs in its own process (`tests/lib/service/fixtures/real_server.ts`), so client work does not share its
 * thread. Each scenario runs `CLIENTS` concurrent clients in closed loop (each sends its next
 * request when the previous answer is read) for `DURATION_S`, after a warm-up; a prober
 * sends `GET /healthz` every 100 ms meanwhile. Every non-2xx answer or network failure counts
 * as an error. Scenarios repeat `REPEATS` times; the table shows medians over repeats.
 *
 * The training is a real `POST /v1/train` (GPT) running in its worker through the app's pool.
 *
 * @module
 */

import { machineLine } from "./report.ts";

/** Concurrent clients per scenario. */
const CLIENTS = 8;
/** Measured seconds per scenario. */
const DURATION_S = 5;
/** Warm-up before each measurement, in seconds (JIT, connection pool). */
const WARMUP_S = 1;
/** Seconds of one lone client per repeat: the latency of one request on a quiet server. */
const SINGLE_CLIENT_S = 2;
/** Repeats per scenario; medians are reported. */
const REPEATS = 3;
/** Time for a training's worker to load tfjs and reach its step loop, in milliseconds. */
const TRAINING_SETTLE_MS = 3_000;
/** Gap between `/healthz` probes, in milliseconds. */
const PROBE_EVERY_MS = 100;

/**
 * A fit request of realistic size: 5 IsoFLOP budgets × 7 sizes from the Chinchilla law
 * L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 (no noise), D = C / (6N); bootstrap off so the
 * bench measures the service path and one full Approach 2 + 3 fit.
 */
export function fitPayload(): {
  points: { N: number; D: number; loss: number }[];
  bootstrap: number;
} {
  const points = [];
  for (const flops of [1e17, 3e17, 1e18, 3e18, 1e19]) {
    const nOpt = Math.sqrt(flops / (6 * 20));
    for (let k = -3; k <= 3; k++) {
      const N = nOpt * Math.exp(0.5 * k);
      const D = flops / (6 * N);
      const loss = 1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28;
      points.push({ N, D, loss });
    }
  }
  return { points, bootstrap: 0 };
}

/** Result of one closed-loop run. */
export interface LoadResult {
  /** Requests answered in the window. */
  requests: number;
  /** Non-2xx answers and network failures. */
  errors: number;
  /** Requests per second. */
  rps: number;
  /** Median latency, ms. */
  p50_ms: number;
  /** 99th-percentile latency, ms. */
  p99_ms: number;
  /** Slowest request, ms. */
  max_ms: number;
}

/**
 * The q-quantile of sorted samples (nearest rank).
 *
 * @param sorted Ascending samples.
 * @param q Quantile in [0, 1].
 * @returns The sample at rank ⌈q·n⌉, or NaN when empty.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

function summarize(latencies: number[], errors: number, seconds: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / seconds,
    p50_ms: quantile(latencies, 0.5),
    p99_ms: quantile(latencies, 0.99),
    max_ms: latencies.at(-1) ?? NaN,
  };
}

/**
 * Run `clients` closed-loop clients against one request for `seconds`.
 *
 * @param make Builds each request.
 * @param options Client count and duration.
 * @returns Counts and latency quantiles.
 */
export async function closedLoop(
  make: () => Request,
  options: { clients: number; seconds: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + options.seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(make());
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - t0);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  return summarize(latencies, errors, options.seconds);
}

async function probe(base: string, until: Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let done = false;
  until.finally(() => done = true);
  const t00 = performance.now();
  while (!done) {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      if (res.ok) latencies.push(performance.now() - t0);
      else errors++;
    } catch {
      errors++;
    }
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
  }
  return summarize(latencies, errors, (performance.now() - t00) / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function startServerProcess(): Promise<
  { base: string; dataset: string; stop: () => Promise<void> }
> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../lib/service/fixtures/real_server.ts", import.meta.url).pathname,
    ],
    env: {
      FLOPS_FIT_LOG_REQUESTS: "false",
      FLOPS_FIT_MAX_CONCURRENT_TRAININGS: "1",
      FLOPS_FIT_MAX_TRAIN_WALL_S: "600",
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let port: number | undefined;
  let dataset = "";
  while (port === undefined) {
    const { done, value } = await reader.read();
    if (done) throw new Error("load server exited before listening");
    buffer += value;
    const line = buffer.split("\n").slice(0, -1).find((l) => l.includes('"listening"'));
    if (line !== undefined) {
      const parsed = JSON.parse(line);
      port = Number(parsed.port);
      dataset = String(parsed.dataset);
    }
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  return {
    base: `http://127.0.0.1:${port}`,
    dataset,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** The training started in the background for the "training running" scenario. */
async function startTraining(
  base: string,
  dataset: string,
): Promise<{ label: string; stop: () => Promise<void> }> {
  const controller = new AbortController();
  // GPT d_model 64 (4 layers by the size rule), context 64, batch 16: a real training that
  // keeps one core busy for far longer than a scenario; it is cancelled (client gone) after.
  const body = {
    family: "gpt",
    size: 64,
    config: { context: 64 },
    dataset,
    budget: { steps: 100_000 },
    batch_size: 16,
    seed: 0,
  };
  const label = `real \`POST /v1/train\` (GPT size 64, context 64, batch 16, ${dataset}) ` +
    "in its worker, cancelled after each scenario";
  const response = fetch(`${base}/v1/train`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: controller.signal,
  }).then(async (res) => {
    if (!res.ok) throw new Error(`training refused: ${res.status} ${await res.text()}`);
  });
  let failed: unknown;
  response.catch((e) => failed = e);
  // Wait until the pool reports it running and its worker has had time to start training.
  for (let i = 0; i < 600; i++) {
    const health = await (await fetch(`${base}/healthz`)).json();
    if (health.training?.active === 1) break;
    if (failed !== undefined) throw failed;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, TRAINING_SETTLE_MS));
  if (failed !== undefined) throw failed;
  return {
    label,
    stop: async () => {
      controller.abort();
      await response.catch(() => {});
    },
  };
}

/**
 * Run the load bench and return its BENCHMARKS.md section.
 *
 * @returns Markdown with the figures.
 */
export async function run(): Promise<string> {
  const server = await startServerProcess();
  const { base, dataset } = server;
  const fitBody = JSON.stringify(fitPayload());
  const openapi = await (await fetch(`${base}/openapi.json`)).json();
  const hasFit = openapi.paths?.["/v1/fit"]?.post !== undefined;
  const target = hasFit ? "POST /v1/fit" : "GET /healthz";
  const make = hasFit
    ? () =>
      new Request(`${base}/v1/fit`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: fitBody,
      })
    : () => new Request(`${base}/healthz`);
  const rows: Record<string, { load: LoadResult[]; probe: LoadResult[] }> = {
    idle: { load: [], probe: [] },
    training: { load: [], probe: [] },
  };
  const single: LoadResult[] = [];
  let trainingLabel = "";
  try {
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const scenario of ["idle", "training"] as const) {
        const training = scenario === "training" ? await startTraining(base, dataset) : undefined;
        if (training) trainingLabel = training.label;
        try {
          await closedLoop(make, { clients: CLIENTS, seconds: WARMUP_S });
          if (scenario === "idle") {
            single.push(await closedLoop(make, { clients: 1, seconds: SINGLE_CLIENT_S }));
          }
          const measured = closedLoop(make, { clients: CLIENTS, seconds: DURATION_S });
          const probed = probe(base, measured);
          rows[scenario]!.load.push(await measured);
          rows[scenario]!.probe.push(await probed);
        } finally {
          await training?.stop();
        }
        // Let the cancelled worker go before the next scenario.
        for (let i = 0; i < 50; i++) {
          const health = await (await fetch(`${base}/healthz`)).json();
          if (health.training.active === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  } finally {
    await server.stop();
  }
  const fmt = (x: number, digits = 1) => Number.isFinite(x) ? x.toFixed(digits) : "–";
  const line = (name: string, results: LoadResult[]) =>
    `| ${name} | ${fmt(median(results.map((r) => r.rps)))} | ${
      fmt(median(results.map((r) => r.p50_ms)))
    } | ${fmt(median(results.map((r) => r.p99_ms)))} | ${
      fmt(Math.max(...results.map((r) => r.max_ms)))
    } | ${results.reduce((s, r) => s + r.requests, 0)} | ${
      results.reduce((s, r) => s + r.errors, 0)
    } |`;
  return [
    "## Load: requests per second and latency under load",
    "",
    `${machineLine()} ` +
    `${CLIENTS} closed-loop clients × ${DURATION_S} s on loopback (after ${WARMUP_S} s warm-up), ` +
    `server in its own process; medians over ${REPEATS} repeats (max over all; requests and ` +
    `errors summed). Target: \`${target}\`${
      hasFit ? " with 35 points (5 budgets × 7 sizes), bootstrap 0" : ""
    }. \`/healthz\` probed every ${PROBE_EVERY_MS} ms alongside. Training: ${trainingLabel}.`,
    "",
    "| scenario | req/s | p50 ms | p99 ms | max ms | requests | errors |",
    "| -------- | ----: | -----: | -----: | -----: | -------: | -----: |",
    line(`${target}, 1 client, no training`, single),
    line(`${target}, no training`, rows.idle!.load),
    line(`${target}, training running`, rows.training!.load),
    line("`GET /healthz` probe, no training", rows.idle!.probe),
    line("`GET /healthz` probe, training running", rows.training!.probe),
    "",
    "Fits run on one fit worker (`FLOPS_FIT_FIT_WORKERS=1`), so with 8 clients a fit waits for " +
    "the ones ahead of it: p50 ≈ 8 × the single-client latency; the fitter's own speed sets " +
    "req/s. `/healthz` is answered by the request thread, which neither fits nor trains. On " +
    "this 2-core machine the training worker, the fit worker, the clients and the request " +
    "thread share the cores (and other jobs were running), which is what the tails show.",
    "",
    "Reproduce: `deno task bench load`.",
  ].join("\n");
}
