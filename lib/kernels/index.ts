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
import * as tf from '@tensorflow/tfjs';
import { installedFix, KernelError, overrideKernel, restoreKernel } from './registry';
import { unsortedSegmentSumCpu, unsortedSegmentSumWasm } from './unsorted-segment-sum';
import { gatherV2Wasm } from './gather';
import { makeSumLeading } from './sum-leading';
import { makeFixedFusedMatMul, makeTransposingMatMul, TransposingMatMulOptions } from './matmul-transpose';
import { nativeConcat, nativeGather, nativeLeakyRelu, nativeMatMul, nativeSegmentSum, nativeSplitV, nativeSum, nativeMultiply, nativeTranspose, sharingIdentity } from './native-kernels';
import { nativeFor, nativeUnavailableReason } from './native-module';
import { FUSED_KERNELS as FUSED_KERNEL_NAMES, installLeakyReluGrad, registerFusedKernels, unregisterFusedKernels } from './fused';

export { KernelError, installedFix } from './registry';
export { checkGatherIndices, gatherSlicesInto, gatherV2Wasm } from './gather';
export { leadingAxesCount, makeSumLeading, sumLeadingInto } from './sum-leading';
export { segmentSumInto, segmentSumOutputShape, unsortedSegmentSumCpu, unsortedSegmentSumWasm } from './unsorted-segment-sum';
export { canFoldBatch, makeFixedFusedMatMul, makeTransposingMatMul, shouldMaterialiseTranspose } from './matmul-transpose';
export type { FusedParts, TransposingMatMulOptions } from './matmul-transpose';
export type { FixedKernelConfig } from './registry';
export { instantiateNative, NATIVE_TFJS_VERSION, nativeFor, nativeUnavailableReason, relaxedSimdSupported } from './native-module';
export { checkedMalloc, guardWasmMalloc, WASM_HEAP_LIMIT_BYTES, WASM_MAX_ALLOC_BYTES, wasmHeapBytes } from './native-module';
export { ADAM, FUSED_KERNELS, FusedAdamOptimizer, fusedLayerNorm, hasFused, LAYER_NORM, LAYER_NORM_GRAD, LEAKY_RELU_GRAD,
  adamRef, layerNormGradRef, layerNormRef, installLeakyReluGrad, registerFusedKernels, unregisterFusedKernels } from './fused';

/** One kernel fix: which kernel of which backend it replaces, and how to build the replacement. */
interface FixSpec {
  name: string;
  kernelName: string;
  backendName: string;
  /** Build the replacement from the stock config; return undefined to skip (the fix does not apply). */
  make(original: tf.KernelConfig | undefined): tf.KernelConfig | undefined;
}

/** Replacement config that keeps the stock kernel's setup/dispose hooks (they run again if the backend is re-created). */
function withHooks(original: tf.KernelConfig | undefined, kernelFunc: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: original?.kernelName ?? '',
    backendName: original?.backendName ?? '',
    kernelFunc,
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
  };
}

function transposingMatMulFix(name: string, kernelName: string, options: TransposingMatMulOptions = {}): FixSpec {
  return {
    name,
    kernelName,
    backendName: 'wasm',
    make: (original) => {
      const transpose = tf.getKernel('Transpose', 'wasm');
      if (!original || !transpose) return undefined; // wasm backend not loaded: nothing to wrap
      return withHooks(original, makeTransposingMatMul(original.kernelFunc, transpose.kernelFunc, options));
    },
  };
}

/** A fix that wraps a stock wasm kernel (skipped when the wasm backend is not loaded). */
function wrapWasm(name: string, kernelName: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): FixSpec {
  return {
    name,
    kernelName,
    backendName: 'wasm',
    make: (original) => (original ? withHooks(original, wrap(original.kernelFunc)) : undefined),
  };
}

