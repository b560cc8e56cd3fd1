/**
 * The compiled WebGPU training path: a device helper, WGSL kernels (one module per kernel group),
 * the runtime that compiles them once into pipelines and bind groups, and the compiled training
 * step of the GPT and ViT families.
 *
 * @module
 */
export { closeDevice, NoGpuError, openDevice, useDevice } from "./device.ts";
export type { GpuContext, GpuLimits, OpenDeviceOptions } from "./device.ts";
export {
  Arena,
  profilePrograms,
  Program,
  readRegion,
  regionBytes,
  runOnce,
  subRegion,
  writeRegion,
} from "./program.ts";
export type { Dispatch, KernelSpec, Region } from "./program.ts";
export { f32, flatIndex, grid, storage } from "./wgsl.ts";
export type { Grid } from "./wgsl.ts";
export type { LayerNormShape } from "./layer_norm.ts";
export type { AttentionShape } from "./attention.ts";
export type { CrossEntropyOptions } from "./cross_entropy.ts";
export { matmul, splitKParts, splitKSum } from "./matmul.ts";
export type { MatmulOptions } from "./matmul.ts";
export { columnSums, ERF_WGSL, gelu, geluBackward } from "./elementwise.ts";
export { layerNormBackward, layerNormForward, layerNormParamGrads } from "./layer_norm.ts";
export {
  attentionOutput,
  attentionProbs,
  attentionQkvBackward,
  attentionScoresBackward,
} from "./attention.ts";
export { crossEntropy, sumInto } from "./cross_entropy.ts";
export {
  clsRows,
  clsRowsGrad,
  gptEmbed,
  gptTokenGrad,
  positionGrad,
  tokenBuckets,
  vitPatches,
  vitPatchRowsGrad,
  vitTokens,
} from "./embedding.ts";
export {
  adamw,
  gradNormFinish,
  gradNormPartials,
  HYPER,
  NORM_PARTIALS,
  STATS,
} from "./optimizer.ts";
export type { AdamWConstants } from "./optimizer.ts";
export { CompiledTrainer } from "./engine.ts";
export type { CompiledTrainerOptions, StepStats } from "./engine.ts";
export { buildGraph, layoutParams } from "./graph.ts";
export type {
  Graph,
  GraphInputs,
  GraphOptions,
  ModelSpec,
  ParamEntry,
  ParamLayout,
} from "./graph.ts";
