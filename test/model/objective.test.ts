/**
 * Training objectives (config.loss): each loss's gradient moves a prediction towards its target, Huber is
 * e²/2 near zero and |e| - delta/2 (MAE-like) far away, and evaluate() reports the trained objective as `loss`
 * while the metrics stay MAE / RMSE.
 */
import * as tf from '@tensorflow/tfjs';
import {
  LOSS_KINDS,
  LossKind,
  buildBst,
  evaluate,
  evaluatePredictions,
  ratingObjective,
  resolveConfig,
  taskLoss,
} from '../../lib/model';
import { syntheticSamples, tinySizes } from '../../lib/model/testing';
import { ConfigError } from '../../lib/util/errors';
import { tinyConfig, useCpu } from './helpers';

beforeAll(useCpu);

/** The loss and its gradient w.r.t. the predictions of a toy batch. */
function lossAndGrad(
  loss: LossKind,
  pred: number[],
  target: number[],
  huberDelta = 1,
): { value: number; grad: number[] } {
  const c = resolveConfig({ loss, huberDelta });
  return tf.tidy(() => {
    const y = tf.tensor2d(target, [target.length, 1]);
    const p = tf.tensor2d(pred, [pred.length, 1]);
    const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => taskLoss(c, y, q))(p);
    return { value: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
  });
}

test.each(LOSS_KINDS as LossKind[])(
  '%s: a prediction above its target is pushed down, one below is pushed up, an exact one is left alone',
  (loss) => {
    const { grad } = lossAndGrad(loss, [4.5, 2.0, 3.0, 5.0], [3.0, 4.0, 3.0, 1.0]);
    expect(grad[0]).toBeGreaterThan(0); // gradient descent lowers it
    expect(grad[1]).toBeLessThan(0); // raises it
    expect(grad[2]).toBeCloseTo(0, 6);
    expect(grad[3]).toBeGreaterThan(0);
  },
);

test('the objectives differ the way they should: mse grows with e², mae with |e|, huber in between', () => {
  const pred = [4.5, 2.0, 3.0, 5.0],
    target = [3.0, 4.0, 3.0, 1.0];
  const e = pred.map((p, i) => p - target[i]);
  const mean = (f: (x: number) => number) => e.map(f).reduce((a, b) => a + b, 0) / e.length;
  expect(lossAndGrad('mse', pred, target).value).toBeCloseTo(
    mean((x) => x * x),
    5,
  );
  expect(lossAndGrad('mae', pred, target).value).toBeCloseTo(mean(Math.abs), 5);
  expect(lossAndGrad('huber', pred, target).value).toBeCloseTo(
    mean((x) => (Math.abs(x) <= 1 ? (x * x) / 2 : Math.abs(x) - 0.5)),
    5,
  );
  // per-sample gradient: mse 2e/n, mae sign(e)/n: the far-off sample (e = 4) dominates mse but not mae
  const n = e.length;
  expect(lossAndGrad('mse', pred, target).grad[3]).toBeCloseTo((2 * 4) / n, 5);
  expect(lossAndGrad('mae', pred, target).grad[3]).toBeCloseTo(1 / n, 5);
  expect(lossAndGrad('huber', pred, target).grad[3]).toBeCloseTo(1 / n, 5);
});

test('huber = mse/2 near 0 and mae-like far away (slope huberDelta), for several deltas', () => {
  for (const delta of [0.5, 1, 2]) {
    const near = 0.1 * delta,
      far = 20 * delta;
    const mse = lossAndGrad('mse', [3 + near], [3]).value;
    expect(lossAndGrad('huber', [3 + near], [3], delta).value).toBeCloseTo(mse / 2, 6);
    const h = lossAndGrad('huber', [3 + far], [3], delta);
    expect(h.value).toBeCloseTo(delta * (far - delta / 2), 4);
    expect(h.grad[0]).toBeCloseTo(delta, 5); // constant slope, like MAE (scaled by delta)
    expect(lossAndGrad('huber', [3 - far], [3], delta).grad[0]).toBeCloseTo(-delta, 5);
  }
});

test('ratingObjective (numbers) equals taskLoss (tensors) for every loss', () => {
  const pred = [4.5, 2.0, 3.3, 5.0, 0.9],
    target = [3.0, 4.0, 3.0, 1.0, 1.0];
  for (const loss of LOSS_KINDS) {
    const c = resolveConfig({ loss, huberDelta: 0.7 });
    expect(ratingObjective(c, Float32Array.from(pred), Float32Array.from(target))).toBeCloseTo(
      lossAndGrad(loss, pred, target, 0.7).value,
      5,
    );
  }
});

test('evaluate: `loss` is the trained objective, mae / rmse stay the metrics', () => {
  const s = syntheticSamples({ n: 64, seqLen: 5, sizes: tinySizes(), seed: 3 });
  const p = Float32Array.from({ length: 6 }, (_, i) => 1 + i * 0.8),
    y = Float32Array.from([1, 1, 5, 5, 3, 3]);
  const mse = evaluatePredictions(resolveConfig({ loss: 'mse' }), p, y);
  const mae = evaluatePredictions(resolveConfig({ loss: 'mae' }), p, y);
  expect(mse.loss).toBeCloseTo(mse.mse!, 6);
  expect(mae.loss).toBeCloseTo(mae.mae!, 6);
  expect(mae.rmse).toBeCloseTo(mse.rmse!, 6);
  const m = buildBst(tinyConfig({ loss: 'mae' }), tinySizes());
  const r = evaluate(m, [s]);
  expect(r.loss).toBeCloseTo(r.mae!, 5);
  m.net.dispose();
});

test('loss and huberDelta are validated', () => {
  expect(() => resolveConfig({ loss: 'l1' as any })).toThrow(ConfigError);
  expect(() => resolveConfig({ loss: 'l1' as any })).toThrow(/loss="l1".*'mse', 'mae', 'huber'/);
  expect(() => resolveConfig({ huberDelta: 0 })).toThrow(/huberDelta=0/);
  expect(resolveConfig({}).loss).toBe('mse');
});
