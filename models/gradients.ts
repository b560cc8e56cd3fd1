/**
 * Registers tfjs's gradient functions, which `@tensorflow/tfjs-core`'s Node build leaves out.
 *
 * tfjs-core ships its gradients only as extension-less ES modules (`dist/gradients/*`), which
 * Deno cannot load; the `@tensorflow/tfjs` union package's Node bundle inlines and registers
 * them against the same (global) kernel registry. Models import this module for that side effect
 * only: they are built from tfjs-core ops, never from tfjs-layers.
 *
 * @module
 */
import "@tensorflow/tfjs";
