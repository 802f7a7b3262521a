/**
 * Fused training ops: one kernel where tfjs runs many small ones.
 *
 * - `BstLayerNorm` / `BstLayerNormGrad`: layer normalisation over the last axis and its gradient (the
 *   broadcasting formulation costs ~12 kernels forward and ~25 backward).
 * - `BstLeakyReluGrad`: dy * (x > 0 ? 1 : alpha) in one pass (tfjs: Greater, Mul, Select).
 * - `BstAdam`: tfjs's Adam update of one variable in one pass (tfjs: ~12 kernels per variable).
 * - `BstDropout`: seeded dropout from a counter-based hash (tfjs: a JavaScript generator per element, then
 *   GreaterEqual, Cast and two Multiplies); its gradient is the same kernel on dy.
 * - `BstAttention` / `BstAttentionGrad`: multi-head softmax(q k^T / sqrt(dh) + mask) v over each sample's L
 *   positions from projected q, k, v [B, L, D] (tfjs: ~16 kernels forward, ~30 backward).
 *
 * Each is registered for the wasm backend (bst-lab's C, lib/kernels/native) and for the cpu backend (the plain
 * JavaScript reference of fused-reference.ts, which the tests also compare the C against). Model code calls `layerNormOp`,
 * the LeakyRelu gradient and `FusedAdamOptimizer`, which use the fused kernel when the active backend has one
 * and tfjs's own ops otherwise. Split by role: fused-reference.ts (names, references), fused-cpu.ts, fused-wasm.ts
 * (the kernels per backend), fused-ops.ts (ops and the optimizer); lib/kernels/install.ts registers them.
 */
export * from './fused-reference';
export { CPU_FUSED_KERNELS } from './fused-cpu';
export { WASM_FUSED_KERNELS } from './fused-wasm';
export * from './fused-ops';
