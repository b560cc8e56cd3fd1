import assert from "node:assert/strict";
import { jsonDepthExcess, MAX_JSON_DEPTH } from "../../routes/json_depth.ts";

Deno.test("jsonDepthExcess() counts arrays and objects, not brackets inside strings", () => {
  assert.equal(jsonDepthExcess('{"a": "[[[[[[", "b": "\\"{{{{"}', 2), undefined);
  assert.equal(jsonDepthExcess("[[[]]]", 3), undefined);
  assert.deepEqual(jsonDepthExcess("[[[[]]]]", 3), { field: "", depth: 4 });
  assert.deepEqual(
    jsonDepthExcess('{"ok": [[1]], "we\\"ird": {"x": [[[1]]]}}', 3),
    { field: 'we"ird', depth: 4 },
  );
  // Not JSON at all: no depth to speak of; the parser refuses it later.
  assert.equal(jsonDepthExcess("not json", 1), undefined);
});

Deno.test("jsonDepthExcess() handles nesting far past any stack (no recursion)", () => {
  const text = `{"hyper": ${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
  assert.deepEqual(jsonDepthExcess(text, MAX_JSON_DEPTH), {
    field: "hyper",
    depth: MAX_JSON_DEPTH + 1,
  });
});
