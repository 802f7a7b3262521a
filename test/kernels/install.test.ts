import * as tf from '@tensorflow/tfjs';
import { installKernelFixes, installedFix, knownKernelFixes, uninstallKernelFixes } from '../../lib/kernels';
import { GlobalState, restoreState, saveState } from './helpers';

describe('installKernelFixes', () => {
  let state: GlobalState;
  beforeAll(async () => {
    state = await saveState();
  });
  afterAll(async () => {
    await restoreState(state);
  });

  test('installs the wasm fixes, idempotently', () => {
    uninstallKernelFixes('wasm');
    const first = installKernelFixes('wasm');
    expect(first).toEqual([
      'wasm:UnsortedSegmentSum',
      'wasm:BatchMatMul-transpose',
      'wasm:GatherV2',
      'wasm:Sum-leading-axes',
      'wasm:_FusedMatMul-transpose-bias',
    ]);
    expect(knownKernelFixes('wasm')).toEqual(first);
    const kernels = ['UnsortedSegmentSum', 'BatchMatMul', 'GatherV2', 'Sum', '_FusedMatMul'];
    const configs = kernels.map((k) => tf.getKernel(k, 'wasm'));
    expect(installKernelFixes('wasm')).toEqual(first);
    kernels.forEach((k, i) => expect(tf.getKernel(k, 'wasm')).toBe(configs[i]));
    expect(installedFix('BatchMatMul', 'wasm')?.bstOriginal).toBeDefined();
  });

  test('installs the cpu fix and uninstalling restores the stock kernel object', () => {
    uninstallKernelFixes('cpu');
    const stock = tf.getKernel('UnsortedSegmentSum', 'cpu');
    expect(installKernelFixes('cpu')).toEqual(['cpu:UnsortedSegmentSum']);
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')).not.toBe(stock);
    expect(installKernelFixes('cpu')).toEqual(['cpu:UnsortedSegmentSum']);
    expect(uninstallKernelFixes('cpu')).toEqual(['cpu:UnsortedSegmentSum']);
    expect(tf.getKernel('UnsortedSegmentSum', 'cpu')).toBe(stock);
    expect(uninstallKernelFixes('cpu')).toEqual([]);
  });

  test('uninstalling wasm removes the added kernel and restores the stock matmuls', () => {
    installKernelFixes('wasm');
    const stockMatMul = installedFix('BatchMatMul', 'wasm')!.bstOriginal;
    uninstallKernelFixes('wasm');
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(stockMatMul);
  });

  test('unknown or other backends get no fixes', () => {
    for (const name of ['webgl', 'tensorflow', 'webgpu', 'no-such-backend', 'constructor', '']) {
      expect(installKernelFixes(name)).toEqual([]);
      expect(knownKernelFixes(name)).toEqual([]);
    }
  });
});
