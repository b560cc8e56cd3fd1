/**
 * The shell commands of the README and the guides, as a reader copies them: every fenced `sh`
 * block's commands (continuation lines joined, trailing `# comments` dropped) with the output the
 * page shows under each (`# …` lines after a command in an `sh` block; the lines after a `$ `
 * command in a plain block).
 *
 * @module
 */

/** One documented command. */
export interface DocCommand {
  /** The page, relative to the repository root. */
  file: string;
  /** 1-based line of the command's first line. */
  line: number;
  /** The command as a reader runs it (one line, comments dropped). */
  command: string;
  /** The output the page shows for it (may be empty; `…` marks elisions). */
  shown: string[];
}

/**
 * The commands of one markdown page.
 *
 * @param file The page's path (for messages).
 * @param markdown Its text.
 * @returns Its commands in order.
 */
export function docCommands(file: string, markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = markdown.split("\n");
  let i = 0;
  while (i < lines.length) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (fence === null) {
      i++;
      continue;
    }
    const info = fence[1]!;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.startsWith("```")) end++;
    const body = lines.slice(start, end);
    if (body.some((l) => l.startsWith("$ "))) out.push(...promptBlock(file, body, start));
    else if (info === "sh" || info === "bash") out.push(...shBlock(file, body, start));
    i = end + 1;
  }
  return out;
}

function shBlock(file: string, body: string[], offset: number): DocCommand[] {
  const out: DocCommand[] = [];
  let current: DocCommand | undefined;
  for (let j = 0; j < body.length; j++) {
    const raw = body[j]!;
    if (raw.trim() === "") continue;
    if (raw.startsWith("#")) {
      if (current !== undefined) current.shown.push(raw.replace(/^#\s?/, ""));
      continue;
    }
    let text = raw;
    const first = j;
    // A trailing backslash, or an open single quote, continues the command on the next line.
    while ((text.endsWith("\\") || openQuote(text)) && j + 1 < body.length) {
      j++;
      text = text.endsWith("\\")
        ? text.slice(0, -1) + " " + body[j]!.trim()
        : `${text}\n${body[j]}`;
    }
    current = { file, line: offset + first + 1, command: clean(text), shown: [] };
    out.push(current);
  }
  return out;
}

function promptBlock(file: string, body: string[], offset: number): DocCommand[] {
  const out: DocCommand[] = [];
  let current: DocCommand | undefined;
  for (let j = 0; j < body.length; j++) {
    const raw = body[j]!;
    if (raw.startsWith("$ ")) {
      let text = raw.slice(2);
      const first = j;
      while (text.endsWith("\\") && j + 1 < body.length) {
        j++;
        text = text.slice(0, -1) + " " + body[j]!.trim();
      }
      current = { file, line: offset + first + 1, command: clean(text), shown: [] };
      out.push(current);
    } else if (current !== undefined && raw.trim() !== "") {
      current.shown.push(raw);
    }
  }
  return out;
}

function openQuote(text: string): boolean {
  return ((text.match(/'/g) ?? []).length % 2) === 1;
}

/** The command without its trailing comment, runs of blanks as one space. */
function clean(text: string): string {
  return text.split("\n").map((l) => l.replace(/\s+#\s.*$/, "")).join(" ").replace(/\s+/g, " ")
    .trim();
}

/**
 * Whether output holds what a page shows: each shown line, whitespace ignored, somewhere in the
 * output, its `…` marking elided parts (whose pieces must appear in order).
 *
 * @param shown The shown lines.
 * @param actual The command's output.
 * @returns The first shown piece not found in order, or `undefined` when all are.
 */
export function missingShown(shown: readonly string[], actual: string): string | undefined {
  const squash = (s: string) => s.replace(/\s+/g, "");
  const text = squash(actual);
  for (const line of shown) {
    let at = 0;
    for (const piece of line.split("…").map(squash).filter((p) => p !== "")) {
      const found = text.indexOf(piece, at);
      if (found < 0) return piece;
      at = found + piece.length;
    }
  }
  return undefined;
}
