import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  assertSameOnBlas,
  BLAS_OK,
  BLAS_SKIP,
  randomValues,
  worstExcess,
} from "../backend/blas/_helpers.ts";
import { gelu, hasFusedKernels, layerNorm, softmax } from "../../../lib/ops/fused.ts";
import { attention, crossEntropy, MASK_NEGATIVE } from "../../../models/layers.ts";
import { jsImpl, nativeImpl } from "../../../lib/backend/blas/fused_impl.ts";
import { loadNative } from "../../../lib/backend/blas/native.ts";

const ignore = !BLAS_OK;
const native = loadNative();

Deno.test(
  `fused gelu, layerNorm and softmax on blas match tfjs's composite ops on cpu, with gradients${BLAS_SKIP}`,
  {
    ignore,
  },
  async () => {
    await tf.setBackend("blas");
    assert.equal(hasFusedKernels(), true);
    await tf.setBackend("cpu");
    assert.equal(hasFusedKernels(), false);
    let seed = 1;
    // [520, 128] is past the native kernels' threading threshold (32768 floats).
    for (const shape of [[1, 1], [7, 5], [130, 64], [2, 3, 33], [520, 128]]) {
      await assertSameOnBlas([{ shape, seed: seed++ }], (x) => gelu(tf.mul(x, 4)), {
        grads: true,
        label: `gelu ${shape}`,
      });
      const c = shape[shape.length - 1];
      await assertSameOnBlas(
        [{ shape, seed: seed++ }, { shape: [c], seed: seed++ }, { shape: [c], seed: seed++ }],
        (x, g, b) => layerNorm(tf.add(tf.mul(x, 3), 0.5), g, b, 1e-5),
        { grads: true, atol: 1e-4, label: `layerNorm ${shape}` },
      );
      await assertSameOnBlas([{ shape, seed: seed++ }], (x) => softmax(tf.mul(x, 6)), {
        grads: true,
        label: `softmax ${shape}`,
      });
    }
  },
);

Deno.test(
  `fused attention on blas matches the composite attention on cpu, masked, causal or neither, with gradients${BLAS_SKIP}`,
  {
    ignore,
  },
  async () => {
    let seed = 50;
    // mode: "mask" = the causal mask as an additive tensor; "causal" = the causal flag (the
    // native kernel's blocked path: T below, at and across its 32-row blocks); "both".
    type Mode = "none" | "mask" | "causal" | "both";
    for (
      const [batch, tokens, heads, width, mode] of [
        [1, 1, 1, 4, "none"],
        [2, 5, 2, 8, "none"],
        [3, 17, 4, 16, "mask"],
        [2, 65, 4, 64, "none"],
        [1, 1, 1, 4, "causal"],
        [3, 17, 4, 16, "causal"],
        [2, 32, 2, 16, "causal"],
        [2, 70, 2, 16, "causal"],
        [1, 37, 3, 12, "both"],
      ] as [number, number, number, number, Mode][]
    ) {
      await assertSameOnBlas(
        [{ shape: [batch * tokens, 3 * width], seed: seed++ }],
        (qkv) => {
          const mask = mode === "mask" || mode === "both"
            ? tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([tokens, tokens]), -1, 0)), MASK_NEGATIVE)
            : undefined;
          return attention(tf.mul(qkv, 2) as tf.Tensor2D, {
            batch,
            tokens,
            heads,
            mask: mask as tf.Tensor2D | undefined,
            causal: mode === "causal" || mode === "both",
          });
        },
        {
          grads: true,
          label: `attention B${batch} T${tokens} H${heads} C${width} ${mode}`,
        },
      );
    }
  },
);

