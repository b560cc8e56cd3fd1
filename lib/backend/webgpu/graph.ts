/**
 * The schedule of kernels of one (family, config, micro-batch): forward, and for training the
 * backward into the gradient buffer, derived from the model definitions in `models/` — the same
 * parameter names, shapes and order as `family.build(config, seed).variables` (checked), the same
 * layers as `models/layers.ts` (pre-LN blocks, fused qkv, exact GELU, LayerNorm ε = 1e-5), the
 * same heads (GPT tied `h·wteᵀ` or untied linear; ViT linear on the final-normed CLS token).
 *
 * Activations live in an {@linkcode Arena}; parameters and their gradients are views of the flat
 * buffers of a {@linkcode ParamLayout}. Every gradient kernel accumulates (+=) into the gradient
 * buffer, which the step clears once per optimiser step, so micro-batches sum their gradients in
 * place and a tied embedding receives both of its contributions.
 *
 * @module
 */
import { type GptConfig, LAYER_NORM_EPS, sinCos2d, type VitConfig } from "../../../models/mod.ts";
import { type Arena, type KernelSpec, type Region, subRegion } from "./program.ts";
import { matmul, splitKParts, splitKSum } from "./matmul.ts";
import { columnSums, geluBackward } from "./elementwise.ts";
import {
  layerNormBackward,
  layerNormForward,
  layerNormParamGrads,
  type LayerNormShape,
} from "./layer_norm.ts";
import {
  attentionOutput,
  attentionProbs,
  attentionQkvBackward,
  attentionScoresBackward,
} from "./attention.ts";
import { crossEntropy, sumInto } from "./cross_entropy.ts";
import {
  clsRows,
  clsRowsGrad,
  gptEmbed,
  gptTokenGrad,
  positionGrad,
  vitPatches,
  vitPatchRowsGrad,
  vitTokens,
} from "./embedding.ts";
import { STATS } from "./optimizer.ts";

/** One parameter tensor in the flat buffers. */
export interface ParamEntry {
  /** Dotted name, as the model's `NamedVariable`. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Elements. */
  length: number;
  /** First element in the flat buffers (aligned for binding). */
  offset: number;
  /** Whether weight decay applies. */
  decay: boolean;
}

/** Where every parameter lives in the flat parameter / gradient / moment buffers. */
export interface ParamLayout {
  /** Entries in the model's variable order. */
  entries: ParamEntry[];
  /** Elements of each flat buffer (padding included). */
  length: number;
}

/**
 * Lay the model's variables out in one flat buffer, each at an offset aligned to `alignBytes`
 * (so each can be bound on its own); the padding is zero and never decays.
 * @param variables Name, shape and decay of each variable, in the model's order.
 * @param alignBytes The device's storage offset alignment.
 */
export function layoutParams(
  variables: { name: string; shape: number[]; decay: boolean }[],
  alignBytes: number,
): ParamLayout {
  const align = Math.max(4, alignBytes) / 4;
  let offset = 0;
  const entries = variables.map((v) => {
    const length = v.shape.reduce((a, b) => a * b, 1);
    const entry = { name: v.name, shape: v.shape, length, offset, decay: v.decay };
    offset += Math.ceil(length / align) * align;
    return entry;
  });
  return { entries, length: Math.max(offset, 1) };
}

/** The model a graph is built for. */
export type ModelSpec =
  | { family: "gpt"; config: GptConfig }
  | { family: "vit"; config: VitConfig };

/** Options of {@linkcode buildGraph}. */
export interface GraphOptions {
  /** Family and resolved config. */
  model: ModelSpec;
  /** Samples per launch of the graph (the micro-batch). */
  batch: number;
  /** `train`: forward + loss + backward; `eval`: forward + loss + accuracy totals. */
  mode: "train" | "eval";
  /** Label smoothing ε of the training loss (eval uses 0). */
  labelSmoothing: number;
  /** Parameter layout. */
  layout: ParamLayout;
  /** The flat parameter buffer's region. */
  params: Region;
  /** The flat gradient buffer's region (train). */
  grads?: Region;
  /** The 4-float totals region (`STATS`) the loss is added to. */
  stats: Region;
  /** Where activations are allocated. */
  arena: Arena;
}

