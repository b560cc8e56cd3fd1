/**
 * The house rules of the import graph, checked on the sources (static imports, re-exports and
 * `import("…")` of a literal path; type-only imports count too):
 *
 * - no import cycle between files, and none between rooms (a room is a folder under lib/, or
 *   data/, models/, routes/, or a top-level file);
 * - no import that runs back up a layer ({@linkcode LAYERS}, bottom first);
 * - a file outside a folder that has a `mod.ts` imports that folder through its `mod.ts`.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** What is scanned: the program, not its tests, examples or docs. */
const SOURCES = ["lib", "routes", "data", "models", "main.ts", "mod.ts"];

/**
 * The layers, bottom first: a room may import its own layer's rooms and those below, never
 * one above. A new room must be placed here (the test names one that is not).
 */
const LAYERS: readonly (readonly string[])[] = [
  ["lib/errors.ts", "lib/markdown.ts", "lib/stats.ts", "lib/random.ts", "lib/config", "lib/ops"],
  ["lib/fit", "data"],
  ["models"],
  // A backend runs what the models describe: the compiled WebGPU step schedules their layers.
  ["lib/backend", "lib/train"],
  ["lib/plan", "lib/service"],
  ["lib/sweep", "routes"],
  ["lib/queue", "lib/docs"],
  ["lib/cli", "main.ts", "mod.ts"],
];

/**
 * Imports that bypass a door on purpose: the request thread (routes/train.ts) takes the light
 * modules of lib/train — the request schema, the dataset resolver, the run planner — because
 * lib/train/mod.ts also loads the trainer and with it tfjs and OpenBLAS, which the request thread
 * must never start (tests/routes/request_thread_test.ts). An import not listed here fails, and so
 * does a listed one that is gone.
 */
const LIGHT_IMPORTS = new Set([
  "routes/train.ts -> lib/train/datasets.ts",
  "routes/train.ts -> lib/train/run_plan.ts",
  "routes/train.ts -> lib/train/request.ts",
]);

/** One import: from a file to a file. */
interface Edge {
  from: string;
  to: string;
}

function sourceFiles(path: string, out: string[] = []): string[] {
  const info = Deno.statSync(new URL(path, ROOT));
  if (info.isFile) {
    if (path.endsWith(".ts")) out.push(path);
    return out;
  }
  for (const entry of Deno.readDirSync(new URL(path, ROOT))) {
    sourceFiles(`${path}/${entry.name}`, out);
  }
  return out;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^;]*?\s+from\s+)?"(\.{1,2}\/[^"]+)"|\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;

function imports(files: readonly string[]): Edge[] {
  const edges: Edge[] = [];
  for (const from of files) {
    const text = Deno.readTextFileSync(new URL(from, ROOT)).replace(/\/\*[\s\S]*?\*\//g, "");
    for (const match of text.matchAll(IMPORT)) {
      const spec = match[1] ?? match[2]!;
      const to = new URL(spec, new URL(from, ROOT)).pathname.slice(ROOT.pathname.length);
      if (to.endsWith(".ts")) edges.push({ from, to });
    }
  }
  return edges;
}

function folderOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i < 0 ? "." : file.slice(0, i);
}

/** The room of a file: `lib/NAME` (folder or file), `data`, `models`, `routes`, or the file. */
function roomOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "lib") return parts.length > 2 ? `lib/${parts[1]}` : file;
  return parts.length > 1 ? parts[0]! : file;
}

/** Strongly connected components with more than one member (Tarjan). */
function cycles(nodes: Iterable<string>, next: (node: string) => Iterable<string>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of nodes) if (!indices.has(v)) visit(v);
  return found;
}

const FILES = SOURCES.flatMap((s) => sourceFiles(s));
const EDGES = imports(FILES);

Deno.test("the import graph is read: every source file, and imports between them", () => {
  assert.ok(FILES.length > 150, `${FILES.length} files`);
  assert.ok(EDGES.length > 400, `${EDGES.length} imports`);
  for (const { from, to } of EDGES) {
    assert.ok(FILES.includes(to) || to.startsWith("node_modules/"), `${from} imports ${to}`);
  }
});

Deno.test("no import cycle between files", () => {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of EDGES) {
    next.set(from, (next.get(from) ?? new Set()).add(to));
  }
  assert.deepEqual(cycles(FILES, (f) => next.get(f) ?? []), []);
});

Deno.test("no import cycle between rooms (folders under lib/, data, models, routes)", () => {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of EDGES) {
    const [a, b] = [roomOf(from), roomOf(to)];
    if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  assert.deepEqual(cycles(new Set(FILES.map(roomOf)), (r) => next.get(r) ?? []), []);
});

Deno.test("no import runs back up a layer", () => {
  const layer = new Map<string, number>();
  LAYERS.forEach((rooms, i) => rooms.forEach((room) => layer.set(room, i)));
  const unplaced = [...new Set(FILES.map(roomOf))].filter((r) => !layer.has(r));
  assert.deepEqual(unplaced, [], "place every room in LAYERS");
  const upward = EDGES.filter(({ from, to }) => layer.get(roomOf(to))! > layer.get(roomOf(from))!)
    .map(({ from, to }) => `${from} -> ${to}`);
  assert.deepEqual(upward, []);
});

Deno.test("imports from outside a folder with a mod.ts go through its mod.ts", () => {
  const doors = new Set(FILES.filter((f) => f.endsWith("/mod.ts")).map(folderOf));
  const bypasses = EDGES.filter(({ from, to }) => {
    const target = folderOf(to);
    if (!doors.has(target) || to.endsWith("/mod.ts")) return false;
    const source = folderOf(from);
    return source !== target && !source.startsWith(`${target}/`);
  }).map(({ from, to }) => `${from} -> ${to}`);
  assert.deepEqual(bypasses.filter((b) => !LIGHT_IMPORTS.has(b)), []);
  const fixed = [...LIGHT_IMPORTS].filter((p) => !bypasses.includes(p));
  assert.deepEqual(fixed, [], "these go through the door now: drop them from LIGHT_IMPORTS");
});
