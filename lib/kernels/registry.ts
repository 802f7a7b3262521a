/**
 * Markers of the kernel fixes in tfjs's global kernel registry (keyed by kernelName, backendName): a fix's
 * config carries its name (`bstFix`) and the config it replaced (`bstOriginal`). lib/kernels/install.ts
 * installs and uninstalls them; KernelError is the kernels' error class.
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