/** The batch-sized inputs the host uploads before each launch. */
export type GraphInputs =
  | { kind: "text"; ids: Region; targets: Region; bucketStart?: Region; bucketRows?: Region }
  | { kind: "image"; images: Region; labels: Region };

/** A built graph. */
export interface Graph {
  /** Launches, in order. */
  specs: KernelSpec[];
  /** Fixed tables the host writes once before the first launch (ViT's sin-cos positions). */
  constants: { region: Region; values: Float32Array }[];
  /** Regions the host fills per batch. */
  inputs: GraphInputs;
}

/** Views of one parameter (or its gradient) by name. */
type Lookup = (name: string) => Region;

function lookupIn(layout: ParamLayout, flat: Region, used?: Set<string>): Lookup {
  const byName = new Map(layout.entries.map((e) => [e.name, e]));
  return (name) => {
    const e = byName.get(name);
    if (e === undefined) throw new Error(`The model has no parameter ${name}`);
    used?.add(name);
    return subRegion(flat, e.offset, e.length, name);
  };
}

/**
 * Every parameter of the model must receive a gradient: a variable the schedule does not know
 * (the model definition changed) fails the compile instead of silently never training.
 */
function checkCovered(layout: ParamLayout, used: Set<string>): void {
  const missed = layout.entries.filter((e) => !used.has(e.name)).map((e) => e.name);
  if (missed.length > 0) {
    throw new Error(`The compiled schedule gives no gradient to ${missed.join(", ")}`);
  }
}

/** Allocates an activation region. */
type Alloc = (label: string, length: number) => Region;

/** Launches of `c += aᵀ·b` for a weight gradient: `a` `(k, m)`, `b` `(k, n)`, `c` `(m, n)`. */
type WeightGrad = (
  o: { label: string; a: Region; b: Region; c: Region; m: number; n: number; k: number },
) => KernelSpec[];

/**
 * Weight gradients `dW += xᵀ·dy` over all rows of the batch: one TN matmul when the gradient has
 * enough 64×64 tiles to fill a GPU, else split over the rows (K) into parts summed by a second
 * launch (scratch shared between launches of one size).
 */
function weightGradients(a: Alloc): WeightGrad {
  const scratch = new Map<number, Region>();
  return (o) => {
    const parts = splitKParts(o.m, o.n, o.k);
    if (parts === 1) return [matmul({ ...o, transA: true, accumulate: true })];
    const length = parts * o.m * o.n;
    let partial = scratch.get(length);
    if (partial === undefined) {
      partial = a(`split-K scratch ${length}`, length);
      scratch.set(length, partial);
    }
    return [
      matmul({ ...o, label: `${o.label} split ${parts}`, c: partial, transA: true, splitK: parts }),
      splitKSum({ label: `${o.label} sum`, partial, c: o.c, parts, accumulate: true }),
    ];
  };
}

/** Buffers and shape of the backward of a linear layer y = x·W + b, W `(inputs, outputs)`. */
interface LinearGrad {
  /** Label prefix, e.g. `blocks.0.mlp.fc2`. */
  label: string;
  /** The layer's input x `(rows, inputs)`, saved by the forward. */
  x: Region;
  /** dL/dy `(rows, outputs)`. */
  dy: Region;
  /** W `(inputs, outputs)`, read for dx. */
  w: Region;
  /** dL/dW `(inputs, outputs)`, accumulated. */
  dw: Region;
  /** dL/db `(outputs)`, accumulated. */
  db: Region;
  /** dL/dx `(rows, inputs)`, written; absent where nothing reads it (the patch embedding). */
  dx?: Region;
  rows: number;
  inputs: number;
  outputs: number;
}

/**
 * The backward of y = x·W + b: dx = dy·Wᵀ (NT), dW += xᵀ·dy (TN, split over the rows when the
 * gradient has few tiles), db += Σ_rows dy.
 */
