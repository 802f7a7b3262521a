import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/util/rng';
import { GlobalState, liveCounts, maxAbsDiff, onBackend, randomFloats, restoreState, saveState } from './helpers';

/** An embedding lookup problem with odd sizes and repeated ids. */
function makeProblem(seed: number, vocab: number, dim: number, batch: number, len: number) {
  const rng = new Rng(seed);
  return {
    table: randomFloats(rng, vocab * dim), // [V, D]
    ids: Int32Array.from({ length: batch * len }, () => rng.int(Math.min(vocab, 7))), // [B, L], few distinct -> repeats
    weights: randomFloats(rng, batch * len * dim), // [B, L, D]
    vocab,
    dim,
    batch,
    len,
  };
}
type Problem = ReturnType<typeof makeProblem>;

/** d/dtable of sum(gather(table, ids) * weights) on the active backend. */
function gatherGrad(p: Problem): number[] {
  return tf.tidy(() => {
    const table = tf.tensor2d(p.table, [p.vocab, p.dim]);
    const ids = tf.tensor2d(p.ids, [p.batch, p.len], 'int32');
    const w = tf.tensor3d(p.weights, [p.batch, p.len, p.dim]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table); // [V, D]
    return Array.from(g.dataSync());
  });
}

/** The same gradient by a plain loop: row ids[b, l] of the gradient receives weights[b, l, :]. */
function jsGrad(p: Problem): number[] {
  const g = new Array(p.vocab * p.dim).fill(0);
  for (let i = 0; i < p.batch * p.len; i++) {
    for (let d = 0; d < p.dim; d++) g[p.ids[i] * p.dim + d] += p.weights[i * p.dim + d];
  }
  return g;
}

/** Gradient of a gather along axis 1 of a [2, V, D] tensor (transposes around the segment sum). */
function gatherAxis1Grad(p: Problem): number[] {
  return tf.tidy(() => {
    const x = tf.stack([tf.tensor2d(p.table, [p.vocab, p.dim]), tf.tensor2d(p.table, [p.vocab, p.dim])]); // [2, V, D]
    const ids = tf.tensor1d(p.ids.slice(0, p.len), 'int32'); // [L]
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids, 1))))(x); // [2, V, D]
    return Array.from(g.dataSync());
  });
}

describe('gradient of tf.gather with the kernel fixes', () => {
  let state: GlobalState;
  beforeAll(async () => {
    state = await saveState();
  });
  afterAll(async () => {
    await restoreState(state);
  });

  const problems = [makeProblem(1, 37, 5, 6, 4), makeProblem(2, 3, 64, 9, 8), makeProblem(3, 101, 3, 1, 1)];

  test.each(['cpu', 'wasm'])('on %s equals the stock cpu gradient and a JS loop within 1e-5', async (backendName) => {
    const stock = await onBackend('cpu', false, () =>
      problems.map((p) => ({ g: gatherGrad(p), g1: gatherAxis1Grad(p) })),
    );
    await onBackend(backendName, true, () => {
      const before = liveCounts();
      problems.forEach((p, k) => {
        const g = gatherGrad(p);
        expect(maxAbsDiff(g, stock[k].g)).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(g, jsGrad(p))).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(gatherAxis1Grad(p), stock[k].g1)).toBeLessThanOrEqual(1e-5);
      });
      expect(liveCounts()).toEqual(before);
    });
  });

  test('an embedding layer trains on wasm with the fixes (and cannot without)', async () => {
    const p = problems[0];
    const step = () => {
      const layer = tf.layers.embedding({ inputDim: p.vocab, outputDim: p.dim, embeddingsInitializer: 'ones' });
      layer.build([p.batch, p.len]);
      const emb = layer.trainableWeights[0].read() as tf.Variable; // [V, D]
      try {
        return tf.tidy(() => {
          const ids = tf.tensor2d(p.ids, [p.batch, p.len], 'int32'); // [B, L]
          const { grads } = tf.variableGrads(() => tf.sum(layer.apply(ids) as tf.Tensor), [emb]);
          return Array.from(grads[emb.name].dataSync());
        });
      } finally {
        emb.dispose();
      }
    };
    await onBackend('wasm', false, () => expect(step).toThrow(/UnsortedSegmentSum/));
    const expected = jsGrad({ ...p, weights: new Float32Array(p.weights.length).fill(1) });
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      expect(maxAbsDiff(step(), expected)).toBeLessThanOrEqual(1e-5);
      expect(liveCounts()).toEqual(before);
    });
  });
});