Deno.test(
  `fused cross-entropy on blas matches the composite one on cpu, with label smoothing and gradients${BLAS_SKIP}`,
  { ignore },
  async () => {
    let seed = 200;
    // [4096, 256] is the benchmark GPT's head, past the threading threshold.
    for (const [rows, classes] of [[1, 2], [5, 3], [37, 256], [4096, 256]]) {
      const labels = Int32Array.from(
        randomValues(rows, seed++),
        (v) => Math.min(classes - 1, Math.floor((v + 1) / 2 * classes)),
      );
      for (const smoothing of [0, 0.1]) {
        await assertSameOnBlas(
          [{ shape: [rows, classes], seed: seed++ }],
          (z) => crossEntropy(tf.mul(z, 8) as tf.Tensor2D, tf.tensor1d(labels, "int32"), smoothing),
          { grads: true, label: `crossEntropy ${rows}×${classes} ε=${smoothing}` },
        );
      }
    }
    await tf.setBackend("blas");
    const z = tf.zeros([2, 3]) as tf.Tensor2D;
    const bad = tf.tensor1d([0, 3], "int32");
    assert.throws(() => crossEntropy(z, bad), /label 3 at row 1 .*\[0, 3\)/);
    tf.dispose([z, bad]);
  },
);

Deno.test(
  `native and JavaScript fused kernels agree${
    native.ok ? "" : ` (skipped: ${!native.ok && native.reason})`
  }`,
  {
    ignore: !native.ok,
  },
  () => {
    if (!native.ok) return;
    const impl = nativeImpl(native.symbols);
    const rows = 37;
    const c = 65;
    const x = randomValues(rows * c, 9).map((v) => v * 6);
    const dy = randomValues(rows * c, 10);
    const g = randomValues(c, 11);
    const b = randomValues(c, 12);
    const check = (name: string, got: Float32Array, want: Float32Array, atol = 1e-6) => {
      const excess = worstExcess(got, want, 1e-5, atol);
      assert.ok(excess <= 0, `${name}: off by ${excess.toExponential(2)} beyond tolerance`);
    };
    check("exp", impl.exp(x), jsImpl.exp(x));
    check("exp underflow", impl.exp(Float32Array.of(-1e9, -100, 0)), Float32Array.of(0, 0, 1));
    check("erf", impl.erf(x), jsImpl.erf(x));
    check("gelu", impl.gelu(x), jsImpl.gelu(x));
    check("geluGrad", impl.geluGrad(x, dy), jsImpl.geluGrad(x, dy));
    const ln = impl.layerNorm(x, g, b, rows, c, 1e-5);
    const lnJs = jsImpl.layerNorm(x, g, b, rows, c, 1e-5);
    check("layerNorm", ln.y, lnJs.y, 1e-5);
    const lg = impl.layerNormGrad(x, g, ln.mean, ln.rstd, dy, rows, c);
    const lgJs = jsImpl.layerNormGrad(x, g, lnJs.mean, lnJs.rstd, dy, rows, c);
    check("layerNormGrad dx", lg.dx, lgJs.dx, 1e-5);
    check("layerNormGrad dg", lg.dg, lgJs.dg, 1e-4);
    check("layerNormGrad db", lg.db, lgJs.db, 1e-4);
    const y = impl.softmax(x, rows, c);
    check("softmax", y, jsImpl.softmax(x, rows, c));
    check("softmaxGrad", impl.softmaxGrad(y, dy, rows, c), jsImpl.softmaxGrad(y, dy, rows, c));
    const labels = Int32Array.from({ length: rows }, (_, i) => (i * 7) % c);
    const ce = impl.crossEntropy(x, labels, rows, c);
    const ceJs = jsImpl.crossEntropy(x, labels, rows, c);
    check("crossEntropy probs", ce.probs, ceJs.probs);
    check("crossEntropy nll", ce.nll, ceJs.nll, 1e-5);
    check("crossEntropy uniform", ce.uniform, ceJs.uniform, 1e-5);
    const coefs = { scale: 0.3, smoothing: 0.1 };
    check(
      "crossEntropyGrad",
      impl.crossEntropyGrad(ce.probs, labels, rows, c, coefs),
      jsImpl.crossEntropyGrad(ceJs.probs, labels, rows, c, coefs),
    );
  },
);

