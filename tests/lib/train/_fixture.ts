/**
 * Runs a training fixture in its own process (a WebGPU device and tfjs's engine stay out of the
 * test runner) and reads the JSON line it prints last.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The fixture's last JSON line, parsed, and whether the process exited cleanly. */
export interface FixtureRun {
  // deno-lint-ignore no-explicit-any
  result: any;
  /** The process's exit status. */
  code: number;
  /** Whether it exited 0. */
  success: boolean;
}

/**
 * Run `fixture` with `deno run -A` and parse the last line of its stdout that starts with `{`.
 *
 * @param fixture Path of the fixture script.
 * @returns Its result and exit status.
 * @throws {AssertionError} When it printed no JSON line (the message holds its stderr's tail).
 */
export async function runFixture(fixture: string): Promise<FixtureRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fixture],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const line = stdout.trim().split("\n").findLast((l) => l.startsWith("{"));
  assert.ok(
    line !== undefined,
    `no result (exit ${out.code}): ${new TextDecoder().decode(out.stderr).slice(-800)}`,
  );
  return { result: JSON.parse(line), code: out.code, success: out.success };
}
