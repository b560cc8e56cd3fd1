import { assertClose, gpuTest, output, random, read, run, tf, upload, values } from "./_gpu.ts";
import {
  clsRows,
  clsRowsGrad,
  gptEmbed,
  gptTokenGrad,
  positionGrad,
  vitPatches,
  vitPatchRowsGrad,
  vitTokens,
} from "../../../../lib/backend/webgpu/mod.ts";
import { tokenBuckets } from "../../../../lib/backend/webgpu/mod.ts";

gpuTest(
  "GPT embedding: wte[ids] + wpe, and its scatter-add gradients, equal tfjs-cpu",
  async (ctx) => {
    const [b, t, v, c] = [3, 5, 11, 6];
    const ids = Int32Array.from({ length: b * t }, (_, i) => (i * 7 + 3) % v);
    ids[4] = ids[0]!; // a repeated token
    const wte = random(v * c, 61);
    const wpe = random(t * c, 62);
    const dx = random(b * t * c, 63);
    const x = output(ctx, "x", b * t * c);
    const dwte = output(ctx, "dwte", v * c, 0);
    const dwpe = output(ctx, "dwpe", t * c, 0);
    const buckets = tokenBuckets(ids, v);
    const DX = upload(ctx, "dx", dx);
    await run(ctx, [
      gptEmbed({
        label: "embed",
        ids: upload(ctx, "ids", Uint32Array.from(ids)),
        wte: upload(ctx, "wte", wte),
        wpe: upload(ctx, "wpe", wpe),
        x,
        tokens: t,
        width: c,
      }),
      gptTokenGrad({
        label: "dwte",
        bucketStart: upload(ctx, "start", buckets.start),
        bucketRows: upload(ctx, "rows", buckets.rows),
        dx: DX,
        dwte,
        width: c,
      }),
      positionGrad({ label: "dwpe", dx: DX, dpos: dwpe, batch: b, tokens: t }),
    ]);
    const [rx, gte, gpe] = tf.tidy(() => {
      const f = (te: tf.Tensor, pe: tf.Tensor) =>
        tf.reshape(tf.add(tf.reshape(tf.gather(te, tf.tensor1d(ids, "int32")), [b, t, c]), pe), [
          b * t,
          c,
        ]);
      const args = [tf.tensor2d(wte, [v, c]), tf.tensor2d(wpe, [t, c])];
      const g = tf.grads(f)(args, tf.tensor2d(dx, [b * t, c]));
      return [values(f(args[0]!, args[1]!)), ...g.map(values)];
    });
    assertClose(await read(ctx, x), rx!, "x");
    assertClose(await read(ctx, dwte), gte!, "dwte");
    assertClose(await read(ctx, dwpe), gpe!, "dwpe");
  },
);

gpuTest(
  "ViT embedding: patches, CLS + pos tokens, CLS rows, and their gradients equal tfjs-cpu",
  async (ctx) => {
    const [b, s, p, ch, c] = [2, 8, 4, 3, 5];
    const side = s / p;
    const n = side * side;
    const t = n + 1;
    const pd = p * p * ch;
    const img = random(b * s * s * ch, 71);
    const emb = random(b * n * c, 72);
    const cls = random(c, 73);
    const pos = random(t * c, 74);
    const dx = random(b * t * c, 75);
    const dcls = random(b * c, 76);
    const patches = output(ctx, "patches", b * n * pd);
    const x = output(ctx, "x", b * t * c);
    const rows = output(ctx, "cls rows", b * c);
    const dpos = output(ctx, "dpos", t * c, 0);
    const dclsTok = output(ctx, "dcls", c, 0);
    const demb = output(ctx, "demb", b * n * c);
    const dxFromCls = output(ctx, "dx from cls", b * t * c);
    const DX = upload(ctx, "dx", dx);
    await run(ctx, [
      vitPatches({
        label: "patches",
        images: upload(ctx, "img", img),
        patches,
        imageSize: s,
        patch: p,
        channels: ch,
      }),
      vitTokens({
        label: "tokens",
        emb: upload(ctx, "emb", emb),
        cls: upload(ctx, "cls", cls),
        pos: upload(ctx, "pos", pos),
        x,
        tokens: t,
        width: c,
      }),
      clsRows({ label: "cls rows", x, out: rows, tokens: t, width: c }),
      positionGrad({ label: "dpos", dx: DX, dpos, dcls: dclsTok, batch: b, tokens: t }),
      vitPatchRowsGrad({ label: "demb", dx: DX, demb, tokens: t, width: c }),
      clsRowsGrad({
        label: "dcls rows",
        dcls: upload(ctx, "dclsrows", dcls),
        dx: dxFromCls,
        tokens: t,
        width: c,
      }),
    ]);
    const ref = tf.tidy(() => {
      const images = tf.tensor4d(img, [b, s, s, ch]);
      const rp = values(tf.reshape(
        tf.transpose(tf.reshape(images, [b, side, p, side, p, ch]), [0, 1, 3, 2, 4, 5]),
        [b * n, pd],
      ));
      const f = (e: tf.Tensor, k: tf.Tensor, q: tf.Tensor) =>
        tf.reshape(
          tf.add(tf.concat([tf.broadcastTo(k, [b, 1, c]), tf.reshape(e, [b, n, c])], 1), q),
          [b * t, c],
        );
      const args = [
        tf.tensor2d(emb, [b * n, c]),
        tf.tensor3d(cls, [1, 1, c]),
        tf.tensor3d(pos, [1, t, c]),
      ];
      const grads = tf.grads(f)(args, tf.tensor2d(dx, [b * t, c])).map(values);
      const xs = f(args[0]!, args[1]!, args[2]!);
      const slice = (u: tf.Tensor) =>
        tf.reshape(tf.slice(tf.reshape(u, [b, t, c]), [0, 0, 0], [b, 1, c]), [b, c]);
      const dSlice = values(tf.grad(slice)(xs, tf.tensor2d(dcls, [b, c])));
      return {
        rp,
        x: values(xs),
        rows: values(slice(xs)),
        demb: grads[0]!,
        dcls: grads[1]!,
        dpos: grads[2]!,
        dSlice,
      };
    });
    assertClose(await read(ctx, patches), ref.rp, "patches");
    assertClose(await read(ctx, x), ref.x, "tokens");
    assertClose(await read(ctx, rows), ref.rows, "CLS rows");
    assertClose(await read(ctx, dpos), ref.dpos, "dpos");
    assertClose(await read(ctx, dclsTok), ref.dcls, "dcls");
    assertClose(await read(ctx, demb), ref.demb, "demb");
    assertClose(await read(ctx, dxFromCls), ref.dSlice, "d(CLS rows)");
  },
);
