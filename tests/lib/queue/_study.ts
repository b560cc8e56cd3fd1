/**
 * A study on the queue for the queue tests and bench: plan it as the coordinator does, enqueue
 * its points, and wait until the workers have recorded them.
 *
 * @module
 */
import type { OpenQueue } from "../../../lib/queue/db.ts";
import { attachStudy, type JobPolicy } from "../../../lib/queue/store.ts";
import { studyId } from "../../../lib/queue/coordinator.ts";
import type { PlannedPoint } from "../../../lib/plan/grids.ts";
import type { SweepConfig } from "../../../lib/sweep/config.ts";
import { studyEnvironment } from "../../../lib/sweep/cli.ts";
import { planStudy } from "../../../lib/sweep/sweep.ts";

/**
 * Plan a study and put its points on the queue.
 *
 * @param queue An open queue.
 * @param config The study.
 * @param policy Retries, timeout, lease and back-off of its jobs.
 * @returns The study's id and points.
 */
export async function enqueueStudy(
  queue: OpenQueue,
  config: SweepConfig,
  policy: JobPolicy,
): Promise<{ study: string; points: PlannedPoint[] }> {
  const env = studyEnvironment(config);
  const points = planStudy(config, env.family).flatMap((g) => g.points);
  const study = studyId(config);
  await attachStudy(queue.boss, queue.db, { study, config, family: env.family, points, policy });
  return { study, points };
}

/**
 * Poll until a study has `count` results recorded.
 *
 * @param queue An open queue.
 * @param study The study's id.
 * @param count Results to wait for.
 * @param pollMs Milliseconds between polls.
 */
export async function waitForResults(
  queue: OpenQueue,
  study: string,
  count: number,
  pollMs: number,
): Promise<void> {
  while (true) {
    const { rows: [row] } = await queue.db.executeSql(
      "SELECT count(*)::int AS n FROM flops_fit.results WHERE study = $1",
      [study],
    );
    if (row.n >= count) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
