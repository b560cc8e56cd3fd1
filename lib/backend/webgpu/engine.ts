/**
 * The compiled training engine of one run: every buffer allocated once, every kernel compiled
 * once, a step recorded into one command encoder (one compute pass) per micro-batch, the batch the
 * only upload, the loss read back through a ring of mapped staging buffers a few steps late.
 *
 * Per optimiser step of k micro-batches:
 *
 *     micro 1:   clear gradients and totals · upload batch · [forward + backward]
 *     micro i:   upload batch · [forward + backward]            (gradients accumulate in place)
 *     micro k:   … · [‖g‖ · clip coef · AdamW] · copy totals → staging slot
 *
 * The learning rate and AdamW's bias corrections of the step are a 12-byte buffer write.
 * Evaluation is a forward-only graph of its own with the same parameters, its totals read once
 * at the end of the pass over the held-out batches.
 *
 * @module
 */
import type { Batch } from "../../../data/mod.ts";
import type { GpuContext } from "./device.ts";
import {
  buildGraph,
  type GraphInputs,
  layoutParams,
  type ModelSpec,
  type ParamLayout,
} from "./graph.ts";
import {
  Arena,
  type KernelSpec,
  profilePrograms,
  Program,
  type Region,
  writeRegion,
} from "./program.ts";
import { tokenBuckets } from "./embedding.ts";
import {
  adamw,
  type AdamWConstants,
  gradNormFinish,
  gradNormPartials,
  HYPER,
  NORM_PARTIALS,
  STATS,
} from "./optimizer.ts";

/** What one optimiser step measured (read back a few steps later). */
export interface StepStats {
  /** Mean training loss over the step's micro-batches. */
  loss: number;
  /** Global gradient norm before clipping (of the micro-batch mean). */
  gradNorm: number;
}

/** Options of {@linkcode CompiledTrainer.create}. */
export interface CompiledTrainerOptions {
  /** An open device (the trainer does not own it). */
  gpu: GpuContext;
  /** Family and resolved config. */
  model: ModelSpec;
  /** The model's variables in order, with their initial values (from `family.build`). */
  variables: { name: string; shape: number[]; decay: boolean; values: Float32Array }[];
  /** Samples per micro-batch. */
  microBatch: number;
  /** Micro-batches per optimiser step. */
  microSteps: number;
  /** Label smoothing ε of the training loss. */
  labelSmoothing: number;
  /** β1, β2, ε, λ, clip; the gradient scale is 1 / microSteps. */
  optimizer: Omit<AdamWConstants, "gradScale">;
  /** Staging buffers of the loss readback (steps the host may run ahead). @default 4 */
  ring?: number;
}

/** Usage of the flat parameter/optimiser buffers. */
const FLAT_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
/** Usage of a staging buffer. */
const STAGING_USAGE = 0x01 | 0x08; // MAP_READ | COPY_DST
/** Bytes of the totals region. */
const STATS_BYTES = 16;

/** One readback slot of the ring. */
interface Slot {
  buffer: GPUBuffer;
  pending?: Promise<void>;
}

/** The compiled step of one run. */
export class CompiledTrainer {
  readonly #gpu: GpuContext;
  readonly #model: ModelSpec;
  readonly #layout: ParamLayout;
  readonly #flat: GPUBuffer[];
  readonly #params: Region;
  readonly #grads: Region;
  readonly #stats: Region;
  readonly #hyper: Region;
  readonly #arenas: Arena[];
  readonly #train: { program: Program; inputs: GraphInputs };
  readonly #optimizer: Program;
  readonly #pipelines: Map<string, GPUComputePipeline>;
  readonly #evals = new Map<number, { program: Program; inputs: GraphInputs; stats: Region }>();
  readonly #ring: Slot[];
  readonly #microBatch: number;
  readonly #microSteps: number;
  readonly #beta: [number, number];
  #step = 0;
  #encodeMs = 0;
  #submitMs = 0;
  #destroyed = false;

