import * as tf from '@tensorflow/tfjs';
import {
  BroadcastLayerNorm,
  MultiHeadSelfAttention,
  TransformerBlock,
  LearnedPositionEmbedding,
  SinusoidalPositionEncoding,
  TimeDeltaEmbedding,
  PaddingMask,
  SeededDropout,
  RatingEmbedding,
  timeBucket,
  sinusoidTable,
} from '../../lib/model';
import { ConfigError } from '../../lib/util/errors';
import { useCpu, maxDiff } from './helpers';

beforeAll(useCpu);

/** Rebuild a layer from its class name + config through the serialization registry. */
function roundTrip<T extends tf.layers.Layer>(layer: T): T {
  const json = JSON.parse(JSON.stringify({ className: layer.getClassName(), config: layer.getConfig() }));
  const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[json.className];
  return fromConfig(cls, json.config) as T;
}

/** Copy weights from a to b (same architecture). */
function copyWeights(a: tf.layers.Layer, b: tf.layers.Layer) {
  b.setWeights(a.getWeights());
}

const B = 3,
  L = 4,
  D = 8;
const x = () => tf.randomNormal([B, L, D], 0, 1, 'float32', 5); // [B, L, D]
const maskT = () =>
  tf.tensor2d([
    [0, 1, 1, 1],
    [1, 1, 1, 1],
    [0, 0, 0, 1],
  ]); // [B, L]

describe('BroadcastLayerNorm', () => {
  test('normalises the last axis, applies gamma/beta, round-trips its config', () => {
    const ln = new BroadcastLayerNorm({ epsilon: 1e-5, name: 'ln_test' });
    const inp = x();
    const y = ln.apply(inp) as tf.Tensor;
    const mean = tf.mean(y, -1),
      variance = tf.moments(y, -1).variance;
    expect(maxDiff(mean.dataSync(), new Float32Array(B * L))).toBeLessThan(1e-5);
    expect(maxDiff(variance.dataSync(), new Float32Array(B * L).fill(1))).toBeLessThan(1e-3);
    ln.setWeights([tf.fill([D], 2), tf.fill([D], 0.5)]);
    const y2 = ln.apply(inp) as tf.Tensor;
    expect(maxDiff(y2.dataSync(), tf.add(tf.mul(y, 2), 0.5).dataSync())).toBeLessThan(1e-5);
    const copy = roundTrip(ln);
    expect(copy.getConfig()).toEqual(ln.getConfig());
    expect(copy).toBeInstanceOf(BroadcastLayerNorm);
    expect(ln.computeOutputShape([null, L, D])).toEqual([null, L, D]);
    tf.dispose([inp, y, y2, mean, variance]);
  });

  test('matches a reference layer norm and has a cheap gradient (no Tile/Slice kernels)', async () => {
    const ln = new BroadcastLayerNorm({});
    const inp = x();
    ln.apply(inp);
    const ref = tf.tidy(() => {
      const m = tf.mean(inp, -1, true);
      const v = tf.mean(tf.square(tf.sub(inp, m)), -1, true);
      return tf.div(tf.sub(inp, m), tf.sqrt(tf.add(v, 1e-6)));
    });
    expect(maxDiff((ln.apply(inp) as tf.Tensor).dataSync(), ref.dataSync())).toBeLessThan(1e-5);
    const prof = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(ln.apply(t) as tf.Tensor))(inp));
    const names = prof.kernels.map((k) => k.name);
    expect(names).not.toContain('Tile');
    expect(names.filter((n) => n === 'Slice').length).toBe(0);
    tf.dispose([inp, ref]);
  });
});

