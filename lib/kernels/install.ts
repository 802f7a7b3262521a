/**
 * One table of every kernel bst-lab puts into tfjs's global registry, with one install and one uninstall.
 *
 * Each entry names a kernel, its backend, its tier and how to build it from the kernel it replaces:
 *  - 'fix': corrections and speed-ups of tfjs 4.22's own wasm and cpu kernels (see lib/kernels/index.ts);
 *  - 'native': bst-lab's C kernels (wasm only), stacked on top of the fixes, which stay as their fallbacks;
 *  - 'fused': the fused training kernels (layer norm, LeakyRelu gradient, Adam, dropout, attention), plus the
 *    global LeakyRelu gradient that routes through BstLeakyReluGrad.
 * Every config registered here carries its entry name (`bstKernel`) and the config it replaced (`bstPrevious`),
 * so installing twice changes nothing and uninstalling puts back the exact objects that were there before,
 * the stock LeakyRelu gradient included.
 */
import * as tf from '@tensorflow/tfjs';
import { CPU_FUSED_KERNELS } from './fused-cpu';
import { fusedLeakyReluGrad } from './fused-ops';
import { FUSED_KERNELS } from './fused-reference';
import { WASM_FUSED_KERNELS } from './fused-wasm';
import { gatherV2Wasm } from './gather';
import { makeFixedFusedMatMul, makeTransposingMatMul, TransposingMatMulOptions } from './matmul-transpose';
import {
  nativeConcat,
  nativeGather,
  nativeLeakyRelu,
  nativeMatMul,
  nativeMultiply,
  nativeSegmentSum,
  nativeSplitV,
  nativeSum,
  nativeTranspose,
  sharingIdentity,
} from './native-kernels';
import { nativeFor, nativeUnavailableReason } from './native-module';
import { KernelError } from './registry';
import { makeSumLeading } from './sum-leading';
import { unsortedSegmentSumCpu, unsortedSegmentSumWasm } from './unsorted-segment-sum';

/** Which group a kernel belongs to (installKernels installs the tiers up to the one asked for). */
export type KernelTier = 'fix' | 'native' | 'fused';

/** One kernel of the registry. */
export interface KernelEntry {
  /** e.g. 'wasm:GatherV2', 'native:Sum', 'fused:BstAdam' */
  name: string;
  kernelName: string;
  backend: 'wasm' | 'cpu';
  tier: KernelTier;
  /** The replacement built from the kernel in place (undefined when there is none); undefined to skip. */
  make(previous: tf.KernelConfig | undefined): tf.KernelConfig | undefined;
}

/** A config registered from the table: the entry's name and the config it replaced. */
type InstalledConfig = tf.KernelConfig & {
  bstKernel: string;
  bstPrevious?: tf.KernelConfig;
  /** fix tier: the fix's name and the stock config (read by installedFix in registry.ts) */
  bstFix?: string;
  bstOriginal?: tf.KernelConfig;
  /** native tier: the kernel's name */
  bstNative?: string;
};

/** Replacement config that keeps the previous kernel's setup/dispose hooks (they run again if the backend is re-created). */
function withHooks(previous: tf.KernelConfig | undefined, kernelFunc: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: previous?.kernelName ?? '',
    backendName: previous?.backendName ?? '',
    kernelFunc,
    setupFunc: previous?.setupFunc,
    disposeFunc: previous?.disposeFunc,
  };
}

function transposingMatMulFix(name: string, kernelName: string, options: TransposingMatMulOptions = {}): KernelEntry {
  return {
    name,
    kernelName,
    backend: 'wasm',
    tier: 'fix',
    make: (original) => {
      const transpose = tf.getKernel('Transpose', 'wasm');
      if (!original || !transpose) return undefined; // wasm backend not loaded: nothing to wrap
      return withHooks(original, makeTransposingMatMul(original.kernelFunc, transpose.kernelFunc, options));
    },
  };
}

/** A fix that wraps a stock wasm kernel (skipped when the wasm backend is not loaded). */
function wrapWasm(name: string, kernelName: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): KernelEntry {
  return {
    name,
    kernelName,
    backend: 'wasm',
    tier: 'fix',
    make: (original) => (original ? withHooks(original, wrap(original.kernelFunc)) : undefined),
  };
}