  private constructor(o: CompiledTrainerOptions) {
    const { device, limits } = o.gpu;
    this.#gpu = o.gpu;
    this.#model = o.model;
    this.#microBatch = o.microBatch;
    this.#microSteps = o.microSteps;
    this.#beta = [o.optimizer.beta1, o.optimizer.beta2];
    this.#layout = layoutParams(o.variables, limits.minStorageBufferOffsetAlignment);
    const n = this.#layout.length;
    if (n * 4 > Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize)) {
      throw new RangeError(
        `${n} parameters (with padding) exceed one storage binding on ${o.gpu.description}`,
      );
    }
    const flat = (label: string) => device.createBuffer({ label, size: n * 4, usage: FLAT_USAGE });
    const [params, grads, m, v, decay] = ["params", "grads", "adam m", "adam v", "decay mask"].map(
      flat,
    ) as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    this.#flat = [params, grads, m, v, decay];
    const region = (buffer: GPUBuffer, label: string): Region => ({
      buffer,
      offset: 0,
      length: n,
      label,
    });
    this.#params = region(params, "params");
    this.#grads = region(grads, "grads");
    // Initial values in the model's order, at the layout's offsets; m, v, padding zero.
    const host = new Float32Array(n);
    const mask = new Float32Array(n);
    o.variables.forEach((variable, i) => {
      const e = this.#layout.entries[i]!;
      if (variable.values.length !== e.length) throw new RangeError(`${e.name}: wrong size`);
      host.set(variable.values, e.offset);
      if (e.decay) mask.fill(1, e.offset, e.offset + e.length);
    });
    device.queue.writeBuffer(params, 0, host);
    device.queue.writeBuffer(decay, 0, mask);
    // m, v are created zeroed (WebGPU zero-initialises buffers).
    const small = new Arena(device, { limits, label: "step state" });
    this.#stats = small.alloc("totals", STATS_BYTES / 4);
    this.#hyper = small.alloc("hyper", 3);
    const partials = small.alloc("norm partials", NORM_PARTIALS);
    small.seal();
    const acts = new Arena(device, { limits, label: "activations" });
    const graph = buildGraph({
      model: o.model,
      batch: o.microBatch,
      mode: "train",
      labelSmoothing: o.labelSmoothing,
      layout: this.#layout,
      params: this.#params,
      grads: this.#grads,
      stats: this.#stats,
      arena: acts,
    });
    acts.seal();
    for (const k of graph.constants) writeRegion(device, k.region, k.values);
    this.#arenas = [small, acts];
    this.#pipelines = new Map();
    this.#train = {
      program: new Program(device, graph.specs, this.#pipelines),
      inputs: graph.inputs,
    };
    const constants: AdamWConstants = { ...o.optimizer, gradScale: 1 / o.microSteps };
    const optimizer: KernelSpec[] = [
      gradNormPartials({ label: "grad norm 1/2", grads: this.#grads, partials }),
      gradNormFinish({ label: "grad norm 2/2", partials, stats: this.#stats, constants }),
      adamw({
        label: "adamw",
        params: this.#params,
        grads: this.#grads,
        m: region(m, "adam m"),
        v: region(v, "adam v"),
        decay: region(decay, "decay mask"),
        stats: this.#stats,
        hyper: this.#hyper,
        constants,
      }),
    ];
    this.#optimizer = new Program(device, optimizer, this.#pipelines);
    this.#ring = Array.from({ length: Math.max(2, o.ring ?? 4) }, (_, i) => ({
      buffer: device.createBuffer({
        label: `readback ${i}`,
        size: STATS_BYTES,
        usage: STAGING_USAGE,
      }),
    }));
  }

  /**
   * Compile the step; reports a WebGPU validation error (a kernel that does not compile) as a
   * thrown error.
   * @param o The run.
   */
  static async create(o: CompiledTrainerOptions): Promise<CompiledTrainer> {
    const device = o.gpu.device;
    device.pushErrorScope("validation");
    device.pushErrorScope("out-of-memory");
    let trainer: CompiledTrainer | undefined;
    let thrown: unknown;
    try {
      trainer = new CompiledTrainer(o);
    } catch (error) {
      thrown = error;
    }
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    const problem = thrown ?? oom ?? invalid;
    if (problem !== null && problem !== undefined) {
      trainer?.destroy();
      if (problem instanceof Error) throw problem;
      throw new Error(`WebGPU: ${(problem as GPUError).message}`);
    }
    return trainer!;
  }

  /** Launches of one optimiser step (all micro-batches and the update). */
  get dispatchesPerStep(): number {
    return this.#train.program.dispatches * this.#microSteps + this.#optimizer.dispatches;
  }

  /** Host milliseconds the last step spent recording its command buffers (uploads excluded). */
  get encodeMs(): number {
    return this.#encodeMs;
  }

  /** Host milliseconds the last step spent in `queue.submit`. */
  get submitMs(): number {
    return this.#submitMs;
  }

