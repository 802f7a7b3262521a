/**
 * Kernel fixes for tfjs 4.22's wasm and cpu backends (see ../shared/docs/TOOLCHAIN.md beside the checkout, and bench/kernels.ts):
 *
 * - `wasm:UnsortedSegmentSum`: wasm has no such kernel, so the gradient of `tf.gather` (every embedding) throws.
 * - `wasm:BatchMatMul-transpose`: transposed non-batched matmuls are 5-20x slower than plain ones on wasm;
 *   the fix transposes explicitly first, and folds a batched a times a non-batched b into one 2D product.
 * - `wasm:_FusedMatMul-transpose-bias`: the same for tf.fused.matMul, which also corrects the stock kernel's
 *   bias, added along the wrong axis when a transpose flag is set or the product is batched.
 * - `wasm:GatherV2`: the stock wasm gather (every embedding lookup) is ~10x slower than copying rows.
 * - `wasm:Sum-leading-axes`: sums over leading axes (bias gradients) in one pass instead of transpose + sum.
 * - `cpu:UnsortedSegmentSum`: the stock cpu kernel costs vocab x batch; the fix is one linear pass.
 *
 * The lead's backend selector calls `installKernelFixes(tf.getBackend())` right after a backend is set.
 */
import { installKernels, kernelEntries, uninstallKernels } from './install';

export { KernelError, installedFix } from './registry';
export type { FixedKernelConfig } from './registry';
export { installKernels, uninstallKernels, kernelEntries, KERNEL_REGISTRY, replacedLeakyReluGrad } from './install';
export type { KernelEntry, KernelTier } from './install';
export { checkGatherIndices, gatherSlicesInto, gatherV2Wasm } from './gather';
export { leadingAxesCount, makeSumLeading, sumLeadingInto } from './sum-leading';
export {
  segmentSumInto,
  segmentSumOutputShape,
  unsortedSegmentSumCpu,
  unsortedSegmentSumWasm,
} from './unsorted-segment-sum';
export {
  canFoldBatch,
  makeFixedFusedMatMul,
  makeTransposingMatMul,
  shouldMaterialiseTranspose,
} from './matmul-transpose';
export type { FusedParts, TransposingMatMulOptions } from './matmul-transpose';
export {
  instantiateNative,
  NATIVE_TFJS_VERSION,
  nativeFor,
  nativeUnavailableReason,
  relaxedSimdSupported,
} from './native-module';
export {
  checkedMalloc,
  guardWasmMalloc,
  WASM_HEAP_LIMIT_BYTES,
  WASM_MAX_ALLOC_BYTES,
  wasmHeapBytes,
} from './native-module';
export {
  ADAM,
  FUSED_KERNELS,
  FusedAdamOptimizer,
  fusedLayerNorm,
  hasFused,
  LAYER_NORM,
  LAYER_NORM_GRAD,
  LEAKY_RELU_GRAD,
  adamRef,
  layerNormGradRef,
  layerNormRef,
} from './fused';

/** Names of all fixes known for a backend (empty for backends without fixes). */
export function knownKernelFixes(backendName: string): string[] {
  return kernelEntries(backendName, 'fix').map((e) => e.name);
}

/**
 * Install the kernel fixes for `backendName` ('wasm' or 'cpu'; any other backend gets none): installKernels(b, 'fix').
 * Idempotent; returns the names of the fixes in effect, e.g. ['wasm:UnsortedSegmentSum',
 * 'wasm:BatchMatMul-transpose', 'wasm:GatherV2', ...], the same list on every call; [] for unknown backends.
 */
export function installKernelFixes(backendName: string): string[] {
  return installKernels(backendName, 'fix');
}

/**
 * Remove everything installed for `backendName` (own kernels, fused kernels, fixes; the LeakyRelu gradient once no
 * backend uses it) and put the stock kernels back: uninstallKernels(b, 'fix'). Returns the names of the fixes removed.
 */
export function uninstallKernelFixes(backendName: string): string[] {
  const fixes = new Set(knownKernelFixes(backendName));
  return uninstallKernels(backendName, 'fix').filter((n) => fixes.has(n));
}

/**
 * Install bst-lab's own kernels for `backendName` over the fixes: installKernels(b, 'native') (on 'wasm' the C
 * kernels and the fused kernels, on 'cpu' the fused kernels' JavaScript references; both with the fused LeakyRelu
 * gradient). Skipped with one warning when the C cannot run. Idempotent; returns the names in effect, e.g.
 * ['native:BatchMatMul', ..., 'fused:BstLayerNorm', ...].
 */
export function installNativeKernels(backendName: string): string[] {
  return installKernels(backendName, 'native');
}

/** Remove the own and fused kernels of `backendName` (the fixes stay): uninstallKernels(b, 'native'). Returns the names removed. */
export function uninstallNativeKernels(backendName: string): string[] {
  return uninstallKernels(backendName, 'native');
}
