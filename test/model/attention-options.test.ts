import * as tf from '@tensorflow/tfjs';
import {
  attentionSummary,
  attentionWeights,
  buildBst,
  predict,
  resolveConfig,
  saveCheckpoint,
  loadCheckpoint,
} from '../../lib/model';
import { syntheticSamples, tinySizes } from '../../lib/model/testing';
import { sliceSamples } from '../../lib/data';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { tinyConfig, useCpu, maxDiff } from './helpers';

const sizes = tinySizes();
beforeAll(useCpu);

describe('attentionScale and sequenceOutput', () => {
  test('attentionScale 0 attends uniformly over the real positions (a masked mean); 1 does not', () => {
    const s = syntheticSamples({ n: 6, seqLen: 5, sizes, seed: 11, minHistory: 1 });
    for (const scale of [0, 1]) {
      const m = buildBst(tinyConfig({ attentionScale: scale, embedDim: 6, posDim: 4, ratingDim: 2, seed: 3 }), sizes);
      const att = attentionWeights(m, s);
      const [N, H, L] = att.shape;
      let worst = 0;
      for (let b = 0; b < N; b++) {
        const real = Array.from({ length: L }, (_, j) => j).filter((j) => j === L - 1 || s.itemSeq[b * L + j] !== 0);
        for (let h = 0; h < H; h++) {
          for (const j of real)
            worst = Math.max(worst, Math.abs(att.data[((b * H + h) * L + L - 1) * L + j] - 1 / real.length));
        }
      }
      if (scale === 0) expect(worst).toBeLessThan(1e-6);
      else expect(worst).toBeGreaterThan(1e-4);
      const sum = attentionSummary(m, [s]);
      if (scale === 0) {
        expect(sum.normalisedEntropy).toBeCloseTo(1, 5);
        expect(sum.spread).toBeLessThan(1e-6);
      } else expect(sum.spread).toBeGreaterThan(1e-4);
      m.net.dispose();
    }
  });

  test("sequenceOutput 'target' feeds the head the target slot only ([B, D]) and round-trips through a checkpoint", async () => {
    const before = tf.memory().numTensors;
    const cfg = tinyConfig({ sequenceOutput: 'target' });
    const m = buildBst(cfg, sizes);
    const flat = buildBst(tinyConfig(), sizes);
    const D = 4 + 2 + 2;
    const units = 16;
    // first MLP layer: the target model reads D sequence features, the paper's model L*D
    const k0 = (name: string, mm: typeof m) => (mm.net.getLayer(name).getWeights()[0].shape as number[])[0];
    expect(k0('mlp_0', flat) - k0('mlp_0', m)).toBe(5 * D - D);
    expect(units).toBe(resolveConfig(cfg).mlpUnits[0]);
    const s = syntheticSamples({ n: 5, seqLen: 5, sizes, seed: 12, minHistory: 2 });
    const p = predict(m, [s]);
    // history still matters, through attention
    const t = sliceSamples(s, 0, 5);
    for (let i = 0; i < 5; i++) t.ratingSeq[i * 5 + 3] = t.ratingSeq[i * 5 + 3] === 5 ? 1 : 5;
    expect(maxDiff(p, predict(m, [t]))).toBeGreaterThan(1e-5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-target-'));
    try {
      await saveCheckpoint(dir, { model: m });
      const back = await loadCheckpoint(dir);
      expect(back.model.config.sequenceOutput).toBe('target');
      expect(maxDiff(p, predict(back.model, [s]))).toBeLessThan(1e-6);
      back.model.net.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    m.net.dispose();
    flat.net.dispose();
    expect(tf.memory().numTensors).toBe(before); // no tensor leaks
  });

  test('bad values are refused with the key and value', () => {
    expect(() => resolveConfig({ attentionScale: -1 })).toThrow(/attentionScale.*-1/);
    expect(() => resolveConfig({ sequenceOutput: 'pooled' as any })).toThrow(/sequenceOutput.*pooled/);
  });
});
