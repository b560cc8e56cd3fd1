/**
 * Every shell command of README.md and docs/*.md runs as printed, from the repository's root, and
 * prints what the page shows under it. Each command must be declared below: run as printed; run
 * with `--plan` appended (a study that would train for minutes: the command, its flags and its files
 * are still checked); or skipped, with the reason. A command the pages gain or change that is not
 * declared fails the test, and so does a declaration no page uses any more.
 *
 * What the test changes in a command, and why: `npx -y deno@2.9.6` becomes this Deno (the same
 * version, without the network); `localhost:8000` / `127.0.0.1:8000` becomes the server the test
 * starts with the pages' own `task -q start`, on a free port; `8100` becomes the port of the
 * PyTorch worker the test starts with the pages' own command (only where PyTorch is installed).
 */
import assert from "node:assert/strict";
import { type DocCommand, docCommands, missingShown } from "./_doc_commands.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const NPX_DENO = "npx -y deno@2.9.6";

/** How the test treats one documented command. */
type Policy =
  | { run: "as printed"; needs?: "torch" }
  | { run: "plan"; why: string; needs?: "torch" }
  | { run: "server" }
  | { run: "torch worker" }
  | { skip: string };

const PLAN_DEFAULT = "the default study trains 25 points (~8 min on 2 cores); docs/sweep/ is its " +
  "real output";
const QUEUE = "needs Docker or a PostgreSQL server; tests/lib/queue/ runs the queue against one";

/** Every command of the pages, by its text (comments dropped). */
const POLICY: Record<string, Policy> = {
  [`${NPX_DENO} task -q sweep`]: { run: "plan", why: PLAN_DEFAULT },
  [`${NPX_DENO} task -q start`]: { run: "server" },
  [`${NPX_DENO} task -q start &`]: { run: "server" },
  [`${NPX_DENO} task -q test`]: { skip: "the test suite itself" },
  [`${NPX_DENO} task -q sweep --mock`]: { run: "as printed" },
  [`${NPX_DENO} task -q sweep --plan`]: { run: "as printed" },
  [`${NPX_DENO} task -q sweep --preset vit-cifar10 --budgets 1e14,3e14,1e15,3e15`]: {
    run: "plan",
    why: "trains ViTs on CIFAR-10 for hours",
  },
  [`${NPX_DENO} task -q sweep --preset gpt-tinystories`]: {
    run: "plan",
    why: "trains GPTs on TinyStories for hours",
  },
  [`${NPX_DENO} task -q sweep --config examples/study.json --out sweeps/mine`]: {
    run: "plan",
    why: "trains 20 points for minutes",
  },
  [`${NPX_DENO} task -q sweep --config examples/study.json`]: {
    run: "plan",
    why: "trains 20 points for minutes",
  },
  [`${NPX_DENO} task -q sweep --trainers http://10.0.0.7:8000,http://10.0.0.8:8000`]: {
    skip: "example addresses of the reader's own servers",
  },
  [`${NPX_DENO} task -q sweep --trainers http://10.0.0.7:8000,http://10.0.0.8:8000 --concurrency 1`]:
    { skip: "example addresses of the reader's own servers" },
  [`${NPX_DENO} task -q sweep --adaptive --mock --config examples/adaptive_study.json`]: {
    run: "as printed",
  },
  [`${NPX_DENO} task -q sweep --adaptive --config examples/adaptive_study.json`]: {
    run: "plan",
    why: "trains adaptive rounds for many minutes",
  },
  [`${NPX_DENO} task -q sweep --config examples/my-model.json`]: {
    run: "plan",
    why: "trains 15 points in PyTorch for minutes (tests/lib/sweep/pytorch_worker_test.ts runs " +
      "a whole sweep through this worker)",
    needs: "torch",
  },
  [`${NPX_DENO} task -q sweep --config examples/my-model.json --plan`]: {
    run: "as printed",
    needs: "torch",
  },
  "/usr/bin/python3 examples/pytorch/worker.py --port 8100 --data http://127.0.0.1:8000 --model examples/pytorch/my_model.py":
    { run: "torch worker" },
  "/usr/bin/python3 examples/pytorch/worker.py --data http://127.0.0.1:8000 --model examples/pytorch/my_model.py --port 8100 --threads 2":
    { run: "torch worker" },
  "curl -s 'http://127.0.0.1:8100/v1/families/mlp-lm?config=%7B%22context%22%3A16%7D' | jq -c '.data_unit, .units_per_sample, .sizes[6]'":
    { run: "as printed", needs: "torch" },
  "curl -s -X POST 'localhost:8000/v1/fit?format=markdown&budgets=1e21,1e22&seed=1' -H 'content-type: text/csv' --data-binary @tests/fixtures/fit/runs.csv":
    { run: "as printed" },
  "curl -s -X POST localhost:8000/v1/fit -H 'content-type: application/json' --data-binary @examples/fit_body.json":
    { run: "as printed" },
  "curl -s -X POST 'localhost:8000/v1/fit?format=markdown&hold_out_above=2e19&seed=1' -H 'content-type: text/csv' --data-binary @tests/fixtures/fit/runs.csv":
    { run: "as printed" },
  [`curl -s localhost:8000/v1/train -H 'content-type: application/json' -d '{"family":"gpt","size":64,"dataset":"synthetic-text","budget":{"flops":1e11},"seed":0}'`]:
    { run: "as printed" },
  "apt-get install -y libopenblas0-pthread dataset-fashion-mnist chromium python3-torch postgresql":
    { skip: "installs system packages (root)" },
  [`${NPX_DENO} task -q native`]: { run: "as printed" },
  [`${NPX_DENO} task -q check`]: {
    skip: "formats, lints and type-checks the whole repository (minutes); CI runs it",
  },
  [`${NPX_DENO} task -q docs`]: {
    skip: "rewrites the generated tables; tests/lib/docs/ checks that they match",
  },
  [`${NPX_DENO} task -q bench`]: {
    skip: "runs every benchmark (many minutes), rewrites BENCHMARKS.md",
  },
  [`${NPX_DENO} task -q bench fit`]: { skip: "benchmarks (minutes), rewrites BENCHMARKS.md" },
  "curl -s localhost:8000/v1/datasets/synthetic-quanta | jq '{description, entropy_nats}'": {
    run: "as printed",
  },
  'curl -s localhost:8000/v1/plan -H \'content-type: application/json\' -d \'{"family":"gpt","budgets":[1e11,1e12],"sizes_per_budget":5}\'':
    { run: "as printed" },
  "curl -s 'http://127.0.0.1:8000/v1/families/gpt?dataset=synthetic-text-order1&config=%7B%22context%22%3A16%7D' | jq '{name, data_unit, units_per_sample, first: .sizes[0]}'":
    { run: "as printed" },
  "curl -s 'localhost:8000/v1/datasets/synthetic-text/batches?limit=2&context=24&seed=7'": {
    run: "as printed",
  },
  "curl -s -D - -o batch.bin -H 'accept: application/octet-stream' 'localhost:8000/v1/datasets/fashion-mnist/batches?split=test&limit=4&seed=1'":
    { skip: "needs Debian's dataset-fashion-mnist; tests/data/ checks this endpoint" },
  "curl -s 'localhost:8000/v1/datasets/synthetic-images/batches?split=test&offset=10000'": {
    run: "as printed",
  },
  "docker run -d --name flops-pg -e POSTGRES_USER=flops -e POSTGRES_PASSWORD=secret -p 127.0.0.1:5432:5432 postgres:17":
    { skip: QUEUE },
  "export FLOPS_FIT_QUEUE='postgres://flops:secret@127.0.0.1:5432/flops'": { skip: QUEUE },
  [`${NPX_DENO} task -q worker --queue "$FLOPS_FIT_QUEUE" &`]: { skip: QUEUE },
  [`${NPX_DENO} task -q sweep --queue "$FLOPS_FIT_QUEUE" --mock`]: { skip: QUEUE },
  [`${NPX_DENO} task -q sweep --queue "$FLOPS_FIT_QUEUE" --mock --status`]: { skip: QUEUE },
  "psql \"$FLOPS_FIT_QUEUE\" -c 'SELECT study, count(*), min(loss) FROM flops_fit.results GROUP BY study'":
    { skip: QUEUE },
};