/** Every fix, by backend. */
const FIXES: Record<string, FixSpec[]> = {
  wasm: [
    {
      name: 'wasm:UnsortedSegmentSum',
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      // Only fill the gap: if a later tfjs ships a native kernel, keep it.
      make: (original) => (original ? undefined : withHooks(undefined, unsortedSegmentSumWasm)),
    },
    transposingMatMulFix('wasm:BatchMatMul-transpose', 'BatchMatMul', {}),
    wrapWasm('wasm:GatherV2', 'GatherV2', () => gatherV2Wasm),
    wrapWasm('wasm:Sum-leading-axes', 'Sum', makeSumLeading),
    {
      name: 'wasm:_FusedMatMul-transpose-bias',
      kernelName: '_FusedMatMul',
      backendName: 'wasm',
      make: (original) => {
        const transpose = tf.getKernel('Transpose', 'wasm');
        const add = tf.getKernel('Add', 'wasm');
        if (!original || !transpose || !add) return undefined;
        return withHooks(
          original,
          makeFixedFusedMatMul(original.kernelFunc, transpose.kernelFunc, {
            // looked up per call: BatchMatMul is itself fixed (or restored) independently
            matMul: (args) => tf.getKernel('BatchMatMul', 'wasm').kernelFunc(args),
            add: add.kernelFunc,
            activation: (name) => tf.getKernel(name, 'wasm')?.kernelFunc,
          }),
        );
      },
    },
  ],
  cpu: [
    {
      name: 'cpu:UnsortedSegmentSum',
      kernelName: 'UnsortedSegmentSum',
      backendName: 'cpu',
      make: (original) => withHooks(original, unsortedSegmentSumCpu),
    },
  ],
};

function fixesFor(backendName: string): FixSpec[] {
  return Object.prototype.hasOwnProperty.call(FIXES, backendName) ? FIXES[backendName] : [];
}

/** Names of all fixes known for a backend (empty for backends without fixes). */
export function knownKernelFixes(backendName: string): string[] {
  return fixesFor(backendName).map((f) => f.name);
}

/**
 * Install the kernel fixes for `backendName` ('wasm' or 'cpu'; any other backend gets none).
 * Idempotent: calling it again changes nothing. Returns the names of the fixes in effect for that backend,
 * e.g. ['wasm:UnsortedSegmentSum', 'wasm:BatchMatMul-transpose', 'wasm:GatherV2',
 * 'wasm:_FusedMatMul-transpose-bias'], the same
 * list on every call; [] for unknown backends.
 */
export function installKernelFixes(backendName: string): string[] {
  const applied: string[] = [];
  for (const spec of fixesFor(backendName)) {
    const current = tf.getKernel(spec.kernelName, spec.backendName) as (tf.KernelConfig & { bstNative?: string }) | undefined;
    if (installedFix(spec.kernelName, spec.backendName) || current?.bstNative) {
      // a native kernel sits on top of this fix (installNativeKernels installs the fixes first)
      applied.push(spec.name);
      continue;
    }
    const original = tf.getKernel(spec.kernelName, spec.backendName) ?? undefined;
    const replacement = spec.make(original);
    if (!replacement) continue;
    overrideKernel(spec.kernelName, spec.backendName, spec.name, () => replacement);
    applied.push(spec.name);
  }
  return applied;
}