function linearBackward(weightGrad: WeightGrad, o: LinearGrad): KernelSpec[] {
  const { rows, inputs, outputs } = o;
  return [
    ...(o.dx === undefined ? [] : [
      matmul({
        label: `${o.label} dx NT`,
        a: o.dy,
        b: o.w,
        c: o.dx,
        m: rows,
        n: inputs,
        k: outputs,
        transB: true,
      }),
    ]),
    ...weightGrad({
      label: `${o.label} dW TN`,
      a: o.x,
      b: o.dy,
      c: o.dw,
      m: inputs,
      n: outputs,
      k: rows,
    }),
    columnSums({
      label: `${o.label} db`,
      x: o.dy,
      out: o.db,
      rows,
      cols: outputs,
      accumulate: true,
    }),
  ];
}

/**
 * The backward of a LayerNorm y = (x − μ)·rstd·g + b: dx (written to `dxOut`, plus `dxIn` when
 * given: the residual gradient passing by), then dg += Σ_rows dy·x̂ and db += Σ_rows dy.
 */
function layerNormGrads(
  o: LayerNormShape & {
    x: Region;
    g: Region;
    mean: Region;
    rstd: Region;
    dy: Region;
    dxIn?: Region;
    dxOut: Region;
    dg: Region;
    db: Region;
  },
): KernelSpec[] {
  const { label, dg, db, ...rest } = o;
  const { g: _g, dxIn: _dxIn, dxOut: _dxOut, ...stats } = rest;
  return [
    layerNormBackward({ ...rest, label: `${label} dx` }),
    layerNormParamGrads({ ...stats, label: `${label} dg`, dg, db }),
  ];
}

/** Dimensions of the transformer trunk. */
interface Trunk {
  batch: number;
  tokens: number;
  width: number;
  heads: number;
  mlp: number;
  depth: number;
  causal: boolean;
}

/** Saved activations of one block. */
interface BlockActs {
  x: Region;
  y1: Region;
  mean1: Region;
  rstd1: Region;
  qkv: Region;
  probs: Region;
  att: Region;
  x1: Region;
  y2: Region;
  mean2: Region;
  rstd2: Region;
  u: Region;
  h: Region;
  out: Region;
}

/**
 * Build the schedule of one micro-batch.
 * @param o Model, batch, mode, buffers.
 * @returns The launches and the input regions.
 */