describe('MultiHeadSelfAttention', () => {
  test('masked keys have no influence; shapes; config round trip; heads must divide the width', () => {
    const att = new MultiHeadSelfAttention({ numHeads: 2, seed: 3 });
    const a = x(),
      m = maskT();
    const y = att.apply([a, m]) as tf.Tensor;
    expect(y.shape).toEqual([B, L, D]);
    // change the masked positions' inputs (sample 0 pos 0; sample 2 pos 0..2): real rows must not change
    const noise = tf.mul(tf.randomNormal([B, L, D], 0, 5, 'float32', 9), tf.expandDims(tf.sub(1, m), -1));
    const y2 = att.apply([tf.add(a, noise), m]) as tf.Tensor;
    const keep = tf.expandDims(m, -1);
    expect(maxDiff(tf.mul(y, keep).dataSync(), tf.mul(y2, keep).dataSync())).toBeLessThan(1e-5);
    // without the mask the same change does alter real rows (the check above can fail)
    const ones = tf.onesLike(m);
    const y3 = att.apply([a, ones]) as tf.Tensor,
      y4 = att.apply([tf.add(a, noise), ones]) as tf.Tensor;
    expect(maxDiff(tf.mul(y3, keep).dataSync(), tf.mul(y4, keep).dataSync())).toBeGreaterThan(1e-3);
    const w = att.attentionWeights(a, m);
    expect(w.shape).toEqual([B, 2, L, L]);
    const copy = roundTrip(att);
    expect(copy.getConfig()).toEqual(att.getConfig());
    expect(() => new MultiHeadSelfAttention({ numHeads: 3 }).apply([a, m])).toThrow(ConfigError);
    tf.dispose([a, m, y, noise, y2, keep, ones, y3, y4, w]);
  });
});

describe('TransformerBlock', () => {
  test('batch independence, zero padded rows, seeded dropout only in training, config round trip', () => {
    const blk = new TransformerBlock({ numHeads: 2, ffnMult: 2, dropout: 0.5, seed: 4 });
    const a = x(),
      m = maskT();
    const y = blk.apply([a, m]) as tf.Tensor; // inference
    const y0 = blk.apply([a.slice([0, 0, 0], [1, L, D]), m.slice([0, 0], [1, L])]) as tf.Tensor;
    expect(maxDiff(y.slice([0, 0, 0], [1, L, D]).dataSync(), y0.dataSync())).toBeLessThan(1e-5);
    const rows = y.arraySync() as number[][][];
    expect(rows[2][0].every((v) => v === 0)).toBe(true);
    blk.setDropoutStep(7);
    const t1 = (blk.apply([a, m], { training: true }) as tf.Tensor).dataSync();
    blk.setDropoutStep(7);
    const t2 = (blk.apply([a, m], { training: true }) as tf.Tensor).dataSync();
    const t3 = (blk.apply([a, m], { training: true }) as tf.Tensor).dataSync(); // step 8: new masks
    expect(maxDiff(t1, t2)).toBe(0);
    expect(maxDiff(t1, t3)).toBeGreaterThan(1e-3);
    expect(maxDiff(t1, y.dataSync())).toBeGreaterThan(1e-3);
    const copy = roundTrip(blk);
    copy.apply([a, m]);
    copyWeights(blk, copy);
    expect(maxDiff((copy.apply([a, m]) as tf.Tensor).dataSync(), y.dataSync())).toBeLessThan(1e-6);
    expect(copy.getConfig()).toEqual(blk.getConfig());
  });

  test('one training step lowers a loss and leaks no tensors', () => {
    const blk = new TransformerBlock({ numHeads: 2, ffnMult: 2, dropout: 0 });
    const a = x(),
      m = maskT(),
      target = tf.randomNormal([B, L, D], 0, 1, 'float32', 6);
    blk.apply([a, m]);
    const vars = blk.trainableWeights.map((w) => w.read() as tf.Variable);
    const opt = tf.train.sgd(0.1);
    const loss = () => tf.mean(tf.square(tf.sub(blk.apply([a, m]) as tf.Tensor, target))) as tf.Scalar;
    const before = tf.tidy(() => loss().dataSync()[0]);
    const n0 = tf.memory().numTensors;
    tf.tidy(() => {
      opt.minimize(loss, false, vars);
    });
    expect(tf.memory().numTensors).toBe(n0);
    expect(tf.tidy(() => loss().dataSync()[0])).toBeLessThan(before);
  });
});