/** Remove the fixes of `backendName` and put the stock kernels back (for tests and before/after benchmarks). Returns the names removed. */
export function uninstallKernelFixes(backendName: string): string[] {
  uninstallNativeKernels(backendName); // the own kernels sit on top of the fixes
  const removed: string[] = [];
  for (const spec of fixesFor(backendName)) {
    if (restoreKernel(spec.kernelName, spec.backendName)) removed.push(spec.name);
  }
  return removed;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* bst-lab's own C kernels (issue 8): installed on top of the fixes above, which stay as their fallbacks.      */
/* ---------------------------------------------------------------------------------------------------------- */

/** A kernel config that a native kernel replaced, kept on the native config so it can be put back. */
type NativeKernelConfig = tf.KernelConfig & { bstNative: string; bstPrevious?: tf.KernelConfig };

const NATIVE_OVERRIDES: { kernelName: string; make: (previous: tf.KernelFunc) => tf.KernelFunc }[] = [
  { kernelName: 'BatchMatMul', make: (p) => nativeMatMul(p, false) },
  { kernelName: '_FusedMatMul', make: (p) => nativeMatMul(p, true) },
  { kernelName: 'Sum', make: nativeSum },
  { kernelName: 'GatherV2', make: nativeGather },
  { kernelName: 'UnsortedSegmentSum', make: nativeSegmentSum },
  { kernelName: 'Identity', make: () => sharingIdentity },
  { kernelName: 'LeakyRelu', make: nativeLeakyRelu },
  { kernelName: 'Concat', make: nativeConcat },
  { kernelName: 'SplitV', make: nativeSplitV },
  { kernelName: 'Transpose', make: nativeTranspose },
  { kernelName: 'Multiply', make: nativeMultiply },
];

let warnedNative = false;

/**
 * Install bst-lab's own kernels for `backendName`: on 'wasm' the C kernels (matmul, sums, gather, segment sum,
 * leaky relu, concat and split, the mask multiply, a data-sharing Identity and identity Transpose) over the
 * fixes of installKernelFixes, plus the fused kernels
 * (layer norm, LeakyRelu gradient, Adam); on 'cpu' the fused kernels' JavaScript references. Skipped, with one
 * warning, when the installed tfjs-backend-wasm is not the version the C was written for. Idempotent; returns
 * the names in effect, e.g. ['native:BatchMatMul', ..., 'fused:BstLayerNorm', ...].
 */
export function installNativeKernels(backendName: string): string[] {
  if (backendName !== 'wasm' && backendName !== 'cpu') return [];
  installLeakyReluGrad();
  if (backendName === 'cpu') return registerFusedKernels('cpu').map((n) => `fused:${n}`);
  let why = nativeUnavailableReason();
  const wasmBackend = tf.findBackend('wasm');
  if (!why && wasmBackend) {
    try {
      nativeFor(wasmBackend); // instantiate over the backend's memory now, so a mismatch falls back here, not mid-training
    } catch (e) {
      why = (e as Error).message.split('\n')[0];
    }
  }
  if (why) {
    if (!warnedNative) console.warn(`bst-lab: own wasm kernels not used (${why}); using the stock kernels`);
    warnedNative = true;
    return [];
  }
  installKernelFixes('wasm');
  const names: string[] = [];
  for (const o of NATIVE_OVERRIDES) {
    const current = tf.getKernel(o.kernelName, 'wasm') as NativeKernelConfig | undefined;
    if (current && current.bstNative) {
      names.push(current.bstNative);
      continue;
    }
    const previous = current ?? undefined;
    const fallback: tf.KernelFunc = previous
      ? previous.kernelFunc
      : () => {
          throw new KernelError(`${o.kernelName}: no wasm kernel for this case`);
        };
    const config: NativeKernelConfig = {
      kernelName: o.kernelName,
      backendName: 'wasm',
      kernelFunc: o.make(fallback),
      setupFunc: previous?.setupFunc,
      disposeFunc: previous?.disposeFunc,
      bstNative: `native:${o.kernelName}`,
      bstPrevious: previous,
    };
    if (previous) tf.unregisterKernel(o.kernelName, 'wasm');
    tf.registerKernel(config);
    names.push(config.bstNative);
  }
  return names.concat(registerFusedKernels('wasm').map((n) => `fused:${n}`));
}

/** Remove the own kernels of `backendName` (the fixes of installKernelFixes stay). Returns the names removed. */
export function uninstallNativeKernels(backendName: string): string[] {
  const removed: string[] = [];
  if (backendName === 'wasm') {
    for (const o of NATIVE_OVERRIDES) {
      const current = tf.getKernel(o.kernelName, 'wasm') as NativeKernelConfig | undefined;
      if (!current || !current.bstNative) continue;
      tf.unregisterKernel(o.kernelName, 'wasm');
      if (current.bstPrevious) tf.registerKernel(current.bstPrevious);
      removed.push(current.bstNative);
    }
  }
  for (const n of FUSED_KERNEL_NAMES) {
    if (tf.getKernel(n, backendName)) removed.push(`fused:${n}`);
  }
  unregisterFusedKernels(backendName);
  return removed;
}