  /** Bytes of the flat buffers and activation arenas. */
  get bytes(): number {
    return this.#layout.length * 4 * 5 + this.#arenas.reduce((s, a) => s + a.bytes, 0);
  }

  /**
   * Encode and submit one optimiser step; resolve its loss and norm once the GPU has run it.
   * Returns after submitting (it waits only when the readback ring is full, for a step
   * `ring` steps back).
   * @param micros The step's micro-batches (`microSteps` of them).
   * @param lr Learning rate of this step.
   * @returns The step's stats, later.
   */
  async submitStep(micros: Batch[], lr: number): Promise<{ stats: Promise<StepStats> }> {
    if (micros.length !== this.#microSteps) throw new RangeError("wrong number of micro-batches");
    const device = this.#gpu.device;
    this.#step += 1;
    const t = this.#step;
    const hyper = new Float32Array(3);
    hyper[HYPER.lr] = lr;
    hyper[HYPER.bias1] = 1 - Math.pow(this.#beta[0], t);
    hyper[HYPER.bias2] = 1 - Math.pow(this.#beta[1], t);
    writeRegion(device, this.#hyper, hyper);
    const slot = this.#ring[t % this.#ring.length]!;
    if (slot.pending !== undefined) await slot.pending;
    let encodeMs = 0;
    let submitMs = 0;
    micros.forEach((batch, i) => {
      this.#upload(this.#train.inputs, batch, true);
      const started = performance.now();
      const encoder = device.createCommandEncoder();
      if (i === 0) {
        encoder.clearBuffer(this.#grads.buffer, 0, this.#layout.length * 4);
        encoder.clearBuffer(this.#stats.buffer, this.#stats.offset, STATS_BYTES);
      }
      const pass = encoder.beginComputePass();
      this.#train.program.record(pass);
      if (i === micros.length - 1) this.#optimizer.record(pass);
      pass.end();
      if (i === micros.length - 1) {
        encoder.copyBufferToBuffer(
          this.#stats.buffer,
          this.#stats.offset,
          slot.buffer,
          0,
          STATS_BYTES,
        );
      }
      const commands = encoder.finish();
      encodeMs += performance.now() - started;
      const submitted = performance.now();
      device.queue.submit([commands]);
      submitMs += performance.now() - submitted;
    });
    this.#encodeMs = encodeMs;
    this.#submitMs = submitMs;
    const microSteps = this.#microSteps;
    let resolveStats!: (s: StepStats) => void;
    let rejectStats!: (e: unknown) => void;
    const stats = new Promise<StepStats>((res, rej) => {
      resolveStats = res;
      rejectStats = rej;
    });
    // Marked handled: a caller that stops early (abort) never awaits the later steps' stats.
    stats.catch(() => undefined);
    slot.pending = slot.buffer.mapAsync(GPUMapMode.READ).then(() => {
      const v = new Float32Array(slot.buffer.getMappedRange().slice(0));
      slot.buffer.unmap();
      resolveStats({ loss: v[STATS.loss]! / microSteps, gradNorm: v[STATS.norm]! });
    }, (error) => {
      rejectStats(error);
    });
    return { stats };
  }

  /**
   * Held-out loss and accuracy over `batches` (forward only), waiting for the result.
   * @param batches Held-out batches (each compiled size once).
   * @returns Sample-weighted mean loss, and accuracy for classifiers.
   */
  async evaluate(batches: Batch[]): Promise<{ loss: number; accuracy?: number; samples: number }> {
    const device = this.#gpu.device;
    let samples = 0;
    const used = new Set<Region>();
    for (const batch of batches) {
      const size = batch.shape[0];
      const graph = this.#evalGraph(size);
      if (!used.has(graph.stats)) {
        used.add(graph.stats);
        const clear = device.createCommandEncoder();
        clear.clearBuffer(graph.stats.buffer, graph.stats.offset, STATS_BYTES);
        device.queue.submit([clear.finish()]);
      }
      this.#upload(graph.inputs, batch, false);
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      graph.program.record(pass);
      pass.end();
      device.queue.submit([encoder.finish()]);
      samples += size;
    }
    let loss = 0;
    let correct = 0;
    for (const stats of used) {
      const staging = device.createBuffer({ size: STATS_BYTES, usage: STAGING_USAGE });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(stats.buffer, stats.offset, staging, 0, STATS_BYTES);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const v = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      staging.destroy();
      loss += v[STATS.loss]!;
      correct += v[STATS.correct]!;
    }
    return {
      loss: loss / samples,
      ...(this.#model.family === "vit" ? { accuracy: correct / samples } : {}),
      samples,
    };
  }

  /**
   * The current parameters, per variable (tests, checkpoints).
   * @returns Name → values.
   */
  async readParams(): Promise<Map<string, Float32Array>> {
    const device = this.#gpu.device;
    const n = this.#layout.length;
    const staging = device.createBuffer({ size: n * 4, usage: STAGING_USAGE });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.#params.buffer, 0, staging, 0, n * 4);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return new Map(
      this.#layout.entries.map((e) => [e.name, all.slice(e.offset, e.offset + e.length)]),
    );
  }

  /**
   * GPU time of every launch of one optimiser step on `batch` (one micro-batch), each launch
   * timed on its own (needs a device opened with `timestamps`). It runs at learning rate 0: the
   * parameters stay, the moments move.
   * @param batch A micro-batch.
   * @returns Label and GPU milliseconds per launch.
   */
  async profileStep(batch: Batch): Promise<{ label: string; ms: number }[]> {
    if (!this.#gpu.timestamps) throw new Error("profileStep needs a device opened with timestamps");
    const device = this.#gpu.device;
    const hyper = new Float32Array(3);
    hyper[HYPER.lr] = 0;
    hyper[HYPER.bias1] = 1;
    hyper[HYPER.bias2] = 1;
    writeRegion(device, this.#hyper, hyper);
    this.#upload(this.#train.inputs, batch, true);
    return await profilePrograms(device, [this.#train.program, this.#optimizer]);
  }

  /**
   * Host milliseconds to record one optimiser step's command buffers, recorded `reps` times
   * without submitting (the median): the host cost of a step where running one is too slow
   * (a software adapter at a real batch).
   * @param reps Recordings.
   */
  recordOnlyMs(reps = 20): number {
    const device = this.#gpu.device;
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const started = performance.now();
      for (let i = 0; i < this.#microSteps; i++) {
        const encoder = device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        this.#train.program.record(pass);
        if (i === this.#microSteps - 1) this.#optimizer.record(pass);
        pass.end();
        encoder.finish();
      }
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }

  /** Wait for every submitted step's readback. */
  async drain(): Promise<void> {
    await Promise.all(this.#ring.map((s) => s.pending));
  }

  /** Free every buffer (the device stays open; its owner destroys it). */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const b of this.#flat) b.destroy();
    for (const a of this.#arenas) a.destroy();
    for (const s of this.#ring) s.buffer.destroy();
  }

  #evalGraph(size: number): { program: Program; inputs: GraphInputs; stats: Region } {
    let graph = this.#evals.get(size);
    if (graph !== undefined) return graph;
    const { device, limits } = this.#gpu;
    const arena = new Arena(device, { limits, label: `eval ${size}` });
    const stats = arena.alloc("eval totals", STATS_BYTES / 4);
    const built = buildGraph({
      model: this.#model,
      batch: size,
      mode: "eval",
      labelSmoothing: 0,
      layout: this.#layout,
      params: this.#params,
      stats,
      arena,
    });
    arena.seal();
    for (const k of built.constants) writeRegion(device, k.region, k.values);
    this.#arenas.push(arena);
    graph = {
      program: new Program(device, built.specs, this.#pipelines),
      inputs: built.inputs,
      stats,
    };
    this.#evals.set(size, graph);
    return graph;
  }

  #upload(inputs: GraphInputs, batch: Batch, train: boolean): void {
    const device = this.#gpu.device;
    if (inputs.kind === "text") {
      if (batch.kind !== "text") throw new TypeError("GPT consumes text batches.");
      writeRegion(device, inputs.ids, batch.inputs);
      writeRegion(device, inputs.targets, batch.targets);
      if (train && inputs.bucketStart !== undefined && inputs.bucketRows !== undefined) {
        const vocab = inputs.bucketStart.length - 1;
        const buckets = tokenBuckets(batch.inputs, vocab);
        writeRegion(device, inputs.bucketStart, buckets.start);
        writeRegion(device, inputs.bucketRows, buckets.rows);
      }
      return;
    }
    if (batch.kind !== "image") throw new TypeError("ViT consumes image batches.");
    writeRegion(device, inputs.images, batch.images);
    writeRegion(device, inputs.labels, batch.labels);
  }
}