export function buildGraph(o: GraphOptions): Graph {
  const p = lookupIn(o.layout, o.params);
  const train = o.mode === "train";
  if (train && o.grads === undefined) throw new Error("A training graph needs the gradients");
  const covered = new Set<string>();
  const dp = train ? lookupIn(o.layout, o.grads!, covered) : p;
  const specs: KernelSpec[] = [];
  const a = (label: string, length: number) => o.arena.alloc(label, length);
  const weightGrad = weightGradients(a);
  const constants: Graph["constants"] = [];
  const b = o.batch;

  if (o.model.family === "gpt") {
    const c = o.model.config;
    const t = c.context;
    const d = c.d_model;
    const rows = b * t;
    const trunk: Trunk = {
      batch: b,
      tokens: t,
      width: d,
      heads: c.heads,
      mlp: Math.round(c.mlp_ratio * d),
      depth: c.depth,
      causal: true,
    };
    const inputs: GraphInputs = {
      kind: "text",
      ids: a("ids", rows),
      targets: a("targets", rows),
      ...(train
        ? { bucketStart: a("bucket start", c.vocab_size + 1), bucketRows: a("bucket rows", rows) }
        : {}),
    };
    const x0 = a("x0", rows * d);
    specs.push(
      gptEmbed({
        label: "embed",
        ids: inputs.ids,
        wte: p("wte"),
        wpe: p("wpe"),
        x: x0,
        tokens: t,
        width: d,
      }),
    );
    const acts = trunkForward(specs, a, p, trunk, x0);
    const xL = acts.at(-1)!.out;
    const lnf = {
      y: a("ln_f.y", rows * d),
      mean: a("ln_f.mean", rows),
      rstd: a("ln_f.rstd", rows),
    };
    const shape = { rows, channels: d, eps: LAYER_NORM_EPS };
    specs.push(
      layerNormForward({ label: "ln_f", ...shape, x: xL, g: p("ln_f.g"), b: p("ln_f.b"), ...lnf }),
    );
    const v = c.vocab_size;
    const logits = a("logits", rows * v);
    if (c.tie_embeddings) {
      specs.push(
        matmul({
          label: "head (tied) NT",
          a: lnf.y,
          b: p("wte"),
          c: logits,
          m: rows,
          n: v,
          k: d,
          transB: true,
        }),
      );
    } else {
      specs.push(
        matmul({
          label: "head",
          a: lnf.y,
          b: p("head.w"),
          bias: p("head.b"),
          c: logits,
          m: rows,
          n: v,
          k: d,
        }),
      );
    }
    const rowLoss = a("row loss", rows);
    const dlogits = train ? a("dlogits", rows * v) : undefined;
    specs.push(crossEntropy({
      label: "cross-entropy",
      logits,
      labels: inputs.targets,
      rowLoss,
      rows,
      classes: v,
      ...(dlogits === undefined ? {} : { dlogits }),
    }));
    // Train: the micro-batch's mean loss; eval: Σ over samples of the per-sample mean (÷ T rows).
    specs.push(
      sumInto({
        label: "loss total",
        x: rowLoss,
        out: o.stats,
        slot: STATS.loss,
        scale: train ? 1 / rows : 1 / t,
      }),
    );
    if (!train) return { specs, inputs, constants };

    const dyf = a("d ln_f.y", rows * d);
    if (c.tie_embeddings) {
      specs.push(
        matmul({
          label: "head (tied) dx NN",
          a: dlogits!,
          b: p("wte"),
          c: dyf,
          m: rows,
          n: d,
          k: v,
        }),
      );
      specs.push(
        ...weightGrad({
          label: "head (tied) dW TN",
          a: dlogits!,
          b: lnf.y,
          c: dp("wte"),
          m: v,
          n: d,
          k: rows,
        }),
      );
    } else {
      specs.push(
        ...linearBackward(weightGrad, {
          label: "head",
          x: lnf.y,
          dy: dlogits!,
          w: p("head.w"),
          dw: dp("head.w"),
          db: dp("head.b"),
          dx: dyf,
          rows,
          inputs: d,
          outputs: v,
        }),
      );
    }
    const gA = a("grad A", rows * d);
    const gB = a("grad B", rows * d);
    specs.push(
      ...layerNormGrads({
        label: "ln_f",
        ...shape,
        x: xL,
        g: p("ln_f.g"),
        mean: lnf.mean,
        rstd: lnf.rstd,
        dy: dyf,
        dxOut: gA,
        dg: dp("ln_f.g"),
        db: dp("ln_f.b"),
      }),
    );
    const g0 = trunkBackward(specs, a, weightGrad, p, dp, trunk, acts, gA, gB);
    const buckets = inputs as { bucketStart: Region; bucketRows: Region };
    specs.push(
      gptTokenGrad({
        label: "wte scatter-add",
        bucketStart: buckets.bucketStart,
        bucketRows: buckets.bucketRows,
        dx: g0,
        dwte: dp("wte"),
        width: d,
      }),
    );
    specs.push(positionGrad({ label: "wpe grad", dx: g0, dpos: dp("wpe"), batch: b, tokens: t }));
    checkCovered(o.layout, covered);
    return { specs, inputs, constants };
  }

  const c = o.model.config;
  const side = c.image_size / c.patch_size;
  const patches = side * side;
  const t = patches + 1;
  const d = c.embed_dim;
  const pd = c.channels * c.patch_size * c.patch_size;
  const k = c.num_classes;
  const trunk: Trunk = {
    batch: b,
    tokens: t,
    width: d,
    heads: c.heads,
    mlp: Math.round(c.mlp_ratio * d),
    depth: c.depth,
    causal: false,
  };
  const inputs: GraphInputs = {
    kind: "image",
    images: a("images", b * c.image_size * c.image_size * c.channels),
    labels: a("labels", b),
  };
  const patchRows = a("patches", b * patches * pd);
  specs.push(
    vitPatches({
      label: "patchify",
      images: inputs.images,
      patches: patchRows,
      imageSize: c.image_size,
      patch: c.patch_size,
      channels: c.channels,
    }),
  );
  const emb = a("patch emb", b * patches * d);
  specs.push(
    matmul({
      label: "patch linear",
      a: patchRows,
      b: p("patch.w"),
      bias: p("patch.b"),
      c: emb,
      m: b * patches,
      n: d,
      k: pd,
    }),
  );
  // Learned positions are a parameter; sin-cos ones a fixed table (models/vit.ts's sinCos2d).
  const learned = c.pos_embedding === "learned";
  const pos = learned ? p("pos") : a("pos (sin-cos)", t * d);
  if (!learned) constants.push({ region: pos, values: sinCos2d(side, d) });
  const x0 = a("x0", b * t * d);
  specs.push(
    vitTokens({ label: "tokens", emb, cls: p("cls"), pos, x: x0, tokens: t, width: d }),
  );
  const acts = trunkForward(specs, a, p, trunk, x0);
  const xL = acts.at(-1)!.out;
  const xc = a("cls rows", b * d);
  specs.push(clsRows({ label: "cls rows", x: xL, out: xc, tokens: t, width: d }));
  const shape = { rows: b, channels: d, eps: LAYER_NORM_EPS };
  const lnf = { y: a("ln_f.y", b * d), mean: a("ln_f.mean", b), rstd: a("ln_f.rstd", b) };
  specs.push(
    layerNormForward({ label: "ln_f", ...shape, x: xc, g: p("ln_f.g"), b: p("ln_f.b"), ...lnf }),
  );
  const logits = a("logits", b * k);
  specs.push(
    matmul({
      label: "head",
      a: lnf.y,
      b: p("head.w"),
      bias: p("head.b"),
      c: logits,
      m: b,
      n: k,
      k: d,
    }),
  );
  const rowLoss = a("row loss", b);
  const dlogits = train ? a("dlogits", b * k) : undefined;
  const correct = train ? undefined : a("correct", b);
  specs.push(crossEntropy({
    label: "cross-entropy",
    logits,
    labels: inputs.labels,
    rowLoss,
    rows: b,
    classes: k,
    labelSmoothing: train ? o.labelSmoothing : 0,
    ...(dlogits === undefined ? {} : { dlogits }),
    ...(correct === undefined ? {} : { correct }),
  }));
  specs.push(
    sumInto({
      label: "loss total",
      x: rowLoss,
      out: o.stats,
      slot: STATS.loss,
      scale: train ? 1 / b : 1,
    }),
  );
  if (!train) {
    specs.push(
      sumInto({
        label: "accuracy total",
        x: correct!,
        out: o.stats,
        slot: STATS.correct,
        scale: 1,
      }),
    );
    return { specs, inputs, constants };
  }
  const dyf = a("d ln_f.y", b * d);
  specs.push(
    ...linearBackward(weightGrad, {
      label: "head",
      x: lnf.y,
      dy: dlogits!,
      w: p("head.w"),
      dw: dp("head.w"),
      db: dp("head.b"),
      dx: dyf,
      rows: b,
      inputs: d,
      outputs: k,
    }),
  );
  const dxc = a("d cls rows", b * d);
  specs.push(
    ...layerNormGrads({
      label: "ln_f",
      ...shape,
      x: xc,
      g: p("ln_f.g"),
      mean: lnf.mean,
      rstd: lnf.rstd,
      dy: dyf,
      dxOut: dxc,
      dg: dp("ln_f.g"),
      db: dp("ln_f.b"),
    }),
  );
  const gA = a("grad A", b * t * d);
  const gB = a("grad B", b * t * d);
  specs.push(clsRowsGrad({ label: "cls rows dx", dcls: dxc, dx: gA, tokens: t, width: d }));
  const g0 = trunkBackward(specs, a, weightGrad, p, dp, trunk, acts, gA, gB);
  specs.push(
    positionGrad({
      label: "pos + cls grad",
      dx: g0,
      // A sin-cos table has no gradient: its sums land in scratch.
      dpos: learned ? dp("pos") : a("d pos (unused)", t * d),
      dcls: dp("cls"),
      batch: b,
      tokens: t,
    }),
  );
  const demb = a("d patch emb", b * patches * d);
  specs.push(vitPatchRowsGrad({ label: "patch rows dx", dx: g0, demb, tokens: t, width: d }));
  specs.push(
    ...linearBackward(weightGrad, {
      label: "patch",
      x: patchRows,
      dy: demb,
      w: p("patch.w"),
      dw: dp("patch.w"),
      db: dp("patch.b"),
      rows: b * patches,
      inputs: pd,
      outputs: d,
    }),
  );
  checkCovered(o.layout, covered);
  return { specs, inputs, constants };
}

