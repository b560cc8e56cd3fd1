/**
 * The live progress display of a sweep: points done/total, the points running (worker, size,
 * budget, step, loss so far) and an ETA. On a TTY it redraws a small block in place; otherwise it
 * prints one plain line per event (and a progress line per running point at most every 15 s).
 *
 * The ETA counts each point's cost, not points (they differ in cost by orders of magnitude): with a
 * measured cost model (`estimate.ts`: the planned steps × the step time measured at the point's
 * FLOPs per step, plus a fixed time per point) a point costs seconds, and the ETA is the remaining
 * cost × how long the finished work really took per second of its predicted cost (tempered, early
 * on, by the measurement itself). Without one, a point costs its samples (tiny models are bound by
 * per-sample overheads) and the ETA is the remaining samples over the sample rate so far. Either
 * way a running point counts the fraction of its steps already done.
 *
 * @module
 */
import type { RunEvent } from "./runner.ts";
import type { PointProgress } from "./trainer.ts";
import type { PlannedPoint } from "../plan/mod.ts";
import { sci } from "./format.ts";

/** Options of {@linkcode createProgress}. */
export interface ProgressOptions {
  /** Points still to run. */
  points: readonly PlannedPoint[];
  /** Points already finished (resumed). */
  skipped: number;
  /** Redraw in place (a TTY) or print plain lines. */
  tty: boolean;
  /** Where text goes. @default stdout */
  write?: (text: string) => void;
  /** Clock in ms. @default performance.now */
  now?: () => number;
  /**
   * Measured seconds a point should take (`pointCostS` of `estimate.ts`); without it a point
   * costs its samples and the rate comes from the points already done.
   */
  cost?: (point: PlannedPoint) => number;
}

/** A progress display. */
export interface Progress {
  /** Feed a runner event. */
  handle(event: RunEvent): void;
  /** Final redraw and a newline. */
  finish(): void;
  /** The status line (done/total, ETA), for tests. */
  statusLine(): string;
  /** Seconds of work left as the ETA estimates it now (`undefined` before it can). */
  remainingS(): number | undefined;
}

/**
 * Weight of the measured cost model against the finished points' own pace, in seconds of
 * predicted cost (as a fraction of the whole): the ETA trusts the measurement until about this
 * much work is done, then mostly the pace.
 */
const PRIOR_FRACTION = 0.1;

/** Shortest interval between TTY redraws, ms (10 Hz is smooth and cheap). */
const REDRAW_MS = 100;
/** Interval between plain progress lines per running point, ms. */
const PLAIN_PROGRESS_MS = 15_000;

interface Running {
  point: PlannedPoint;
  worker: string;
  progress: PointProgress;
  lastPlainMs: number;
}

/**
 * Create a progress display.
 *
 * @param options Points, TTY mode and output.
 * @returns The display.
 */
