import * as tf from '@tensorflow/tfjs';
import { gatherSlicesInto } from '../../lib/kernels';
import { Rng } from '../../lib/util/rng';
import { GlobalState, liveCounts, maxAbsDiff, onBackend, randomFloats, restoreState, saveState } from './helpers';

interface Case {
  xShape: number[];
  idsShape: number[];
  axis: number;
  batchDims: number;
  dtype: 'float32' | 'int32';
}

const CASES: Case[] = [
  { xShape: [37, 5], idsShape: [6, 4], axis: 0, batchDims: 0, dtype: 'float32' }, // embedding lookup
  { xShape: [11], idsShape: [7], axis: 0, batchDims: 0, dtype: 'int32' }, // scalar slices
  { xShape: [3, 9, 2], idsShape: [5], axis: 1, batchDims: 0, dtype: 'float32' }, // middle axis
  { xShape: [4, 6, 3], idsShape: [4, 5], axis: 1, batchDims: 1, dtype: 'float32' }, // batchDims 1
  { xShape: [2, 7], idsShape: [3, 2], axis: -1, batchDims: 0, dtype: 'int32' }, // negative axis
  { xShape: [5, 3], idsShape: [0], axis: 0, batchDims: 0, dtype: 'float32' }, // no indices
];

function makeData(c: Case, seed: number) {
  const rng = new Rng(seed);
  const size = c.xShape.reduce((a, d) => a * d, 1);
  const x = c.dtype === 'int32' ? Int32Array.from({ length: size }, () => rng.int(100)) : randomFloats(rng, size);
  const axisDim = c.xShape[c.axis < 0 ? c.xShape.length + c.axis : c.axis];
  const ids = Int32Array.from({ length: c.idsShape.reduce((a, d) => a * d, 1) }, () => rng.int(axisDim));
  return { x, ids };
}

function run(c: Case, d: ReturnType<typeof makeData>) {
  return tf.tidy(() => {
    const r = tf.gather(tf.tensor(d.x, c.xShape, c.dtype), tf.tensor(d.ids, c.idsShape, 'int32'), c.axis, c.batchDims);
    return { shape: r.shape, dtype: r.dtype, values: Array.from(r.dataSync()) };
  });
}

describe('wasm GatherV2 fix', () => {
  let state: GlobalState;
  beforeAll(async () => {
    state = await saveState();
  });
  afterAll(async () => {
    await restoreState(state);
  });

  test('gatherSlicesInto copies rows', () => {
    const out = new Float32Array(6);
    gatherSlicesInto(
      Float32Array.from([0, 1, 10, 11, 20, 21]),
      [2, 0, 2],
      { batch: 1, outer: 1, dim: 3, slice: 2 },
      out,
    );
    expect(Array.from(out)).toEqual([20, 21, 0, 1, 20, 21]);
  });

  test('equals the cpu kernel for every axis / batchDims / dtype case, without leaks', async () => {
    const cpu = await onBackend('cpu', false, () => CASES.map((c, k) => run(c, makeData(c, k))));
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      CASES.forEach((c, k) => {
        const got = run(c, makeData(c, k));
        expect(got.shape).toEqual(cpu[k].shape);
        expect(got.dtype).toBe(c.dtype);
        expect(maxAbsDiff(got.values, cpu[k].values)).toBe(0);
      });
      expect(liveCounts()).toEqual(before);
    });
  });

  test('out-of-range indices throw as in stock tfjs', async () => {
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      expect(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')))).toThrow(
        /index value 3 is not in \[0, 2\]/,
      );
      expect(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([-1], 'int32')))).toThrow(/not in/);
      expect(liveCounts()).toEqual(before);
    });
  });
});
