/**
 * `--mock`: a trainer that answers instantly with the loss a known law predicts, plus noise.
 *
 * L(N, D) = (E + A / N^α + B / D^β) · (1 + σ·ε), ε ~ N(0, 1) seeded by the point's key, so the
 * same point always gets the same loss; the held-out `eval_loss` is the same law with the next
 * draw of ε. N and D come from the family's exact counts, exactly as
 * the real trainer would spend the budget: S = ⌊C / F(N)⌋ samples, D = S · units per sample.
 *
 * @module
 */
import type { MockLaw } from "./config.ts";
import { pointKey, type SweepFamily } from "../plan/mod.ts";
import { hashString, mulberry32, normalDraw } from "../random.ts";
import { PermanentError, type Trainer } from "./trainer.ts";

/**
 * The law's noiseless loss.
 *
 * @param law The known law.
 * @param params N.
 * @param data D.
 * @returns E + A / N^α + B / D^β.
 */
export function lawLoss(law: MockLaw, params: number, data: number): number {
  return law.E + law.A / params ** law.alpha + law.B / data ** law.beta;
}

/**
 * A trainer that draws losses from a known law.
 *
 * @param family The family whose exact parameter and FLOP counts define N and D.
 * @param law The law, its noise and an optional artificial delay.
 * @returns The trainer (named `mock`).
 *
 * @example
 * ```ts
 * import { mockTrainer } from "./mock.ts";
 * import { MockLawSchema } from "./config.ts";
 * const family = { name: "toy", sizeParam: "d", dataUnit: "tokens" as const, unitsPerSample: 1,
 *   sizes: [{ size: 8, params: 1e4, flopsPerSample: 6e4 }] };
 * const trainer = mockTrainer(family, MockLawSchema.parse({ noise: 0 }));
 * const r = await trainer.train({ family: "toy", size: 8, dataset: "x", budget: { flops: 6e8 }, seed: 0 },
 *   { signal: new AbortController().signal });
 * if (!(Number(r.loss) > 1.69)) throw new Error("unexpected");
 * ```
 */
export function mockTrainer(family: SweepFamily, law: MockLaw): Trainer {
  return {
    name: "mock",
    concurrency: 1,
    async train(request, { signal, onProgress }) {
      const size = family.sizes.find((s) => s.size === request.size);
      if (size === undefined) {
        throw new PermanentError(`The mock cannot build ${family.sizeParam}=${request.size}.`);
      }
      const samples = Math.floor(request.budget.flops / size.flopsPerSample);
      if (samples < 1) throw new PermanentError("The budget buys no sample.");
      const data = samples * family.unitsPerSample;
      const random = mulberry32(hashString(pointKey(request)));
      const expected = lawLoss(law, size.params, data);
      const loss = expected * (1 + law.noise * normalDraw(random));
      // The held-out estimate of the same law, with its own noise draw (the train contract's
      // `eval_loss`, which a sweep fitting the held-out loss needs).
      const evalLoss = expected * (1 + law.noise * normalDraw(random));
      if (law.delay_ms > 0) {
        const steps = 10;
        for (let step = 1; step <= steps; step++) {
          await abortableSleep(law.delay_ms / steps, signal);
          // A plausible falling curve towards the final loss, for the progress display.
          onProgress?.({ step, steps, loss: loss * (1 + 0.5 * (1 - step / steps)) });
        }
      }
      signal.throwIfAborted();
      return {
        params: size.params,
        flops_per_sample: size.flopsPerSample,
        samples,
        [family.dataUnit]: data,
        flops: samples * size.flopsPerSample,
        loss,
        eval_loss: evalLoss,
        backend: "mock",
      };
    },
  };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
