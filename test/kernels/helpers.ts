/** Shared helpers of the kernel-fix tests (not a test file itself). */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernelFixes, installedFix, uninstallKernelFixes, knownKernelFixes } from '../../lib/kernels';
import { Rng } from '../../lib/util/rng';

/** Snapshot of global state a test file must leave as it found it: the active backend and installed fixes. */
export interface GlobalState {
  backend: string;
  installed: Record<string, boolean>;
}

function isInstalled(backendName: string): boolean {
  return (
    knownKernelFixes(backendName).length > 0 &&
    installedFix(backendName === 'cpu' ? 'UnsortedSegmentSum' : 'BatchMatMul', backendName) !== undefined
  );
}

/** Record the backend and fix state (call in beforeAll, after tf.ready()). */
export async function saveState(): Promise<GlobalState> {
  await tf.ready();
  return { backend: tf.getBackend(), installed: { cpu: isInstalled('cpu'), wasm: isInstalled('wasm') } };
}

/** Put back the backend and fix state recorded by saveState. */
export async function restoreState(s: GlobalState): Promise<void> {
  for (const b of ['cpu', 'wasm']) {
    if (s.installed[b]) installKernelFixes(b);
    else uninstallKernelFixes(b);
  }
  await tf.setBackend(s.backend);
}

/** Run `fn` on `backendName` with the fixes of that backend installed (`fixed`) or removed, then switch back. */
export async function onBackend<T>(backendName: string, fixed: boolean, fn: () => T | Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend(backendName);
  if (fixed) installKernelFixes(backendName);
  else uninstallKernelFixes(backendName);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}

/** Number of tensors known to the engine plus data buffers held by the active backend (catches kernel-internal leaks). */
export function liveCounts(): { tensors: number; dataIds: number } {
  return { tensors: tf.memory().numTensors, dataIds: tf.backend().numDataIds() };
}

/** Seeded float data in [-1, 1). */
export function randomFloats(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

/** Largest absolute difference between two arrays of equal length (Infinity if lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
