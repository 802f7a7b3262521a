/**
 * The log-q correction's sign (lib/retrieval/loss). A popularity-skewed toy world with known true scores theta:
 * contexts x are drawn with skewed weights and a next item j ~ softmax(theta_x), so the items the heavy context
 * likes are globally popular and enter most batches as negatives. A free score table S[x, j] trained with the
 * library's in-batch sampled softmax and the library's q estimate recovers theta's order within every context
 * when log q is subtracted (the correct sign); with log q added (the flipped sign) popular items are pushed far
 * below where theta puts them and the order is lost.
 */
import * as tf from '@tensorflow/tfjs';
import { batchCandidates, candidateLogQ, sampledSoftmaxLoss } from '../../lib/retrieval';
import { Rng } from '../../lib/util/rng';

const K = 24; // items
const X = 4; // contexts
const N = 12; // positives per batch

/** theta [X][K]: context 0 (the heavy one) loves items 0..5; the others have their own, milder tastes. */
function world(): { theta: number[][]; weight: number[] } {
  const rng = new Rng(11);
  const theta = Array.from({ length: X }, (_, x) =>
    Array.from({ length: K }, (_, j) => (x === 0 ? (j < 6 ? 4 - 0.3 * j : 0) : rng.normal())),
  );
  return { theta, weight: [0.7, 0.1, 0.1, 0.1] };
}

function sampler(theta: number[][], weight: number[], rng: Rng): () => [number, number] {
  const probs = theta.map((t) => {
    const e = t.map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
  const pick = (p: number[]) => {
    let u = rng.next();
    for (let i = 0; i < p.length; i++) if ((u -= p[i]) < 0) return i;
    return p.length - 1;
  };
  return () => {
    const x = pick(weight);
    return [x, pick(probs[x])];
  };
}

/** Share of item pairs (within each context, true score gap > 0.3) that S orders as theta does. */
function concordance(S: number[][], theta: number[][]): number {
  let agree = 0,
    all = 0;
  for (let x = 0; x < X; x++) {
    for (let a = 0; a < K; a++)
      for (let b = 0; b < K; b++) {
        if (theta[x][a] - theta[x][b] > 0.3) {
          all++;
          if (S[x][a] > S[x][b]) agree++;
        }
      }
  }
  return agree / all;
}

/** Train S with the library's loss; `sign` +1 passes log q as the library's trainer does, -1 passes -log q (the flipped sign). */
function train(sign: 1 | -1): number {
  const { theta, weight } = world();
  const rng = new Rng(3);
  const draw = sampler(theta, weight, rng);
  // p_j from a large training sample, as the trainer estimates it from training frequency
  const counts = new Float64Array(K);
  const M = 20000;
  for (let i = 0; i < M; i++) counts[draw()[1]]++;
  const logQAll = candidateLogQ(
    Float64Array.from(counts, (c) => c / M),
    N,
  );
  const S = tf.variable(tf.zeros([X, K]));
  const opt = tf.train.adam(0.08);
  for (let step = 0; step < 150; step++) {
    const xs = new Int32Array(N);
    const ys: number[] = [];
    for (let i = 0; i < N; i++) {
      const [x, j] = draw();
      xs[i] = x;
      ys.push(j);
    }
    const cand = batchCandidates(ys);
    const logQ = Float32Array.from(cand.items, (j) => sign * logQAll[j]);
    tf.tidy(() => {
      opt.minimize(
        () => {
          const scores = tf.gather(
            tf.gather(S, tf.tensor1d(xs, 'int32')),
            tf.tensor1d(cand.items, 'int32'),
            1,
          ) as tf.Tensor2D; // [N, C]
          return sampledSoftmaxLoss(scores, cand.labels, { temperature: 1, logQ });
        },
        false,
        [S],
      );
    });
  }
  const learned = S.arraySync() as number[][];
  S.dispose();
  opt.dispose();
  return concordance(learned, theta);
}

test('candidateLogQ: popular items are likelier candidates; q = 1 - (1 - p)^N', () => {
  const lq = candidateLogQ([0, 0.5, 0.1, 0.01], 10);
  expect(lq[1]).toBeCloseTo(Math.log(1 - 0.5 ** 10), 6);
  expect(lq[3]).toBeCloseTo(Math.log(1 - 0.99 ** 10), 5);
  expect(lq[1]).toBeGreaterThan(lq[2]);
  expect(lq[2]).toBeGreaterThan(lq[3]);
  expect(lq[0]).toBeCloseTo(Math.log(1e-9), 3); // floored, not -Infinity
});

test('log-q sign: subtracting log q recovers the true within-context order; adding it does not', async () => {
  await tf.setBackend('cpu');
  const correct = train(1);
  const flipped = train(-1);
  expect(correct).toBeGreaterThan(0.9);
  expect(flipped).toBeLessThan(correct - 0.1);
});
