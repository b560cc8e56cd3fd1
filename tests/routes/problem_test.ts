import assert from "node:assert/strict";
import { z } from "zod";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { fieldPath, LimitExceededError } from "../../lib/errors.ts";
import { BusyError, classifyWorkerError } from "../../lib/service/pool_errors.ts";
import { TrainInputError } from "../../lib/train/errors.ts";
import {
  isClientDisconnect,
  jsonPointer,
  libraryProblem,
  PROBLEM_TYPES,
  ProblemError,
  problemResponse,
  statusTitle,
  validationProblem,
} from "../../routes/problem.ts";

Deno.test("fieldPath() writes zod paths as readable field paths", () => {
  assert.equal(fieldPath(["points", 3, "N"]), "points[3].N");
  assert.equal(fieldPath([]), "(body)");
  assert.equal(fieldPath([0]), "[0]");
});

Deno.test("jsonPointer() escapes ~ and / per RFC 6901", () => {
  assert.equal(jsonPointer(["a/b", "c~d", 1]), "#/a~1b/c~0d/1");
  assert.equal(jsonPointer([]), "#");
});

Deno.test("validationProblem() names the first offending field and lists all", () => {
  const schema = z.object({ points: z.array(z.object({ N: z.number().positive() })).min(1) });
  const parsed = schema.safeParse({ points: [{ N: 1 }, { N: -2 }, { N: "x" }] });
  assert.ok(!parsed.success);
  const err = validationProblem(parsed.error.issues);
  assert.equal(err.problem.status, 422);
  assert.equal(err.problem.field, "points[1].N");
  assert.match(err.problem.detail!, /^points\[1\]\.N: /);
  assert.equal(err.problem.errors!.length, 2);
  assert.equal(err.problem.errors![1]!.pointer, "#/points/2/N");
});

Deno.test("problemResponse() hides internals of unexpected errors", async () => {
  const app = new Hono();
  app.get("/boom", () => {
    throw new Error("secret stack detail");
  });
  app.get("/http", () => {
    throw new HTTPException(400, { message: "Malformed JSON in request body" });
  });
  app.get("/problem", () => {
    throw new ProblemError({ title: "Too many requests", status: 429 }, { "retry-after": "5" });
  });
  app.onError((e, c) => problemResponse(c, e));
  const boom = await app.request("/boom");
  assert.equal(boom.status, 500);
  const text = await boom.text();
  assert.ok(!text.includes("secret"));
  const http = await app.request("/http");
  assert.equal(http.status, 400);
  assert.equal((await http.json()).detail, "The request body is not valid JSON.");
  const problem = await app.request("/problem");
  assert.equal(problem.status, 429);
  assert.equal(problem.headers.get("retry-after"), "5");
  assert.equal(statusTitle(418), "Error");
});

Deno.test("problemResponse() answers 400 for a handler's failed JSON body parse", async () => {
  const app = new Hono();
  app.post("/raw", async (c) => c.json(await c.req.json()));
  app.onError((e, c) => problemResponse(c, e));
  const res = await app.request("/raw", { method: "POST", body: "{" });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).detail, "The request body is not valid JSON.");
});

Deno.test("libraryProblem() maps every library error by one table: type, title, status, field, limit, Retry-After", () => {
  const busy = libraryProblem(
    new BusyError("full.", { limit: "max_queued_fits", value: 64, retryAfterS: 1 }),
  )!;
  assert.equal(busy.problem.status, 429);
  assert.equal(busy.problem.type, PROBLEM_TYPES.busy);
  assert.deepEqual(busy.problem.limit, { name: "max_queued_fits", value: 64 });
  assert.equal(busy.headers["retry-after"], "1");
  const input = libraryProblem(new TrainInputError("config.heads", "3 does not divide 16."))!;
  assert.deepEqual(
    { type: input.problem.type, title: input.problem.title, field: input.problem.field },
    { type: "about:blank", title: "Invalid request", field: "config.heads" },
  );
  const crash = { name: "Error", message: "bug" };
  const jobCrash = libraryProblem(classifyWorkerError(crash, { subject: "job" }))!;
  assert.equal(jobCrash.problem.status, 500);
  assert.equal(jobCrash.problem.type, "about:blank");
  const trainingCrash = libraryProblem(classifyWorkerError(crash))!;
  assert.equal(trainingCrash.problem.status, 422);
  assert.equal(trainingCrash.problem.type, PROBLEM_TYPES.crashed);
  const limit = libraryProblem(
    new LimitExceededError({ name: "max_body_bytes", value: 10, actual: 20, status: 413 }),
  )!;
  assert.equal(limit.problem.title, "Content too large");
  assert.equal(libraryProblem(new Error("plain")), undefined);
});

Deno.test("isClientDisconnect() knows a body read cut short from a malformed body", () => {
  assert.ok(isClientDisconnect(new Deno.errors.BadResource("Cannot read body")));
  assert.ok(isClientDisconnect(new DOMException("gone", "AbortError")));
  assert.ok(!isClientDisconnect(new SyntaxError("Unexpected token } in JSON")));
  assert.ok(!isClientDisconnect(new HTTPException(400, { message: "Malformed JSON" })));
});
