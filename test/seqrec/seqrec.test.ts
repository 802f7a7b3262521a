/** The SASRec-style sequence model (lib/seqrec): config, windows, loss gradient, causality, learning a cycle. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/kernels/backend';
import { SequenceSet } from '../../lib/eval/next-item';
import {
  createSeqRec,
  disposeSeqRec,
  seqRecConfig,
  seqRecHidden,
  seqRecScores,
  seqRecWindows,
  softmaxCrossEntropy,
  trainSeqRec,
} from '../../lib/seqrec';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';

afterAll(async () => {
  await tf.setBackend('cpu');
});

test('config: defaults are the SASRec settings; bad values are named', () => {
  const c = seqRecConfig();
  expect([c.blocks, c.dim, c.maxLen, c.dropout, c.learningRate]).toEqual([2, 64, 50, 0.2, 1e-3]);
  expect(() => seqRecConfig({ heads: 3 })).toThrow(/heads \(3\) must divide dim \(64\)/);
  expect(() => seqRecConfig({ maxLen: 0 })).toThrow(ConfigError);
  expect(() => seqRecConfig({ windows: 'some' as any })).toThrow(/windows must be 'last' or 'all', got "some"/);
});

test('windows: inputs s[0..n-2] with next-item targets, left-padded; "all" chunks from the end', () => {
  const fit: SequenceSet = {
    users: Int32Array.from([1, 2]),
    items: [Int32Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([7])],
    times: [],
  };
  const last = seqRecWindows(fit, { maxLen: 3, windows: 'last' });
  expect(last.n).toBe(1); // the one-item sequence has no target
  expect(Array.from(last.inputs)).toEqual([3, 4, 5]);
  expect(Array.from(last.targets)).toEqual([4, 5, 6]);
  const all = seqRecWindows(fit, { maxLen: 3, windows: 'all' });
  expect(Array.from(all.inputs)).toEqual([3, 4, 5, 0, 1, 2]);
  expect(Array.from(all.targets)).toEqual([4, 5, 6, 0, 2, 3]);
});

for (const backend of ['cpu', 'wasm']) {
  test(`softmaxCrossEntropy: value and gradient equal tf.losses.softmaxCrossEntropy (${backend})`, async () => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([5, 9], 0, 2, 'float32', 3) as tf.Tensor2D;
    const t = Int32Array.from([1, 3, 8, 0, 2]);
    const ref = (z: tf.Tensor) =>
      tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(tf.tensor1d(t, 'int32'), 9), 'float32'), z);
    const [a, b] = [softmaxCrossEntropy(x, t), ref(x)];
    expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0], 5);
    const ga = tf
      .grad((z: tf.Tensor) => softmaxCrossEntropy(z as tf.Tensor2D, t))(x)
      .dataSync();
    const gb = tf.grad(ref)(x).dataSync();
    for (let i = 0; i < ga.length; i++) expect(ga[i]).toBeCloseTo(gb[i], 5);
    tf.dispose([x, a, b]);
  });
}

test('attention is causal: a later item does not change earlier hidden states; padding is ignored', async () => {
  await tf.setBackend('cpu');
  const m = createSeqRec(seqRecConfig({ maxLen: 6, dim: 8, heads: 2, blocks: 2, seed: 5 }), 12);
  const h = (ids: number[]) => tf.tidy(() => seqRecHidden(m, tf.tensor2d(ids, [1, 6], 'int32')).arraySync()[0]);
  const a = h([0, 0, 3, 4, 5, 6]);
  const b = h([0, 0, 3, 4, 5, 11]);
  const c = h([0, 9, 3, 4, 5, 6]); // a different item in front changes what follows
  for (let t = 2; t < 5; t++) for (let d = 0; d < 8; d++) expect(b[t][d]).toBeCloseTo(a[t][d], 5);
  expect(Math.abs(b[5][0] - a[5][0]) + Math.abs(b[5][1] - a[5][1])).toBeGreaterThan(1e-4);
  expect(Math.abs(c[5][0] - a[5][0]) + Math.abs(c[5][1] - a[5][1])).toBeGreaterThan(1e-4);
  // scoring left-pads: a 4-item input equals the padded row above
  const s = seqRecScores(m, [Int32Array.from([3, 4, 5, 6])]);
  const direct = tf.tidy(() => tf.matMul(tf.tensor2d([a[5]]), tf.transpose(m.itemEmb)).dataSync());
  for (let j = 1; j < 12; j++) expect(s[j]).toBeCloseTo(direct[j], 4);
  expect(s[0]).toBeLessThan(-1e8); // padding is never recommended
  const again = createSeqRec(m.config, 12); // a second model with the same seed (e.g. retraining) must not collide
  expect(again.itemEmb.arraySync()).toEqual(m.itemEmb.arraySync());
  disposeSeqRec(again);
  disposeSeqRec(m);
});

test('learns deterministic cycles 1 -> 2 -> ... -> 8 -> 1 (HR@1 near 1) without leaking tensors', async () => {
  await initBackend({ choice: 'wasm', log: () => {} });
  const t0 = Date.now();
  const items = 8;
  const rng = new Rng(11);
  const cycle = (start: number, n: number) => Int32Array.from({ length: n }, (_, i) => ((start + i) % items) + 1);
  const fit: SequenceSet = { users: new Int32Array(40), items: [], times: [] };
  for (let u = 0; u < 40; u++) fit.items.push(cycle(rng.int(items), 6 + rng.int(8)));
  const before = tf.memory().numTensors;
  const config = seqRecConfig({
    maxLen: 8,
    dim: 16,
    heads: 1,
    blocks: 1,
    dropout: 0.1,
    learningRate: 0.01,
    batchSize: 16,
    epochs: 30,
    seed: 2,
  });
  const r = trainSeqRec({ config, numItems: items + 1, fit });
  const inputs = Array.from({ length: 30 }, () => cycle(rng.int(items), 2 + rng.int(10)));
  const scores = seqRecScores(r.model, inputs);
  let hits = 0;
  inputs.forEach((inp, b) => {
    const row = scores.subarray(b * (items + 1), (b + 1) * (items + 1));
    let best = 1;
    for (let j = 2; j <= items; j++) if (row[j] > row[best]) best = j;
    if (best === (inp[inp.length - 1] % items) + 1) hits++;
  });
  expect(hits / inputs.length).toBeGreaterThanOrEqual(0.95);
  disposeSeqRec(r.model);
  expect(tf.memory().numTensors).toBe(before);
  expect(Date.now() - t0).toBeLessThan(30000);
});
