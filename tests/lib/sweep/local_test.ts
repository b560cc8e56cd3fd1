import assert from "node:assert/strict";
import { describeLocalBackend } from "../../../lib/sweep/local.ts";

Deno.test({
  name: "describeLocalBackend() names the backend it started, why, and the native kernels' state",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const line = await describeLocalBackend();
    const { currentBackend } = await import("../../../lib/backend/select.ts");
    const active = currentBackend()!;
    assert.ok(line.startsWith(`backend: ${active.name} — ${active.description} (`), line);
    assert.match(line, active.chosenBy === "auto" ? /\(chosen automatically/ : /\(named by /);
    assert.match(
      line,
      active.name === "blas"
        ? / · native kernels: (built now \(\d+\.\d s|already built|unavailable)/
        : new RegExp(` · native kernels: not used by ${active.name}$`),
    );
  },
});
