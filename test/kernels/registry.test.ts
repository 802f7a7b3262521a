/**
 * lib/kernels/install.ts: one table, one install, one uninstall that puts back every kernel config it replaced
 * (the same objects) and the stock LeakyRelu gradient.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernelFixes, installNativeKernels, KERNEL_REGISTRY, uninstallKernelFixes } from '../../lib/kernels';

/** Every (kernel, backend) the registry touches, with the config registered now. */
function snapshot(): Map<string, tf.KernelConfig | undefined> {
  const m = new Map<string, tf.KernelConfig | undefined>();
  for (const e of KERNEL_REGISTRY)
    m.set(`${e.backend}/${e.kernelName}`, tf.getKernel(e.kernelName, e.backend) ?? undefined);
  return m;
}

beforeAll(async () => {
  await tf.setBackend('wasm'); // loads the wasm kernels, so the fixes have something to wrap
  await tf.ready();
  for (const b of ['wasm', 'cpu']) uninstallKernelFixes(b);
});

test('the registry lists each kernel once per backend and tier, with unique names', () => {
  const names = KERNEL_REGISTRY.map((e) => e.name);
  expect(new Set(names).size).toBe(
    names.length - KERNEL_REGISTRY.filter((e) => e.tier === 'fused' && e.backend === 'cpu').length,
  );
  expect(new Set(KERNEL_REGISTRY.map((e) => `${e.backend}/${e.tier}/${e.kernelName}`)).size).toBe(
    KERNEL_REGISTRY.length,
  );
  expect(new Set(KERNEL_REGISTRY.map((e) => e.tier))).toEqual(new Set(['fix', 'native', 'fused']));
});

test('install then uninstall restores every kernel config and the LeakyRelu gradient it replaced', () => {
  const before = snapshot();
  const stockGrad = tf.getGradient('LeakyRelu');
  expect(installKernelFixes('cpu')).toEqual(['cpu:UnsortedSegmentSum']);
  const wasm = installNativeKernels('wasm');
  const cpu = installNativeKernels('cpu');
  expect(wasm).toEqual(expect.arrayContaining(['native:BatchMatMul', 'native:LeakyRelu', 'fused:BstLeakyReluGrad']));
  expect(cpu).toEqual(expect.arrayContaining(['fused:BstLayerNorm', 'fused:BstLeakyReluGrad']));
  // something changed: the matmul is the C one over the fix over the stock kernel, the gradient is the fused one
  expect(tf.getKernel('BatchMatMul', 'wasm')).not.toBe(before.get('wasm/BatchMatMul'));
  expect(tf.getGradient('LeakyRelu')).not.toBe(stockGrad);
  expect(installNativeKernels('wasm')).toEqual(wasm); // idempotent
  uninstallKernelFixes('wasm');
  // the cpu backend still has the fused LeakyRelu gradient kernel, so the routed gradient stays
  expect(tf.getGradient('LeakyRelu')).not.toBe(stockGrad);
  uninstallKernelFixes('cpu');
  const after = snapshot();
  for (const [key, config] of before) expect([key, after.get(key)]).toEqual([key, config]);
  for (const [key, config] of before) expect(after.get(key) === config).toBe(true);
  expect(tf.getGradient('LeakyRelu')).toBe(stockGrad);
});