/** Pages whose commands another branch owns, and why they are left out here. */
const PAGES_ELSEWHERE: Record<string, string> = {
  "docs/fit.md": "the fit guide, maintained with lib/fit/ (its commands post the fixture's runs)",
  "docs/fit_forecasts.md": "the forecasts guide, maintained with lib/fit/; its commands read " +
    "../shared/data/, which a fresh clone lacks",
};

/** The adaptive-study page's long `POST /v1/plan` example (its JSON spans lines). */
const ADAPTIVE_PLAN =
  /^curl -s localhost:8000\/v1\/plan -H 'content-type: application\/json' -d '\{ "family": "gpt", "dataset": "synthetic-quanta"/;

function pages(): string[] {
  const docs = [...Deno.readDirSync(`${ROOT}docs`)].filter((e) => e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`).sort();
  return ["README.md", ...docs];
}

function allCommands(): DocCommand[] {
  return pages().filter((p) => PAGES_ELSEWHERE[p] === undefined)
    .flatMap((p) => docCommands(p, Deno.readTextFileSync(`${ROOT}${p}`)));
}

function runs(c: DocCommand, how: string): boolean {
  const p = policyOf(c);
  return p !== undefined && "run" in p && p.run === how;
}

function policyOf(c: DocCommand): Policy | undefined {
  if (ADAPTIVE_PLAN.test(c.command)) return { run: "as printed" };
  return POLICY[c.command];
}

Deno.test("every command of the README and the guides is declared (run, --plan, or skipped with a reason)", () => {
  const commands = allCommands();
  assert.ok(commands.length > 40, `found ${commands.length} commands`);
  const undeclared = commands.filter((c) => policyOf(c) === undefined)
    .map((c) => `${c.file}:${c.line}: ${c.command}`);
  assert.deepEqual(undeclared, [], "declare these in POLICY");
  const used = new Set(commands.map((c) => c.command));
  const stale = Object.keys(POLICY).filter((k) => !used.has(k));
  assert.deepEqual(stale, [], "no page has these commands any more");
  // One way to invoke Deno: no bare `deno` at the start of a command.
  const bare = commands.filter((c) => /^deno\s/.test(c.command));
  assert.deepEqual(bare, []);
  // Files a command reads ship in the repository.
  for (const c of commands) {
    for (const m of c.command.matchAll(/(?:@|--config |--model )((?:examples|tests)\/[\w./-]+)/g)) {
      assert.ok(Deno.statSync(`${ROOT}${m[1]}`).isFile, `${c.file}:${c.line}: ${m[1]} ships`);
    }
  }
});

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitFor(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/** The process and its descendants (from /proc), deepest first: a task's `deno run` child too. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry.name)]);
    } catch {
      // Exited meanwhile.
    }
  }
  const out: number[] = [];
  const visit = (p: number) => {
    for (const c of children.get(p) ?? []) visit(c);
    out.push(p);
  };
  visit(pid);
  return out;
}

/** Whether a program is on PATH (the pages' commands use curl and jq). */
function onPath(program: string): boolean {
  try {
    return new Deno.Command("bash", { args: ["-c", `command -v ${program}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

function hasTorch(): boolean {
  try {
    return new Deno.Command("/usr/bin/python3", { args: ["-c", "import torch"], stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the documented commands run as printed and print what the pages show",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const commands = allCommands();
    const port = freePort();
    const torch = hasTorch();
    if (!torch) console.warn("PyTorch is absent: the bring-your-own-model commands are skipped");
    const missing = ["curl", "jq"].filter((p) => !onPath(p));
    if (missing.length > 0) {
      console.warn(`${missing.join(" and ")} absent: the commands that use them are skipped`);
    }
    const torchPort = freePort();
    const rewrite = (text: string) =>
      text.replaceAll(NPX_DENO, `'${Deno.execPath()}'`)
        .replace(/(localhost|127\.0\.0\.1):8000/g, `127.0.0.1:${port}`)
        .replace(/(127\.0\.0\.1:|--port )8100\b/g, `$1${torchPort}`);
    const children: Deno.ChildProcess[] = [];
    const spawn = (command: string, env: Record<string, string> = {}) => {
      const child = new Deno.Command("bash", {
        args: ["-c", `exec ${rewrite(command).replace(/\s*&$/, "")}`],
        cwd: ROOT,
        env: { FLOPS_FIT_LOG_REQUESTS: "false", ...env },
        stdout: "null",
        stderr: "null",
      }).spawn();
      children.push(child);
    };
    try {
      const server = commands.find((c) => runs(c, "server"))!;
      spawn(server.command, { PORT: String(port), HOST: "127.0.0.1" });
      await waitFor(`http://127.0.0.1:${port}/healthz`, 60_000);
      const worker = commands.find((c) => runs(c, "torch worker"));
      if (torch && worker !== undefined) {
        spawn(worker.command);
        await waitFor(`http://127.0.0.1:${torchPort}/v1/families`, 60_000);
      }
      const seen = new Set<string>();
      for (const c of commands) {
        const policy = policyOf(c)!;
        if (!("run" in policy) || policy.run === "server" || policy.run === "torch worker") {
          continue;
        }
        if (policy.needs === "torch" && !torch) continue;
        if (missing.some((p) => new RegExp(`(^|[|;&]\\s*)${p}\\s`).test(c.command))) continue;
        if (seen.has(c.command)) continue;
        seen.add(c.command);
        let command = rewrite(c.command);
        if (policy.run === "plan") command += " --plan";
        if (c.command.includes("examples/my-model.json")) {
          // The sweep file names the trainer on 8100; the flag (which wins) names the test's port.
          command += ` --trainers http://127.0.0.1:${torchPort}`;
        }
        await t.step(`${c.file}:${c.line}: ${c.command.slice(0, 90)}`, async () => {
          const out = await new Deno.Command("bash", {
            args: ["-o", "pipefail", "-c", command],
            cwd: ROOT,
            env: { FLOPS_FIT_LOG_REQUESTS: "false" },
            stdout: "piped",
            stderr: "piped",
          }).output();
          const stdout = new TextDecoder().decode(out.stdout);
          const stderr = new TextDecoder().decode(out.stderr);
          assert.equal(
            out.code,
            0,
            `exit ${out.code}\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`,
          );
          if (c.shown.length > 0) {
            const missing = missingShown(c.shown.map(rewrite), stdout);
            assert.equal(missing, undefined, `shown output drifted:\n${stdout.slice(0, 3000)}`);
          } else if (c.command.startsWith("curl")) {
            assert.doesNotMatch(stdout, /urn:flops-fit:problem/, `an error answer:\n${stdout}`);
            assert.ok(stdout.trim().length > 0, "an answer");
          }
        });
      }
    } finally {
      for (const child of children) {
        for (const pid of processTree(child.pid)) {
          try {
            Deno.kill(pid, "SIGTERM");
          } catch {
            // Already gone.
          }
        }
        await child.status;
      }
    }
  },
});
