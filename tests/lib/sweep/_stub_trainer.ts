/**
 * A small trainer for a family flops-fit does not have (`my-model`), speaking the train contract
 * over loopback: `GET /v1/families/my-model` serves its table, `POST /v1/train` answers with a
 * loss from a known law after spending the budget in whole steps. Tests can replace either
 * answer to play a broken trainer.
 *
 * @module
 */
import type { FamilyDescription } from "../../../lib/plan/family_description.ts";
import type { PointRequest } from "../../../lib/plan/grids.ts";

/** Tokens per sample of `my-model`. */
export const STUB_CONTEXT = 32;

/**
 * The stub's table: d = 16…256 in steps of 16, N = 12·d² + 64·d, F = 6·N·T + 12·T²·d.
 *
 * @param name The family's name.
 * @returns The table.
 */
export function stubTable(name = "my-model"): FamilyDescription {
  const sizes = [];
  for (let d = 16; d <= 256; d += 16) {
    const params = 12 * d * d + 64 * d;
    sizes.push({
      size: d,
      params,
      non_embedding_params: 12 * d * d,
      flops_per_sample: 6 * params * STUB_CONTEXT + 12 * STUB_CONTEXT ** 2 * d,
      config: { d_model: d, n_layer: 1 },
    });
  }
  return {
    name,
    size_param: "d_model",
    data_unit: "tokens",
    units_per_sample: STUB_CONTEXT,
    sizes,
  };
}

/** Options of {@linkcode startStubTrainer}. */
export interface StubOptions {
  /** The table it serves (or a raw body, to play a broken trainer). @default stubTable() */
  table?: unknown;
  /** Change the answer of `POST /v1/train` (e.g. drop a field). */
  answer?: (result: Record<string, unknown>) => Record<string, unknown>;
}

/** A running stub. */
export interface StubTrainer {
  /** Base URL. */
  url: string;
  /** Every training request received, in order. */
  trained: PointRequest[];
  /** Every table request's URL. */
  asked: URL[];
  /** Stop the server. */
  close(): Promise<void>;
}

/**
 * Start the stub on a loopback port.
 *
 * @param options What it serves.
 * @returns The running stub.
 */
export function startStubTrainer(options: StubOptions = {}): StubTrainer {
  const table = options.table ?? stubTable();
  const trained: PointRequest[] = [];
  const asked: URL[] = [];
  const served = stubTable();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (req.method === "GET" && url.pathname.startsWith("/v1/families/")) {
      asked.push(url);
      const name = decodeURIComponent(url.pathname.slice("/v1/families/".length));
      if (
        typeof table === "object" && table !== null && (table as { name?: string }).name !== name
      ) {
        return Response.json({ status: 404, detail: `unknown family ${name}` }, { status: 404 });
      }
      return Response.json(table);
    }
    if (req.method === "POST" && url.pathname === "/v1/train") {
      const request = await req.json() as PointRequest;
      trained.push(request);
      const row = served.sizes.find((s) => s.size === request.size);
      if (row === undefined) {
        return Response.json({ status: 422, detail: "size: not buildable", field: "size" }, {
          status: 422,
        });
      }
      const batch = typeof request.batch_size === "number" ? request.batch_size : 32;
      const steps = Math.floor(request.budget.flops / (row.flops_per_sample * batch) + 1e-9);
      const samples = steps * batch;
      const tokens = samples * STUB_CONTEXT;
      // L = 1 + 40/N^0.34 + 50/D^0.28 (the mock law's shape, noiseless).
      const loss = 1 + 40 / row.params ** 0.34 + 50 / tokens ** 0.28;
      const result: Record<string, unknown> = {
        family: request.family,
        params: row.params,
        samples,
        tokens,
        flops: samples * row.flops_per_sample,
        loss,
        eval_loss: loss * 1.01,
        backend: { name: "stub" },
      };
      return Response.json(options.answer === undefined ? result : options.answer(result));
    }
    return new Response("not found", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    trained,
    asked,
    close: () => server.shutdown(),
  };
}
