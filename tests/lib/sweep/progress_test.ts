import assert from "node:assert/strict";
import { compact, createProgress, formatDuration } from "../../../lib/sweep/progress.ts";
import { planSweep } from "../../../lib/plan/grids.ts";
import type { ResultRecord } from "../../../lib/sweep/results.ts";
import { toyFamily } from "../plan/_family.ts";

const points =
  planSweep({ family: toyFamily(), budgets: [1e12], dataset: "x", sizesPerBudget: 3 })[0]!
    .points;

function record(key: string): ResultRecord {
  return {
    key,
    budget_flops: 1e12,
    size: 8,
    N: 1,
    D: 1,
    C: 1,
    loss: 2.5,
    wall_s: 1.5,
    worker: "w",
    finished_at: "",
  };
}

Deno.test("createProgress() prints plain lines off a TTY with done/total and a sample-based ETA", () => {
  let clock = 0;
  const out: string[] = [];
  const progress = createProgress({
    points,
    skipped: 1,
    tty: false,
    write: (t) => out.push(t),
    now: () => clock,
  });
  progress.handle({ type: "start", point: points[0]!, worker: "w", attempt: 1 });
  clock = 10_000;
  progress.handle({ type: "done", point: points[0]!, record: record(points[0]!.key) });
  assert.match(out.join(""), /^start toy size=/m);
  assert.match(out.join(""), /done {2}toy size=\d+ .*loss 2\.5000 in 1\.5 s · \[2\/4\]/);
  const total = points.reduce((s, p) => s + p.samples, 0);
  const expected = (total - points[0]!.samples) / (points[0]!.samples / 10);
  assert.match(progress.statusLine(), new RegExp(`ETA ${formatDuration(expected)}`));
  assert.ok(!out.join("").includes("\x1b["), "no escape codes off a TTY");
});

Deno.test("createProgress() redraws a live block with the running point's step and loss on a TTY", () => {
  const out: string[] = [];
  let clock = 0;
  const progress = createProgress({
    points,
    skipped: 0,
    tty: true,
    write: (t) => out.push(t),
    now: () => clock,
  });
  progress.handle({ type: "start", point: points[1]!, worker: "in-process", attempt: 1 });
  clock = 500;
  progress.handle({
    type: "progress",
    point: points[1]!,
    worker: "in-process",
    progress: { step: 5, steps: 10, loss: 3.25 },
  });
  const last = out.at(-1)!;
  assert.match(last, /\[0\/3\] 1 running/);
  assert.match(last, /step 5\/10 loss 3\.2500/);
  assert.ok(last.includes("\x1b[2K"), "clears each line it redraws");
});

Deno.test("compact() and formatDuration() write short numbers", () => {
  assert.equal(compact(1234), "1.2k");
  assert.equal(compact(3.4e6), "3.4M");
  assert.equal(compact(512), "512");
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(12), "12s");
});

Deno.test("createProgress() with a measured cost model: the ETA is the remaining cost, scaled by the pace of the finished work", () => {
  let clock = 0;
  // Measured: each point costs its samples / 1000 seconds.
  const cost = (p: (typeof points)[number]) => p.samples / 1000;
  const total = points.reduce((s, p) => s + cost(p), 0);
  const progress = createProgress({
    points,
    skipped: 0,
    tty: false,
    write: () => {},
    now: () => clock,
    cost,
  });
  assert.equal(progress.remainingS(), total, "before anything runs: the measurement itself");
  // The first point takes twice its measured cost.
  progress.handle({ type: "start", point: points[0]!, worker: "w", attempt: 1 });
  clock = 2 * cost(points[0]!) * 1000;
  progress.handle({ type: "done", point: points[0]!, record: record(points[0]!.key) });
  const prior = 0.1 * total;
  const spent = cost(points[0]!);
  const expected = (total - spent) * (prior + 2 * spent) / (prior + spent);
  assert.ok(Math.abs(progress.remainingS()! - expected) < 1e-9, `${progress.remainingS()}`);
  // Half-way through the second point, at the same slow pace.
  progress.handle({ type: "start", point: points[1]!, worker: "w", attempt: 1 });
  clock += cost(points[1]!) * 1000;
  progress.handle({
    type: "progress",
    point: points[1]!,
    worker: "w",
    progress: { step: 5, steps: 10 },
  });
  const spent2 = spent + cost(points[1]!) / 2;
  const expected2 = (total - spent2) * (prior + 2 * spent2) / (prior + spent2);
  assert.ok(Math.abs(progress.remainingS()! - expected2) < 1e-9);
  assert.match(progress.statusLine(), new RegExp(`ETA ${formatDuration(expected2)}$`));
});
