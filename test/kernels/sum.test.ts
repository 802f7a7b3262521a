import * as tf from '@tensorflow/tfjs';
import { leadingAxesCount } from '../../lib/kernels';
import { Rng } from '../../lib/util/rng';
import { GlobalState, liveCounts, maxAbsDiff, onBackend, randomFloats, restoreState, saveState } from './helpers';

/** A list of named computations; each returns [shape, dtype, values] so backends can be compared. */
function computations(): { name: string; run: () => tf.Tensor }[] {
  const rng = new Rng(3);
  const f = (shape: number[]) =>
    tf.tensor(
      randomFloats(
        rng,
        shape.reduce((a, d) => a * d, 1),
      ),
      shape,
    );
  const i32 = (shape: number[]) =>
    tf.tensor(
      Int32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rng.int(7) - 3),
      shape,
      'int32',
    );
  const a = f([13, 7]);
  const a3 = f([5, 3, 4]);
  const ia = i32([6, 5]);
  const list: { name: string; run: () => tf.Tensor }[] = [];
  for (const [axis, keep] of [
    [0, false],
    [0, true],
    [[0, 1], false],
    [[1, 0], true],
    [-3, false],
    [1, false],
    [2, false],
    [[0, 2], false],
    [[0, 1, 2], false],
  ] as [number | number[], boolean][]) {
    list.push({ name: `sum axis ${JSON.stringify(axis)} keepDims ${keep}`, run: () => tf.sum(a3, axis, keep) });
  }
  list.push({ name: 'sum int32 axis 0 (stock path)', run: () => tf.sum(ia, 0) });
  list.push({ name: 'sum [0, 7] axis 0', run: () => tf.sum(tf.zeros([0, 7]), 0) });
  list.push({
    name: 'bias gradient',
    run: () => tf.grad((bias: tf.Tensor) => tf.sum(tf.square(tf.add(a, bias))))(f([7])),
  });
  return list;
}

function runAll() {
  return tf.tidy(() =>
    computations().map((c) => {
      const r = c.run();
      return { name: c.name, shape: r.shape, dtype: r.dtype, values: Array.from(r.dataSync()) };
    }),
  );
}

describe('wasm Sum over leading axes fix', () => {
  let state: GlobalState;
  beforeAll(async () => {
    state = await saveState();
  });
  afterAll(async () => {
    await restoreState(state);
  });

  test('leadingAxesCount', () => {
    expect(leadingAxesCount(0, [4, 3])).toBe(1);
    expect(leadingAxesCount([1, 0], [4, 3, 2])).toBe(2);
    expect(leadingAxesCount(-2, [4, 3])).toBe(1);
    expect(leadingAxesCount(1, [4, 3])).toBe(-1);
    expect(leadingAxesCount([0, 1], [4, 3])).toBe(-1); // full reduction: stock kernel
    expect(leadingAxesCount([0, 2], [4, 3, 2])).toBe(-1);
  });

  test('equal the cpu backend (values, shapes, dtypes), without leaks', async () => {
    const cpu = await onBackend('cpu', false, runAll);
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      const wasm = runAll();
      wasm.forEach((w, k) => {
        expect([w.name, w.shape, w.dtype]).toEqual([cpu[k].name, cpu[k].shape, cpu[k].dtype]);
        expect([w.name, maxAbsDiff(w.values, cpu[k].values) <= 1e-5]).toEqual([w.name, true]);
      });
      expect(liveCounts()).toEqual(before);
    });
  });
});