/** Forward of every block: x + proj(attn(LN1(x))), then x1 + fc2(GELU(fc1(LN2(x1)))). */
function trunkForward(
  specs: KernelSpec[],
  a: (label: string, length: number) => Region,
  p: Lookup,
  s: Trunk,
  x0: Region,
): BlockActs[] {
  const rows = s.batch * s.tokens;
  const c = s.width;
  const shape = { rows, channels: c, eps: LAYER_NORM_EPS };
  const attn = { batch: s.batch, tokens: s.tokens, heads: s.heads, width: c, causal: s.causal };
  const acts: BlockActs[] = [];
  let x = x0;
  for (let l = 0; l < s.depth; l++) {
    const n = `blocks.${l}`;
    const r: BlockActs = {
      x,
      y1: a(`${n}.ln1.y`, rows * c),
      mean1: a(`${n}.ln1.mean`, rows),
      rstd1: a(`${n}.ln1.rstd`, rows),
      qkv: a(`${n}.qkv`, rows * 3 * c),
      probs: a(`${n}.probs`, s.batch * s.heads * s.tokens * s.tokens),
      att: a(`${n}.att`, rows * c),
      x1: a(`${n}.x1`, rows * c),
      y2: a(`${n}.ln2.y`, rows * c),
      mean2: a(`${n}.ln2.mean`, rows),
      rstd2: a(`${n}.ln2.rstd`, rows),
      u: a(`${n}.fc1.out`, rows * s.mlp),
      h: a(`${n}.gelu`, rows * s.mlp),
      out: a(`${n}.out`, rows * c),
    };
    specs.push(
      layerNormForward({
        label: `${n}.ln1`,
        ...shape,
        x,
        g: p(`${n}.ln1.g`),
        b: p(`${n}.ln1.b`),
        y: r.y1,
        mean: r.mean1,
        rstd: r.rstd1,
      }),
      matmul({
        label: `${n}.qkv`,
        a: r.y1,
        b: p(`${n}.attn.qkv.w`),
        bias: p(`${n}.attn.qkv.b`),
        c: r.qkv,
        m: rows,
        n: 3 * c,
        k: c,
      }),
      attentionProbs({ label: `${n}.attn probs`, ...attn, qkv: r.qkv, probs: r.probs }),
      attentionOutput({ label: `${n}.attn out`, ...attn, qkv: r.qkv, probs: r.probs, out: r.att }),
      matmul({
        label: `${n}.proj`,
        a: r.att,
        b: p(`${n}.attn.proj.w`),
        bias: p(`${n}.attn.proj.b`),
        residual: x,
        c: r.x1,
        m: rows,
        n: c,
        k: c,
      }),
      layerNormForward({
        label: `${n}.ln2`,
        ...shape,
        x: r.x1,
        g: p(`${n}.ln2.g`),
        b: p(`${n}.ln2.b`),
        y: r.y2,
        mean: r.mean2,
        rstd: r.rstd2,
      }),
      matmul({
        label: `${n}.fc1 + gelu`,
        a: r.y2,
        b: p(`${n}.mlp.fc1.w`),
        bias: p(`${n}.mlp.fc1.b`),
        c: r.u,
        geluOut: r.h,
        m: rows,
        n: s.mlp,
        k: c,
      }),
      matmul({
        label: `${n}.fc2`,
        a: r.h,
        b: p(`${n}.mlp.fc2.w`),
        bias: p(`${n}.mlp.fc2.b`),
        residual: r.x1,
        c: r.out,
        m: rows,
        n: c,
        k: s.mlp,
      }),
    );
    acts.push(r);
    x = r.out;
  }
  return acts;
}

