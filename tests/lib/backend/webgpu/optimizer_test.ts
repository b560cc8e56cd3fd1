import * as tfCore from "@tensorflow/tfjs-core";
import { assertClose, gpuTest, output, random, read, run, tf, upload } from "./_gpu.ts";
import {
  adamw,
  gradNormFinish,
  gradNormPartials,
  NORM_PARTIALS,
  STATS,
} from "../../../../lib/backend/webgpu/mod.ts";
import { AdamW } from "../../../../lib/train/adamw.ts";

gpuTest(
  "AdamW over a flat buffer: two clipped steps equal lib/train/adamw.ts on tfjs-cpu",
  async (ctx) => {
    const sizes = [70, 33]; // first tensor decays, second does not
    const n = sizes[0]! + sizes[1]!;
    const p0 = random(n, 81);
    const constants = {
      beta1: 0.9,
      beta2: 0.95,
      eps: 1e-8,
      weightDecay: 0.1,
      clipNorm: 0.5,
      gradScale: 0.5,
    };
    const params = upload(ctx, "p", p0);
    const m = output(ctx, "m", n, 0);
    const v = output(ctx, "v", n, 0);
    const decay = upload(
      ctx,
      "decay",
      Float32Array.from({ length: n }, (_, i) => (i < sizes[0]! ? 1 : 0)),
    );
    const partials = output(ctx, "partials", NORM_PARTIALS);
    const stats = output(ctx, "stats", 4, 0);
    const hyper = output(ctx, "hyper", 3);
    const grads = output(ctx, "grads", n);
    const vars = sizes.map((_s, k) => ({
      name: `p${k}`,
      variable: tf.variable(tf.tensor1d(p0.slice(k === 0 ? 0 : sizes[0], k === 0 ? sizes[0] : n))),
      decay: k === 0,
    }));
    const ref = new AdamW(vars, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
    const lrs = [0.01, 0.003];
    const norms: number[] = [];
    for (let step = 0; step < 2; step++) {
      const g = random(n, 90 + step, 3);
      ctx.device.queue.writeBuffer(grads.buffer, 0, g as Float32Array<ArrayBuffer>);
      const t = step + 1;
      ctx.device.queue.writeBuffer(
        hyper.buffer,
        0,
        new Float32Array([lrs[step]!, 1 - 0.9 ** t, 1 - 0.95 ** t]),
      );
      await run(ctx, [
        gradNormPartials({ label: "norm1", grads, partials }),
        gradNormFinish({ label: "norm2", partials, stats, constants }),
        adamw({ label: "adamw", params, grads, m, v, decay, stats, hyper, constants }),
      ]);
      const norm = ref.step([
        tfCore.tensor1d(g.slice(0, sizes[0])),
        tfCore.tensor1d(g.slice(sizes[0])),
      ], {
        lr: lrs[step]!,
        gradScale: 0.5,
        clipNorm: 0.5,
      });
      norms.push(norm.dataSync()[0]!);
      norm.dispose();
      const s = await read(ctx, stats);
      assertClose(s.subarray(STATS.norm, STATS.norm + 1), [norms[step]!], `norm, step ${t}`);
    }
    const expected = new Float32Array(n);
    expected.set(vars[0]!.variable.dataSync(), 0);
    expected.set(vars[1]!.variable.dataSync(), sizes[0]);
    assertClose(await read(ctx, params), expected, "params after 2 steps", {
      atol: 1e-6,
      rtol: 1e-5,
    });
    ref.dispose();
    vars.forEach((x) => x.variable.dispose());
  },
);
