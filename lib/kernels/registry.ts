/**
 * Overriding tfjs kernels in place, idempotently and reversibly.
 *
 * tfjs keeps one global kernel registry keyed by (kernelName, backendName). A fix replaces one entry with a
 * config that carries a marker (`bstFix`) and the config it replaced (`bstOriginal`), so that installing twice
 * is a no-op even if this module is loaded twice, and uninstalling puts the exact original object back.
 */
import * as tf from '@tensorflow/tfjs';
import { BstError } from '../util/errors';

/** A kernel received inputs it cannot handle (wrong dtype, mismatched shapes). */
export class KernelError extends BstError {}

/** A kernel config registered by bst-lab: marked with the fix name and holding the config it replaced. */
export type FixedKernelConfig = tf.KernelConfig & {
  /** name of the fix, e.g. 'wasm:UnsortedSegmentSum' */
  bstFix: string;
  /** the config that was registered before (undefined when the backend had no such kernel) */
  bstOriginal?: tf.KernelConfig;
};

/** The registered config for (kernelName, backendName), or undefined. */
export function currentKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return tf.getKernel(kernelName, backendName) ?? undefined;
}

/** The bst-lab fix registered for (kernelName, backendName), or undefined when the stock kernel (or none) is in place. */
export function installedFix(kernelName: string, backendName: string): FixedKernelConfig | undefined {
  const k = currentKernel(kernelName, backendName) as Partial<FixedKernelConfig> | undefined;
  return k && typeof k.bstFix === 'string' ? (k as FixedKernelConfig) : undefined;
}

/**
 * Register `make(original)` in place of the current kernel, unless a bst-lab fix is already there.
 * `original` is the stock config (undefined when the backend lacks the kernel). Returns the fix in effect.
 */
export function overrideKernel(
  kernelName: string,
  backendName: string,
  fixName: string,
  make: (original: tf.KernelConfig | undefined) => tf.KernelConfig,
): FixedKernelConfig {
  const already = installedFix(kernelName, backendName);
  if (already) return already;
  const original = currentKernel(kernelName, backendName);
  const fixed: FixedKernelConfig = Object.assign({}, make(original), {
    kernelName,
    backendName,
    bstFix: fixName,
    bstOriginal: original,
  });
  if (original) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(fixed);
  return fixed;
}

/** Put back the kernel a bst-lab fix replaced (or remove the fix when there was none). Returns whether a fix was removed. */
export function restoreKernel(kernelName: string, backendName: string): boolean {
  const fix = installedFix(kernelName, backendName);
  if (!fix) return false;
  tf.unregisterKernel(kernelName, backendName);
  if (fix.bstOriginal) tf.registerKernel(fix.bstOriginal);
  return true;
}
