import assert from "node:assert/strict";
import { loadConfig } from "../../../lib/service/config.ts";

Deno.test("loadConfig() fills defaults from an empty environment", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.token, undefined);
  assert.equal(config.maxFitPoints, 20_000);
});

Deno.test("loadConfig() reads and coerces variables", () => {
  const config = loadConfig({
    PORT: "9001",
    FLOPS_FIT_TOKEN: "s3cret",
    FLOPS_FIT_MAX_FIT_POINTS: "10",
  });
  assert.equal(config.port, 9001);
  assert.equal(config.token, "s3cret");
  assert.equal(config.maxFitPoints, 10);
});

Deno.test("loadConfig() names the variable that is invalid", () => {
  assert.throws(() => loadConfig({ PORT: "eighty" }), /Invalid environment variable PORT/);
  assert.throws(() => loadConfig({ FLOPS_FIT_MAX_FIT_POINTS: "-3" }), /FLOPS_FIT_MAX_FIT_POINTS/);
});
