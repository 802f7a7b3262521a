import * as tf from '@tensorflow/tfjs';
import {
  buildBst,
  predict,
  attentionWeights,
  forward,
  taskLoss,
  samplesToLabels,
  PositionKind,
  inputSpecs,
  samplesToInputs,
} from '../../lib/model';
import { syntheticSamples, tinySizes } from '../../lib/model/testing';
import { sliceSamples, concatSamples } from '../../lib/data';
import { tinyConfig, useCpu, maxDiff } from './helpers';

const sizes = tinySizes();
beforeAll(useCpu);

describe('BST model', () => {
  const kinds: PositionKind[] = ['learned', 'sinusoidal', 'time', 'none'];

  test.each(kinds)(
    'builds with positionKind=%s and predicts any batch size (incl. a partial last batch)',
    (positionKind) => {
      const m = buildBst(tinyConfig({ positionKind }), sizes);
      const s = syntheticSamples({ n: 7, seqLen: 5, sizes, seed: 1 });
      const p = predict(m, [sliceSamples(s, 0, 4), sliceSamples(s, 4, 7)]);
      expect(p.length).toBe(7);
      const whole = predict(m, [s]);
      expect(maxDiff(p, whole)).toBeLessThan(1e-5);
      expect(m.net.inputNames).toEqual(inputSpecs(m.config, sizes).map((x) => x.name));
      m.net.dispose();
    },
  );

  test("a sample's prediction does not depend on the other samples in its batch", () => {
    const m = buildBst(tinyConfig(), sizes);
    const a = syntheticSamples({ n: 6, seqLen: 5, sizes, seed: 2, minHistory: 1 });
    const b = syntheticSamples({ n: 6, seqLen: 5, sizes, seed: 3, minHistory: 1 });
    const mixed = concatSamples([sliceSamples(a, 0, 1), sliceSamples(b, 1, 6)], 5, sizes.numGenres);
    const pa = predict(m, [a]);
    const pm = predict(m, [mixed]);
    const alone = predict(m, [sliceSamples(a, 0, 1)]);
    expect(Math.abs(pa[0] - pm[0])).toBeLessThan(1e-5);
    expect(Math.abs(pa[0] - alone[0])).toBeLessThan(1e-5);
    // the others did change (so the comparison is not vacuous)
    expect(maxDiff(pa.slice(1), pm.slice(1))).toBeGreaterThan(1e-4);
    m.net.dispose();
  });

  test.each(kinds)('padded positions do not change the output (positionKind=%s)', (positionKind) => {
    const m = buildBst(tinyConfig({ positionKind }), sizes);
    const s = syntheticSamples({ n: 8, seqLen: 5, sizes, seed: 4 });
    const t = sliceSamples(s, 0, 8);
    let padded = 0;
    for (let i = 0; i < t.itemSeq.length; i++) {
      if (t.itemSeq[i] === 0) {
        t.ratingSeq[i] = 1 + (i % 5);
        t.timeDelta[i] = 1000 * (i + 1);
        padded++;
      }
    }
    expect(padded).toBeGreaterThan(0);
    expect(maxDiff(predict(m, [s]), predict(m, [t]))).toBeLessThan(1e-5);
    m.net.dispose();
  });

  test('history content changes the output (the test above is able to fail)', () => {
    const m = buildBst(tinyConfig(), sizes);
    const s = syntheticSamples({ n: 8, seqLen: 5, sizes, seed: 5, minHistory: 2 });
    const t = sliceSamples(s, 0, 8);
    for (let i = 0; i < 8; i++) t.ratingSeq[i * 5 + 3] = t.ratingSeq[i * 5 + 3] === 5 ? 1 : 5;
    expect(maxDiff(predict(m, [s]), predict(m, [t]))).toBeGreaterThan(1e-4);
    m.net.dispose();
  });

  test.each(['learned', 'sinusoidal', 'time'] as PositionKind[])(
    'changing the order of history items changes the output (positionKind=%s)',
    (positionKind) => {
      const m = buildBst(tinyConfig({ positionKind, useHistoryRatings: false }), sizes);
      const s = syntheticSamples({ n: 8, seqLen: 5, sizes, seed: 6, minHistory: 4 });
      const t = sliceSamples(s, 0, 8);
      for (let i = 0; i < 8; i++) {
        // swap the two oldest history items (not their time gaps)
        const a = i * 5,
          b = i * 5 + 1;
        [t.itemSeq[a], t.itemSeq[b]] = [t.itemSeq[b], t.itemSeq[a]];
      }
      const d = maxDiff(predict(m, [s]), predict(m, [t]));
      expect(d).toBeGreaterThan(1e-5);
      m.net.dispose();
    },
  );

  test('without positions the model is order-blind over history (sanity check of the order test)', () => {
    const m = buildBst(tinyConfig({ positionKind: 'none', useHistoryRatings: false, numHeads: 2, embedDim: 4 }), sizes);
    const s = syntheticSamples({ n: 4, seqLen: 5, sizes, seed: 6, minHistory: 4 });
    const t = sliceSamples(s, 0, 4);
    // the transformer output rows permute with the inputs: check on the block output directly
    const sub = tf.model({
      inputs: m.net.inputs,
      outputs: m.net.getLayer('transformer_0').output as tf.SymbolicTensor,
    });
    for (let i = 0; i < 4; i++) {
      const a = i * 5,
        b = i * 5 + 1;
      [t.itemSeq[a], t.itemSeq[b]] = [t.itemSeq[b], t.itemSeq[a]];
    }
    const run = (x: typeof s) =>
      tf.tidy(() => (sub.apply(samplesToInputs(x, sizes, m.config)) as tf.Tensor).arraySync() as number[][][]);
    const out = [run(s), run(t)];
    const [a, b] = out as number[][][][];
    for (let i = 0; i < 4; i++) {
      expect(maxDiff(a[i][0], b[i][1])).toBeLessThan(1e-5);
      expect(maxDiff(a[i][4], b[i][4])).toBeLessThan(1e-5); // the target row is unchanged
    }
    m.net.dispose();
  });

  test('one training step lowers the loss on a fixed batch and leaks no tensors', () => {
    const m = buildBst(tinyConfig({ dropout: 0 }), sizes);
    const s = syntheticSamples({ n: 32, seqLen: 5, sizes, seed: 8 });
    const opt = tf.train.adam(0.01);
    const vars = m.net.trainableWeights.map((w) => w.read() as tf.Variable);
    const lossOf = () =>
      tf.tidy(() => taskLoss(m.config, samplesToLabels(s, m.config), forward(m, s, true)).dataSync()[0]);
    const before = lossOf();
    // warm-up step creates the optimizer slots; count tensors after it
    tf.tidy(() => {
      opt.minimize(() => taskLoss(m.config, samplesToLabels(s, m.config), forward(m, s, true)), false, vars);
    });
    const n0 = tf.memory().numTensors;
    tf.tidy(() => {
      opt.minimize(() => taskLoss(m.config, samplesToLabels(s, m.config), forward(m, s, true)), false, vars);
    });
    expect(tf.memory().numTensors).toBe(n0);
    predict(m, [s]);
    expect(tf.memory().numTensors).toBe(n0);
    expect(lossOf()).toBeLessThan(before);
    opt.dispose();
    m.net.dispose();
  });

  test.each(kinds)(
    'L = 1 (the target alone, no history) builds, trains and predicts (positionKind=%s)',
    (positionKind) => {
      const m = buildBst(tinyConfig({ seqLen: 1, positionKind, dropout: 0 }), sizes);
      const s = syntheticSamples({ n: 16, seqLen: 1, sizes, seed: 9 });
      const opt = tf.train.adam(0.01);
      const vars = m.net.trainableWeights.map((w) => w.read() as tf.Variable);
      const lossOf = () =>
        tf.tidy(() => taskLoss(m.config, samplesToLabels(s, m.config), forward(m, s, true)).dataSync()[0]);
      const before = lossOf();
      for (let i = 0; i < 3; i++)
        tf.tidy(() => {
          opt.minimize(() => taskLoss(m.config, samplesToLabels(s, m.config), forward(m, s, true)), false, vars);
        });
      expect(lossOf()).toBeLessThan(before);
      const p = predict(m, [s]);
      expect(p).toHaveLength(16);
      expect(Array.from(p).every(Number.isFinite)).toBe(true);
      opt.dispose();
      m.net.dispose();
    },
  );

  test('attention weights: [n, H, L, L], rows sum to 1, padded keys get 0', () => {
    const m = buildBst(tinyConfig({ numBlocks: 2 }), sizes);
    const s = syntheticSamples({ n: 3, seqLen: 5, sizes, seed: 9 });
    for (const block of [0, 1]) {
      const a = attentionWeights(m, s, block);
      expect(a.shape).toEqual([3, 2, 5, 5]);
      for (let b = 0; b < 3; b++)
        for (let h = 0; h < 2; h++)
          for (let i = 0; i < 5; i++) {
            let sum = 0;
            for (let j = 0; j < 5; j++) {
              const w = a.data[((b * 2 + h) * 5 + i) * 5 + j];
              if (s.itemSeq[b * 5 + j] === 0 && j !== 4) expect(w).toBeLessThan(1e-6);
              sum += w;
            }
            expect(sum).toBeCloseTo(1, 5);
          }
    }
    expect(() => attentionWeights(m, s, 2)).toThrow(/block=2/);
    m.net.dispose();
  });

  test('like task outputs probabilities', () => {
    const m = buildBst(tinyConfig({ task: 'like' }), sizes);
    const p = predict(m, [syntheticSamples({ n: 10, seqLen: 5, sizes, seed: 10 })]);
    for (const v of p) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(1);
    }
    m.net.dispose();
  });

  test('bad samples raise named errors', () => {
    const m = buildBst(tinyConfig(), sizes);
    const s = syntheticSamples({ n: 2, seqLen: 5, sizes, seed: 11 });
    s.itemSeq[3] = sizes.numItems;
    expect(() => predict(m, [s])).toThrow(/itemSeq\[sample 0\] = 20 outside vocabulary 0..19/);
    const t = syntheticSamples({ n: 2, seqLen: 6, sizes, seed: 11 });
    expect(() => predict(m, [t])).toThrow(/seqLen=6/);
    m.net.dispose();
  });
});