/**
 * Backward of every block, last first. `gTop` holds d(loss)/d(trunk output); the residual
 * gradient alternates between `gTop` and `gOther`. Returns the region holding d(loss)/d(x0).
 */
function trunkBackward(
  specs: KernelSpec[],
  a: Alloc,
  weightGrad: WeightGrad,
  p: Lookup,
  dp: Lookup,
  s: Trunk,
  acts: BlockActs[],
  gTop: Region,
  gOther: Region,
): Region {
  const rows = s.batch * s.tokens;
  const c = s.width;
  const m = s.mlp;
  const shape = { rows, channels: c, eps: LAYER_NORM_EPS };
  const attn = { batch: s.batch, tokens: s.tokens, heads: s.heads, width: c, causal: s.causal };
  const dH = a("d gelu", rows * m);
  const dU = a("d fc1.out", rows * m);
  const dY = a("d ln.y", rows * c);
  const dAtt = a("d att", rows * c);
  const dS = a("d scores", s.batch * s.heads * s.tokens * s.tokens);
  const dQkv = a("d qkv", rows * 3 * c);
  // The residual gradient: g2 at block boundaries, g1 between the MLP and attention halves.
  const g2 = gTop;
  const g1 = gOther;
  for (let l = s.depth - 1; l >= 0; l--) {
    const n = `blocks.${l}`;
    const r = acts[l]!;
    specs.push(
      ...linearBackward(weightGrad, {
        label: `${n}.fc2`,
        x: r.h,
        dy: g2,
        w: p(`${n}.mlp.fc2.w`),
        dw: dp(`${n}.mlp.fc2.w`),
        db: dp(`${n}.mlp.fc2.b`),
        dx: dH,
        rows,
        inputs: m,
        outputs: c,
      }),
      geluBackward({ label: `${n}.gelu dx`, x: r.u, dy: dH, dx: dU }),
      ...linearBackward(weightGrad, {
        label: `${n}.fc1`,
        x: r.y2,
        dy: dU,
        w: p(`${n}.mlp.fc1.w`),
        dw: dp(`${n}.mlp.fc1.w`),
        db: dp(`${n}.mlp.fc1.b`),
        dx: dY,
        rows,
        inputs: c,
        outputs: m,
      }),
      ...layerNormGrads({
        label: `${n}.ln2`,
        ...shape,
        x: r.x1,
        g: p(`${n}.ln2.g`),
        mean: r.mean2,
        rstd: r.rstd2,
        dy: dY,
        dxIn: g2,
        dxOut: g1,
        dg: dp(`${n}.ln2.g`),
        db: dp(`${n}.ln2.b`),
      }),
      ...linearBackward(weightGrad, {
        label: `${n}.proj`,
        x: r.att,
        dy: g1,
        w: p(`${n}.attn.proj.w`),
        dw: dp(`${n}.attn.proj.w`),
        db: dp(`${n}.attn.proj.b`),
        dx: dAtt,
        rows,
        inputs: c,
        outputs: c,
      }),
      attentionScoresBackward({
        label: `${n}.attn dS`,
        ...attn,
        qkv: r.qkv,
        probs: r.probs,
        dout: dAtt,
        dscores: dS,
      }),
      attentionQkvBackward({
        label: `${n}.attn dqkv`,
        ...attn,
        qkv: r.qkv,
        probs: r.probs,
        dscores: dS,
        dout: dAtt,
        dqkv: dQkv,
      }),
      ...linearBackward(weightGrad, {
        label: `${n}.qkv`,
        x: r.y1,
        dy: dQkv,
        w: p(`${n}.attn.qkv.w`),
        dw: dp(`${n}.attn.qkv.w`),
        db: dp(`${n}.attn.qkv.b`),
        dx: dY,
        rows,
        inputs: c,
        outputs: 3 * c,
      }),
      ...layerNormGrads({
        label: `${n}.ln1`,
        ...shape,
        x: r.x,
        g: p(`${n}.ln1.g`),
        mean: r.mean1,
        rstd: r.rstd1,
        dy: dY,
        dxIn: g1,
        dxOut: g2,
        dg: dp(`${n}.ln1.g`),
        db: dp(`${n}.ln1.b`),
      }),
    );
  }
  return g2;
}
