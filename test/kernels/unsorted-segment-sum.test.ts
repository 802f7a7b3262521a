import * as tf from '@tensorflow/tfjs';
import { KernelError, segmentSumInto, segmentSumOutputShape } from '../../lib/kernels';
import { Rng } from '../../lib/util/rng';
import { GlobalState, liveCounts, maxAbsDiff, onBackend, randomFloats, restoreState, saveState } from './helpers';

/** Plain reference: walk every element of x by its coordinates (independent of segmentSumInto's index arithmetic). */
function reference(
  x: ArrayLike<number>,
  xShape: number[],
  ids: ArrayLike<number>,
  idsShape: number[],
  numSegments: number,
): number[] {
  const k = idsShape.length;
  const outShape = [numSegments, ...xShape.slice(k)];
  const out = new Array(outShape.reduce((a, d) => a * d, 1)).fill(0);
  const strides = (s: number[]) => s.map((_, i) => s.slice(i + 1).reduce((a, d) => a * d, 1));
  const xs = strides(xShape);
  const is = strides(idsShape);
  const os = strides(outShape);
  for (let p = 0; p < x.length; p++) {
    const coord = xs.map((st, i) => Math.floor(p / st) % xShape[i]);
    const id = ids[coord.slice(0, idsShape.length).reduce((a, c, i) => a + c * is[i], 0)];
    if (id < 0 || id >= numSegments) continue;
    const o = id * os[0] + coord.slice(k).reduce((a, c, i) => a + c * os[i + 1], 0);
    out[o] += x[p];
  }
  return out;
}

interface Case {
  xShape: number[];
  idsRank: number;
  numSegments: number;
  dtype: 'float32' | 'int32';
}

const CASES: Case[] = [
  { xShape: [1], idsRank: 1, numSegments: 1, dtype: 'float32' },
  { xShape: [7], idsRank: 1, numSegments: 5, dtype: 'float32' },
  { xShape: [13, 3], idsRank: 1, numSegments: 11, dtype: 'float32' },
  { xShape: [9, 5, 2], idsRank: 1, numSegments: 4, dtype: 'float32' },
  { xShape: [17, 7], idsRank: 1, numSegments: 23, dtype: 'int32' },
  { xShape: [6, 3, 5], idsRank: 2, numSegments: 6, dtype: 'float32' },
  { xShape: [5, 4], idsRank: 2, numSegments: 3, dtype: 'int32' },
  { xShape: [0, 3], idsRank: 1, numSegments: 4, dtype: 'float32' },
  { xShape: [4, 3], idsRank: 1, numSegments: 0, dtype: 'float32' },
];

/** Data for a case: ids include negatives and ids >= numSegments (both dropped by tf). */
function makeData(c: Case, seed: number) {
  const rng = new Rng(seed);
  const size = c.xShape.reduce((a, d) => a * d, 1);
  const x = c.dtype === 'int32' ? Int32Array.from({ length: size }, () => rng.int(21) - 10) : randomFloats(rng, size);
  const idsShape = c.xShape.slice(0, c.idsRank);
  const ids = Int32Array.from({ length: idsShape.reduce((a, d) => a * d, 1) }, () => rng.int(c.numSegments + 4) - 2);
  return { x, ids, idsShape };
}

/** Run tf.unsortedSegmentSum on the active backend and read the result back. */
function run(c: Case, d: ReturnType<typeof makeData>): { shape: number[]; values: number[] } {
  return tf.tidy(() => {
    const ids: tf.Tensor = tf.tensor(d.ids, d.idsShape, 'int32'); // [n] or [n, m]: rank-2 ids are tested too
    const r = tf.unsortedSegmentSum(tf.tensor(d.x, c.xShape, c.dtype), ids as tf.Tensor1D, c.numSegments);
    return { shape: r.shape, values: Array.from(r.dataSync()) };
  });
}

describe('UnsortedSegmentSum fixes', () => {
  let state: GlobalState;
  beforeAll(async () => {
    state = await saveState();
  });
  afterAll(async () => {
    await restoreState(state);
  });

  test('segmentSumInto matches the coordinate-walking reference', () => {
    CASES.forEach((c, k) => {
      const d = makeData(c, 100 + k);
      const outShape = segmentSumOutputShape(c.xShape, d.idsShape, c.numSegments);
      const out = new Float64Array(outShape.reduce((a, s) => a * s, 1));
      segmentSumInto(d.x, d.ids, c.numSegments, out);
      expect(maxAbsDiff(out, reference(d.x, c.xShape, d.ids, d.idsShape, c.numSegments))).toBeLessThan(1e-9);
    });
  });

  test('drops negative and out-of-range ids', () => {
    const out = new Float64Array(3 * 2);
    segmentSumInto([1, 2, 3, 4, 5, 6, 7, 8], [-1, 2, 3, 2], 3, out);
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 3 + 7, 4 + 8]);
  });

  test.each(['cpu', 'wasm'])(
    'fixed %s kernel equals the stock cpu kernel and the JS reference',
    async (backendName) => {
      // Reference first, with the stock cpu kernel (fixes removed). It fails on rank-2 ids and on numSegments 0.
      const stockOk = (c: Case) => c.idsRank === 1 && c.numSegments > 0;
      const stock = await onBackend('cpu', false, () =>
        CASES.map((c, k) => (stockOk(c) ? run(c, makeData(c, 200 + k)) : undefined)),
      );
      await onBackend(backendName, true, () => {
        const before = liveCounts();
        CASES.forEach((c, k) => {
          const d = makeData(c, 200 + k);
          const got = run(c, d);
          expect(got.shape).toEqual([c.numSegments, ...c.xShape.slice(c.idsRank)]);
          const tol = c.dtype === 'int32' ? 0 : 1e-5;
          const s = stock[k];
          if (s) expect(maxAbsDiff(got.values, s.values)).toBeLessThanOrEqual(tol);
          expect(
            maxAbsDiff(got.values, reference(d.x, c.xShape, d.ids, d.idsShape, c.numSegments)),
          ).toBeLessThanOrEqual(tol);
        });
        expect(liveCounts()).toEqual(before);
      });
    },
  );

  test('int32 input keeps its dtype', async () => {
    for (const b of ['cpu', 'wasm']) {
      await onBackend(b, true, () => {
        const r = tf.tidy(() =>
          tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2),
        );
        expect(r.dtype).toBe('int32');
        expect(Array.from(r.dataSync())).toEqual([3, 3]);
        r.dispose();
      });
    }
  });

  test('stock wasm has no kernel; the fix provides one', async () => {
    await onBackend('wasm', false, () => {
      expect(() => tf.tidy(() => tf.unsortedSegmentSum(tf.ones([2, 2]), tf.tensor1d([0, 1], 'int32'), 2))).toThrow(
        /not registered/,
      );
    });
    await onBackend('wasm', true, () => {
      const r = tf.tidy(() => tf.unsortedSegmentSum(tf.ones([2, 2]), tf.tensor1d([0, 1], 'int32'), 2));
      expect(Array.from(r.dataSync())).toEqual([1, 1, 1, 1]);
      r.dispose();
    });
  });

  test('segmentIds whose shape is not a prefix of x raise KernelError', () => {
    expect(() => segmentSumOutputShape([4, 3], [3], 2)).toThrow(KernelError);
    expect(() => segmentSumOutputShape([4, 3], [4, 2], 2)).toThrow(/\[4,2\].*\[4,3\]/);
    expect(() => segmentSumOutputShape([4, 3], [4], -1)).toThrow(KernelError);
  });
});