export function createProgress(options: ProgressOptions): Progress {
  const encoder = new TextEncoder();
  const write = options.write ?? ((text: string) => Deno.stdout.writeSync(encoder.encode(text)));
  const now = options.now ?? (() => performance.now());
  const total = options.points.length + options.skipped;
  const calibrated = options.cost !== undefined;
  const cost = options.cost ?? ((p: PlannedPoint) => p.samples);
  const totalCost = options.points.reduce((s, p) => s + cost(p), 0);
  const started = now();
  let done = options.skipped;
  let failed = 0;
  let doneCost = 0;
  let lastDraw = -Infinity;
  let drawnLines = 0;
  const running = new Map<string, Running>();

  function runningCost(): number {
    let sum = 0;
    for (const r of running.values()) {
      const { step, steps } = r.progress;
      if (step !== undefined && steps !== undefined && steps > 0) {
        sum += cost(r.point) * Math.min(1, step / steps);
      }
    }
    return sum;
  }

  function remainingS(): number | undefined {
    const elapsedS = (now() - started) / 1000;
    const spent = doneCost + runningCost();
    const left = Math.max(0, totalCost - spent);
    if (calibrated) {
      const prior = PRIOR_FRACTION * totalCost;
      return prior + spent <= 0 ? left : left * (prior + elapsedS) / (prior + spent);
    }
    if (spent <= 0 || elapsedS <= 0) return undefined;
    return left / (spent / elapsedS);
  }

  function eta(): string {
    const left = remainingS();
    return left === undefined ? "ETA —" : `ETA ${formatDuration(left)}`;
  }

  function statusLine(): string {
    const elapsed = formatDuration((now() - started) / 1000);
    return `[${done}/${total}] ${failed > 0 ? `${failed} failed · ` : ""}` +
      `${running.size} running · ${elapsed} elapsed · ${eta()}`;
  }

  function runningLine(r: Running): string {
    const { step, steps, loss } = r.progress;
    const stepText = step === undefined ? "starting" : `step ${step}${steps ? `/${steps}` : ""}`;
    const lossText = loss === undefined ? "" : ` loss ${loss.toFixed(4)}`;
    return `  ${describe(r.point)} on ${r.worker}: ${stepText}${lossText}`;
  }

  function draw(force = false): void {
    if (!options.tty) return;
    const t = now();
    if (!force && t - lastDraw < REDRAW_MS) return;
    lastDraw = t;
    const lines = [statusLine(), ...[...running.values()].map(runningLine)];
    // Move up over the previous block, clear it, redraw.
    let text = drawnLines > 0 ? `\x1b[${drawnLines}F` : "";
    text += lines.map((l) => `\x1b[2K${l}`).join("\n") + "\n";
    text += "\x1b[J";
    drawnLines = lines.length;
    write(text);
  }

  function plain(line: string): void {
    if (options.tty) {
      // Print the event above the live block.
      write(`${drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : ""}${line}\n`);
      drawnLines = 0;
      draw(true);
    } else {
      write(`${line}\n`);
    }
  }

  return {
    handle(event) {
      switch (event.type) {
        case "start":
          running.set(event.point.key, {
            point: event.point,
            worker: event.worker,
            progress: {},
            lastPlainMs: now(),
          });
          if (!options.tty) {
            plain(
              `start ${describe(event.point)} on ${event.worker}` +
                (event.attempt > 1 ? ` (attempt ${event.attempt})` : ""),
            );
          }
          draw(true);
          break;
        case "progress": {
          const r = running.get(event.point.key);
          if (r === undefined) break;
          r.progress = { ...r.progress, ...event.progress };
          if (!options.tty && now() - r.lastPlainMs >= PLAIN_PROGRESS_MS) {
            r.lastPlainMs = now();
            plain(runningLine(r).trim() + ` · ${eta()}`);
          }
          draw();
          break;
        }
        case "done":
          running.delete(event.point.key);
          done++;
          doneCost += cost(event.point);
          plain(
            `done  ${describe(event.point)}: loss ${event.record.loss.toFixed(4)} ` +
              `in ${event.record.wall_s.toFixed(1)} s · ${statusLine()}`,
          );
          break;
        case "retry":
          running.delete(event.point.key);
          plain(
            `retry ${describe(event.point)} in ${(event.delay_ms / 1000).toFixed(1)} s ` +
              `(${event.worker}: ${event.error})`,
          );
          break;
        case "failed":
          running.delete(event.point.key);
          failed++;
          plain(`FAILED ${describe(event.point)}: ${event.error}`);
          break;
        case "worker_down":
          plain(
            `worker ${event.worker} set aside for ${(event.cooldown_ms / 1000).toFixed(1)} s ` +
              `(${event.error})`,
          );
          break;
      }
    },
    finish() {
      if (options.tty) {
        draw(true);
      } else {
        write(`${statusLine()}\n`);
      }
    },
    statusLine,
    remainingS,
  };
}

/**
 * A point in a few words: `gpt size=64 C=3.0e11 (N=52k, D=1.2M)`.
 *
 * @param point The point.
 * @returns The description.
 */
export function describe(point: PlannedPoint): string {
  return `${point.request.family} size=${point.size} C=${sci(point.budget_flops)} ` +
    `(N=${compact(point.params)}, D=${compact(point.data)})`;
}

/**
 * A count in engineering shorthand: 1234 → `1.2k`, 3.4e6 → `3.4M`.
 *
 * @param x A non-negative number.
 * @returns The short form.
 */
export function compact(x: number): string {
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, unit] of units) {
    if (x >= scale) return `${(x / scale).toPrecision(x / scale >= 100 ? 3 : 2)}${unit}`;
  }
  return String(Math.round(x));
}

/**
 * Seconds as `1h02m`, `3m05s` or `12s`.
 *
 * @param seconds Non-negative seconds.
 * @returns The duration.
 */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}