Deno.test(`the JavaScript attention path (per-head FFI GEMMs) matches the native one${BLAS_SKIP}`, {
  ignore,
}, async () => {
  const { MathBackendCPU } = await import("@tensorflow/tfjs-backend-cpu");
  const { attentionKernelConfigs } = await import("../../../lib/backend/blas/attention.ts");
  const { openBlasGemm } = await import("../../../lib/backend/blas/gemm.ts");
  const { loadOpenBlas } = await import("../../../lib/backend/blas/openblas.ts");
  const name = "blas-test-js-attention";
  const blas = loadOpenBlas();
  if (!blas.ok) return;
  for (const k of tf.getKernelsForBackend("blas")) tf.registerKernel({ ...k, backendName: name });
  for (const k of attentionKernelConfigs(name, openBlasGemm(blas.blas), jsImpl)) {
    tf.unregisterKernel(k.kernelName, name);
    tf.registerKernel(k);
  }
  tf.registerBackend(name, () => new MathBackendCPU());
  try {
    // T 9 with the mask tensor; T 40 with the causal flag (two of the native kernel's row blocks).
    const run = async (backend: string, tokens: number, causal: boolean) => {
      await tf.setBackend(backend);
      const qkv = tf.tensor2d(randomValues(3 * tokens * 24, 77), [3 * tokens, 24]);
      const mask = causal ? undefined : tf.mul(
        tf.sub(1, tf.linalg.bandPart(tf.ones([tokens, tokens]), -1, 0)),
        MASK_NEGATIVE,
      ) as tf.Tensor2D;
      const f = (x: tf.Tensor) =>
        tf.sum(
          tf.square(attention(x as tf.Tensor2D, { batch: 3, tokens, heads: 2, mask, causal })),
        );
      const { value, grad } = tf.valueAndGrad(f)(qkv);
      const out = { value: value.dataSync()[0], grad: grad.dataSync() as Float32Array };
      tf.dispose([qkv, value, grad]);
      if (mask !== undefined) mask.dispose();
      return out;
    };
    for (const [tokens, causal] of [[9, false], [40, true]] as [number, boolean][]) {
      const js = await run(name, tokens, causal);
      const nat = await run("blas", tokens, causal);
      assert.ok(Math.abs(js.value - nat.value) <= 1e-5 * Math.abs(nat.value), `T ${tokens}`);
      assert.ok(worstExcess(js.grad, nat.grad, 1e-4, 1e-6) <= 0, `T ${tokens} gradient`);
    }
  } finally {
    await tf.setBackend("cpu");
    tf.removeBackend(name);
    for (const k of tf.getKernelsForBackend(name)) tf.unregisterKernel(k.kernelName, name);
  }
});

Deno.test(`fusedAdamWUpdate() on blas equals the composite AdamW update on cpu${BLAS_SKIP}`, {
  ignore,
}, async () => {
  const { fusedAdamWUpdate } = await import("../../../lib/ops/adamw.ts");
  const attrs = {
    lr: 3e-3,
    beta1: 0.9,
    beta2: 0.99,
    eps: 1e-8,
    weightDecay: 0.1,
    bias1: 0.19,
    bias2: 0.0199,
  };
  // [300, 128] is past the native kernel's threading threshold (32768 floats).
  for (const shape of [[33, 7], [300, 128]]) {
    await assertSameOnBlas(
      [70, 71, 72, 73].map((seed) => ({ shape, seed })),
      (p, g, m, vRaw) => {
        const v = tf.abs(vRaw); // a second moment is non-negative
        const coef = tf.scalar(0.7);
        if (tf.getBackend() === "blas") return fusedAdamWUpdate({ p, g, m, v, coef }, attrs);
        const gs = tf.mul(g, coef);
        const m1 = tf.add(tf.mul(m, attrs.beta1), tf.mul(gs, 1 - attrs.beta1));
        const v1 = tf.add(tf.mul(v, attrs.beta2), tf.mul(tf.square(gs), 1 - attrs.beta2));
        const update = tf.div(
          tf.div(m1, attrs.bias1),
          tf.add(tf.sqrt(tf.div(v1, attrs.bias2)), attrs.eps),
        );
        const p1 = tf.sub(tf.mul(p, 1 - attrs.lr * attrs.weightDecay), tf.mul(update, attrs.lr));
        return [p1, m1, v1];
      },
      { label: `adamw update ${shape}` },
    );
  }
});