describe('position layers', () => {
  const items = () =>
    tf.tensor2d(
      [
        [0, 3, 4, 5],
        [1, 2, 3, 4],
      ],
      [2, 4],
      'int32',
    );

  test('learned positions: [B, L, P], same vector per index across the batch, round trip', () => {
    const p = new LearnedPositionEmbedding({ outputDim: 3, seed: 1 });
    const y = p.apply(items()) as tf.Tensor;
    expect(y.shape).toEqual([2, 4, 3]);
    const v = y.arraySync() as number[][][];
    expect(v[0]).toEqual(v[1]);
    expect(v[0][0]).not.toEqual(v[0][1]);
    expect(roundTrip(p).getConfig()).toEqual(p.getConfig());
    expect(p.computeOutputShape([null, 4])).toEqual([null, 4, 3]);
  });

  test('sinusoidal: fixed table, no weights', () => {
    const p = new SinusoidalPositionEncoding({ outputDim: 4 });
    const y = p.apply(items()) as tf.Tensor;
    expect(p.trainableWeights).toHaveLength(0);
    expect(maxDiff(y.slice([1, 0, 0], [1, 4, 4]).dataSync(), sinusoidTable(4, 4))).toBeLessThan(1e-6);
    expect(sinusoidTable(2, 2)).toEqual(new Float32Array([0, 1, Math.sin(1), Math.cos(1)]));
    expect(roundTrip(p).getConfig()).toEqual(p.getConfig());
  });

  test('time buckets: 0 for no gap, log scale, capped; the layer agrees with timeBucket()', () => {
    expect(timeBucket(0, 8, 1e8)).toBe(0);
    expect(timeBucket(1, 8, 1e8)).toBe(1);
    expect(timeBucket(60, 8, 1e8)).toBe(1);
    expect(timeBucket(1e9, 8, 1e8)).toBe(7);
    const gaps = [0, 1, 59, 60, 3600, 86400, 86400 * 30, 86400 * 365, 1e8, 1e9];
    const bs = gaps.map((g) => timeBucket(g, 8, 1e8));
    for (let i = 1; i < bs.length; i++) expect(bs[i]).toBeGreaterThanOrEqual(bs[i - 1]);
    const layer = new TimeDeltaEmbedding({ numBuckets: 8, maxSeconds: 1e8, outputDim: 2, seed: 1 });
    const t = tf.tensor2d([gaps], [1, gaps.length]);
    expect(Array.from(layer.buckets(t).dataSync())).toEqual(bs);
    const y = layer.apply(t) as tf.Tensor;
    expect(y.shape).toEqual([1, gaps.length, 2]);
    expect(roundTrip(layer).getConfig()).toEqual(layer.getConfig());
  });
});

describe('other layers', () => {
  test('padding mask: 0 at item 0 except the target slot', () => {
    const m = new PaddingMask({}).apply(
      tf.tensor2d(
        [
          [0, 0, 3, 0],
          [2, 0, 1, 5],
        ],
        [2, 4],
        'int32',
      ),
    ) as tf.Tensor;
    expect(m.arraySync()).toEqual([
      [0, 0, 1, 1],
      [1, 0, 1, 1],
    ]);
  });

  test('seeded dropout: identity at inference, scaled masks depending on (seed, step) in training', () => {
    const d = new SeededDropout({ rate: 0.5, seed: 3 });
    const a = tf.ones([4, 50]);
    expect((d.apply(a) as tf.Tensor).dataSync()).toEqual(a.dataSync());
    d.setDropoutStep(0);
    const t1 = (d.apply(a, { training: true }) as tf.Tensor).dataSync();
    const t2 = (d.apply(a, { training: true }) as tf.Tensor).dataSync();
    d.setDropoutStep(0);
    const t3 = (d.apply(a, { training: true }) as tf.Tensor).dataSync();
    expect(new Set(Array.from(t1))).toEqual(new Set([0, 2]));
    expect(t3).toEqual(t1);
    expect(maxDiff(t1, t2)).toBe(2);
    expect(roundTrip(d).getConfig()).toEqual(d.getConfig());
  });

  test('rating embedding: half-star levels, 0 = none', () => {
    const r = new RatingEmbedding({ outputDim: 2, seed: 2 });
    const y = r.apply(tf.tensor2d([[0, 1, 4.5, 5]])) as tf.Tensor;
    expect(y.shape).toEqual([1, 4, 2]);
    const table = r.getWeights()[0].arraySync() as number[][];
    const v = y.arraySync() as number[][][];
    expect(table).toHaveLength(11);
    expect(v[0][0]).toEqual(table[0]);
    expect(v[0][2]).toEqual(table[9]);
    expect(roundTrip(r).getConfig()).toEqual(r.getConfig());
  });
});