/** A C kernel over the kernel it replaces (its fallback for the cases the C does not cover). */
function native(kernelName: string, make: (previous: tf.KernelFunc) => tf.KernelFunc): KernelEntry {
  return {
    name: `native:${kernelName}`,
    kernelName,
    backend: 'wasm',
    tier: 'native',
    make: (previous) => {
      const fallback: tf.KernelFunc = previous
        ? previous.kernelFunc
        : () => {
            throw new KernelError(`${kernelName}: no wasm kernel for this case`);
          };
      return {
        kernelName,
        backendName: 'wasm',
        kernelFunc: make(fallback),
        setupFunc: previous?.setupFunc,
        disposeFunc: previous?.disposeFunc,
      };
    },
  };
}

/** A fused kernel (registered only where tfjs has none of that name). */
function fused(backend: 'wasm' | 'cpu', kernelName: string, table: Record<string, tf.KernelFunc>): KernelEntry {
  return {
    name: `fused:${kernelName}`,
    kernelName,
    backend,
    tier: 'fused',
    make: (previous) => (previous ? undefined : { kernelName, backendName: backend, kernelFunc: table[kernelName] }),
  };
}

/** Every kernel bst-lab installs, in install order (uninstall runs it backwards). */
export const KERNEL_REGISTRY: readonly KernelEntry[] = [
  {
    name: 'wasm:UnsortedSegmentSum',
    kernelName: 'UnsortedSegmentSum',
    backend: 'wasm',
    tier: 'fix',
    // Only fill the gap: if a later tfjs ships a native kernel, keep it.
    make: (original) => (original ? undefined : withHooks(undefined, unsortedSegmentSumWasm)),
  },
  transposingMatMulFix('wasm:BatchMatMul-transpose', 'BatchMatMul', {}),
  wrapWasm('wasm:GatherV2', 'GatherV2', () => gatherV2Wasm),
  wrapWasm('wasm:Sum-leading-axes', 'Sum', makeSumLeading),
  {
    name: 'wasm:_FusedMatMul-transpose-bias',
    kernelName: '_FusedMatMul',
    backend: 'wasm',
    tier: 'fix',
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
  {
    name: 'cpu:UnsortedSegmentSum',
    kernelName: 'UnsortedSegmentSum',
    backend: 'cpu',
    tier: 'fix',
    make: (original) => withHooks(original, unsortedSegmentSumCpu),
  },
  native('BatchMatMul', (p) => nativeMatMul(p, false)),
  native('_FusedMatMul', (p) => nativeMatMul(p, true)),
  native('Sum', nativeSum),
  native('GatherV2', nativeGather),
  native('UnsortedSegmentSum', nativeSegmentSum),
  native('Identity', () => sharingIdentity),
  native('LeakyRelu', nativeLeakyRelu),
  native('Concat', nativeConcat),
  native('SplitV', nativeSplitV),
  native('Transpose', nativeTranspose),
  native('Multiply', nativeMultiply),
  ...FUSED_KERNELS.map((k) => fused('wasm', k, WASM_FUSED_KERNELS)),
  ...FUSED_KERNELS.map((k) => fused('cpu', k, CPU_FUSED_KERNELS)),
];

/** The entries of one backend and tier, in install order. */
export function kernelEntries(backend: string, tier: KernelTier): KernelEntry[] {
  return KERNEL_REGISTRY.filter((e) => e.backend === backend && e.tier === tier);
}

/** Whether `entry` is in the stack of configs registered for its kernel. */
function isInstalled(entry: KernelEntry): boolean {
  let c = tf.getKernel(entry.kernelName, entry.backend) as InstalledConfig | undefined;
  while (c && c.bstKernel) {
    if (c.bstKernel === entry.name) return true;
    c = c.bstPrevious as InstalledConfig | undefined;
  }
  return false;
}

/** Install one entry over the kernel in place; returns whether it is in effect. */
function installEntry(entry: KernelEntry): boolean {
  if (isInstalled(entry)) return true;
  const previous = tf.getKernel(entry.kernelName, entry.backend) ?? undefined;
  const made = entry.make(previous);
  if (!made) return false;
  const config: InstalledConfig = Object.assign({}, made, {
    kernelName: entry.kernelName,
    backendName: entry.backend,
    bstKernel: entry.name,
    bstPrevious: previous,
  });
  if (entry.tier === 'fix') Object.assign(config, { bstFix: entry.name, bstOriginal: previous });
  if (entry.tier === 'native') config.bstNative = entry.name;
  if (previous) tf.unregisterKernel(entry.kernelName, entry.backend);
  tf.registerKernel(config);
  return true;
}

/** Remove one entry when it is the top of its kernel's stack, putting back what it replaced; returns whether removed. */
function uninstallEntry(entry: KernelEntry): boolean {
  const c = tf.getKernel(entry.kernelName, entry.backend) as InstalledConfig | undefined;
  if (!c || c.bstKernel !== entry.name) return false;
  tf.unregisterKernel(entry.kernelName, entry.backend);
  if (c.bstPrevious) tf.registerKernel(c.bstPrevious);
  return true;
}

/** The stock LeakyRelu gradient while the fused one is registered (undefined: the stock one is in place). */
let stockLeakyReluGrad: tf.GradConfig | undefined;

function installLeakyReluGrad(): void {
  if (stockLeakyReluGrad) return;
  const stock = tf.getGradient('LeakyRelu');
  if (!stock) return;
  stockLeakyReluGrad = stock;
  tf.registerGradient(fusedLeakyReluGrad(stock));
}

/** Put the stock LeakyRelu gradient back once no backend has the fused LeakyRelu gradient kernel. */
function restoreLeakyReluGrad(): void {
  if (!stockLeakyReluGrad) return;
  const stillUsed = KERNEL_REGISTRY.some(
    (e) => e.tier === 'fused' && e.kernelName === 'BstLeakyReluGrad' && isInstalled(e),
  );
  if (stillUsed) return;
  tf.registerGradient(stockLeakyReluGrad);
  stockLeakyReluGrad = undefined;
}

/** The LeakyRelu gradient tfjs had before installKernels('…', 'native'), or undefined when the stock one is in place. */
export function replacedLeakyReluGrad(): tf.GradConfig | undefined {
  return stockLeakyReluGrad;
}

let warnedNative = false;

/** Why the C kernels cannot run on the wasm backend now (undefined: they can). */
function nativeBlocker(): string | undefined {
  let why = nativeUnavailableReason();
  const wasmBackend = tf.findBackend('wasm');
  if (!why && wasmBackend) {
    try {
      nativeFor(wasmBackend); // instantiate over the backend's memory now, so a mismatch falls back here, not mid-training
    } catch (e) {
      why = (e as Error).message.split('\n')[0];
    }
  }
  return why;
}

/**
 * Install the kernels of `backend` up to `level`: 'fix' installs the fixes; 'native' also the C kernels (wasm)
 * and the fused kernels with the LeakyRelu gradient (wasm and cpu; on cpu without the fixes, as before), skipped
 * on wasm with one warning when the C cannot run. Idempotent; returns the names in effect of the tiers asked for
 * ('native': the C and fused ones only).
 */
export function installKernels(backend: string, level: 'fix' | 'native'): string[] {
  if (backend !== 'wasm' && backend !== 'cpu') return [];
  if (level === 'fix')
    return kernelEntries(backend, 'fix')
      .filter(installEntry)
      .map((e) => e.name);
  installLeakyReluGrad();
  if (backend === 'wasm') {
    const why = nativeBlocker();
    if (why) {
      if (!warnedNative) console.warn(`bst-lab: own wasm kernels not used (${why}); using the stock kernels`);
      warnedNative = true;
      return [];
    }
    installKernels('wasm', 'fix');
  }
  const tiers: KernelTier[] = backend === 'wasm' ? ['native', 'fused'] : ['fused'];
  return tiers.flatMap((t) =>
    kernelEntries(backend, t)
      .filter(installEntry)
      .map((e) => e.name),
  );
}

/**
 * Uninstall the kernels of `backend` down to `level`: 'native' removes the C and fused kernels (the fixes stay);
 * 'fix' removes everything, fixes included. The stock LeakyRelu gradient comes back once no backend has the fused
 * one. Returns the names removed, in install order.
 */
export function uninstallKernels(backend: string, level: 'fix' | 'native'): string[] {
  const tiers: KernelTier[] = level === 'native' ? ['fused', 'native'] : ['fused', 'native', 'fix'];
  const removed: string[] = [];
  for (const t of tiers) {
    for (const e of kernelEntries(backend, t).reverse()) if (uninstallEntry(e)) removed.push(e.name);
  }
  restoreLeakyReluGrad();
  return removed.reverse();
}
