/**
 * The project's own path: initBackend('wasm') with its kernel fixes and own kernels in the main thread; the
 * workers must end up with the same kernels (kernelSignature) and the same results.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../lib/kernels/backend';
import { buildBst } from '../../../lib/model';
import { syntheticSamples, tinySizes } from '../../../lib/model/testing';
import { makeOptimizer, setDropoutStep, trainStep } from '../../../lib/train';
import { DataParallelTrainer, kernelSignature } from '../../../lib/train/parallel';
import { tinyConfig, maxDiff } from '../../model/helpers';

const sizes = tinySizes();

test('wasm with the kernel fixes: 2-worker steps match single-worker steps', async () => {
  const info = await initBackend({ choice: 'wasm', log: () => undefined });
  expect(info.tfName).toBe('wasm');
  expect(kernelSignature('wasm').some((k) => k.includes('='))).toBe(true); // the fixes are in place
  const cfg = tinyConfig({ dropout: 0, learningRate: 0.01, l2: 1e-4 });
  const a = buildBst(cfg, sizes),
    b = buildBst(cfg, sizes);
  const oa = makeOptimizer(a.config),
    ob = makeOptimizer(b.config);
  const batches = [0, 1, 2].map((i) => syntheticSamples({ n: 33, seqLen: 5, sizes, seed: 70 + i }));
  const p = await DataParallelTrainer.start({ model: b, workers: 2, checkEvery: 1 });
  try {
    for (let s = 0; s < 6; s++) {
      setDropoutStep(a, s);
      const la = trainStep(a, oa, batches[s % 3]);
      const lb = await p.step(ob, batches[s % 3], s);
      expect(Math.abs(la - lb) / la).toBeLessThan(2e-6);
    }
    const wa = a.net.getWeights(),
      wb = b.net.getWeights();
    expect(Math.max(...wa.map((w, i) => maxDiff(w.dataSync(), wb[i].dataSync())))).toBeLessThan(5e-4);
  } finally {
    await p.close();
    oa.dispose();
    ob.dispose();
    a.net.dispose();
    b.net.dispose();
    tf.disposeVariables();
  }
});
