import * as tf from '@tensorflow/tfjs';
import { canFoldBatch, makeTransposingMatMul, shouldMaterialiseTranspose } from '../../lib/kernels';
import { Rng } from '../../lib/util/rng';
import { GlobalState, liveCounts, maxAbsDiff, onBackend, randomFloats, restoreState, saveState } from './helpers';

/** Operand shapes [aShape, bShape] before transposition: a is [..., M, K], b is [..., K, N]. */
const SHAPES: [number[], number[]][] = [
  [
    [7, 5],
    [5, 3],
  ], // plain 2D, odd sizes
  [
    [1, 9, 4],
    [1, 4, 6],
  ], // rank 3, batch 1
  [
    [3, 7, 5],
    [3, 5, 2],
  ], // batched
  [
    [2, 3, 7, 5],
    [5, 4],
  ], // rank-2 b broadcast over a's batch -> [2, 3, 7, 4]
  [
    [4, 7, 5],
    [1, 5, 3],
  ], // batch 1 broadcast over batch 4 (folded)
  [
    [1, 2, 7, 5],
    [1, 1, 5, 3],
  ], // rank-4 fold with unit dims
  [
    [3, 7, 5],
    [1, 1, 5, 3],
  ], // b of higher rank with unit batch dims -> [1, 3, 7, 3]
  [
    [6, 5],
    [2, 5, 3],
  ], // rank-2 a broadcast over b's batch
  // (tfjs 4.22 itself mis-handles two different batch sizes > 1, e.g. [2,1,7,5] x [3,5,4], on every backend)
  [
    [33, 17],
    [17, 9],
  ], // larger than one SIMD tile
];
const FLAGS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** Swap the last two dims of a shape (the stored layout of an operand used with a transpose flag). */
const swapped = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];

/** Data for each (shape, flags) case: operands stored pre-transposed when their flag is set. */
function cases() {
  const rng = new Rng(7);
  const out: { a: Float32Array; b: Float32Array; aShape: number[]; bShape: number[]; ta: boolean; tb: boolean }[] = [];
  for (const [a, b] of SHAPES) {
    for (const [ta, tb] of FLAGS) {
      const aShape = ta ? swapped(a) : a;
      const bShape = tb ? swapped(b) : b;
      const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
      out.push({ a: randomFloats(rng, size(aShape)), b: randomFloats(rng, size(bShape)), aShape, bShape, ta, tb });
    }
  }
  return out;
}

describe('wasm matmul transpose fix', () => {
  let state: GlobalState;
  beforeAll(async () => {
    state = await saveState();
  });
  afterAll(async () => {
    await restoreState(state);
  });

  test('canFoldBatch: batched a times non-batched b', () => {
    expect(canFoldBatch([4, 7, 5], [5, 3])).toBe(true);
    expect(canFoldBatch([4, 7, 5], [1, 5, 3])).toBe(true);
    expect(canFoldBatch([4, 7, 5], [4, 5, 3])).toBe(false);
    expect(canFoldBatch([7, 5], [4, 5, 3])).toBe(false);
    expect(canFoldBatch([1, 7, 5], [5, 3])).toBe(false);
  });

  test('shouldMaterialiseTranspose: only non-batched products with a transpose flag', () => {
    expect(shouldMaterialiseTranspose([64, 8], [64, 8], true, false)).toBe(true);
    expect(shouldMaterialiseTranspose([1, 64, 8], [1, 8, 64], false, true)).toBe(true);
    expect(shouldMaterialiseTranspose([64, 8], [8, 64], false, false)).toBe(false);
    expect(shouldMaterialiseTranspose([4, 64, 8], [4, 8, 64], false, true)).toBe(false);
    expect(shouldMaterialiseTranspose([64, 8], [4, 8, 64], false, true)).toBe(false);
  });

  test('the wrapper transposes flagged operands, clears the flags and frees its temporaries', () => {
    const calls: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap }[] = [];
    const freed: object[] = [];
    const original: tf.KernelFunc = ({ inputs, attrs }) => {
      calls.push({ inputs, attrs: attrs! });
      return { dataId: {}, shape: [1], dtype: 'float32' };
    };
    const transpose: tf.KernelFunc = ({ inputs, attrs }) => {
      const x = inputs.x as tf.TensorInfo;
      const perm = (attrs as { perm: number[] }).perm;
      return { dataId: { from: x.dataId }, shape: perm.map((p) => x.shape[p]), dtype: x.dtype };
    };
    const backend = { disposeData: (id: object) => freed.push(id) };
    const fn = makeTransposingMatMul(original, transpose);
    const a = { dataId: { a: 1 }, shape: [1, 5, 7], dtype: 'float32' as const };
    const b = { dataId: { b: 1 }, shape: [1, 5, 3], dtype: 'float32' as const };
    const bias = { dataId: { c: 1 }, shape: [3], dtype: 'float32' as const };
    fn({ inputs: { a, b, bias }, backend, attrs: { transposeA: true, transposeB: false, activation: 'relu' } });
    expect(calls[0].attrs).toEqual({ transposeA: false, transposeB: false, activation: 'relu' });
    expect((calls[0].inputs.a as tf.TensorInfo).shape).toEqual([1, 7, 5]);
    expect(calls[0].inputs.b).toBe(b);
    expect(calls[0].inputs.bias).toBe(bias);
    expect(freed).toEqual([(calls[0].inputs.a as tf.TensorInfo).dataId]);
    // Batched a times non-batched b: folded into one [1, batch*M, K] x [1, K, N] product.
    const af = { ...a, shape: [4, 2, 5, 7] };
    const out = fn({ inputs: { a: af, b }, backend, attrs: { transposeA: false, transposeB: true } }) as tf.TensorInfo;
    expect((calls[1].inputs.a as tf.TensorInfo).shape).toEqual([1, 40, 7]);
    expect((calls[1].inputs.a as tf.TensorInfo).dataId).toBe(af.dataId);
    expect((calls[1].inputs.b as tf.TensorInfo).shape).toEqual([1, 3, 5]);
    expect(calls[1].attrs).toEqual({ transposeA: false, transposeB: false });
    expect(out.shape).toEqual([4, 2, 5, 5]);
    calls.length = 1;
    // Both batched: passed through untouched.
    const a3 = { ...a, shape: [2, 5, 7] };
    const b3 = { ...b, shape: [2, 5, 3] };
    fn({ inputs: { a: a3, b: b3 }, backend, attrs: { transposeA: true, transposeB: false } });
    expect(calls[1].inputs.a).toBe(a3);
    expect(calls[1].attrs).toEqual({ transposeA: true, transposeB: false });
  });

  test('every transpose combination and batch broadcast on wasm equals cpu', async () => {
    const data = cases();
    const run = () =>
      data.map((c) =>
        tf.tidy(() => tf.matMul(tf.tensor(c.a, c.aShape), tf.tensor(c.b, c.bShape), c.ta, c.tb).arraySync()),
      );
    const cpu = await onBackend('cpu', false, run);
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      const wasm = run();
      data.forEach((c, k) => {
        expect(tf.util.flatten(wasm[k] as number[]).length).toBe(tf.util.flatten(cpu[k] as number[]).length);
        expect(maxAbsDiff(tf.util.flatten(wasm[k] as number[]), tf.util.flatten(cpu[k] as number[]))).toBeLessThan(
          1e-4,
        );
      });
      expect(liveCounts()).toEqual(before);
    });
  });

  test('fused matmul (bias + relu) with transposes on wasm equals cpu (the stock wasm kernel does not)', async () => {
    const data = cases();
    const run = () =>
      data.map((c) =>
        tf.tidy(() => {
          const n = c.tb ? c.bShape[c.bShape.length - 2] : c.bShape[c.bShape.length - 1];
          const bias = tf.linspace(-0.5, 0.5, n);
          return tf.fused
            .matMul({
              a: tf.tensor(c.a, c.aShape),
              b: tf.tensor(c.b, c.bShape),
              transposeA: c.ta,
              transposeB: c.tb,
              bias,
              activation: 'relu',
            })
            .arraySync();
        }),
      );
    const cpu = await onBackend('cpu', false, run);
    const stock = await onBackend('wasm', false, run);
    const worst = Math.max(
      ...data.map((_, k) => maxAbsDiff(tf.util.flatten(stock[k] as number[]), tf.util.flatten(cpu[k] as number[]))),
    );
    expect(worst).toBeGreaterThan(1e-2); // the upstream bias bug this fix also corrects
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      const wasm = run();
      data.forEach((c, k) => {
        const d = maxAbsDiff(tf.util.flatten(wasm[k] as number[]), tf.util.flatten(cpu[k] as number[]));
        if (d > 1e-4) console.log(c.aShape, c.bShape, c.ta, c.tb, d);
        expect(d).toBeLessThan(1e-4);
      });
      expect(liveCounts()).toEqual(before);
    });
  });

  test('batched fused matmul with bias equals cpu for every activation', async () => {
    const rng = new Rng(5);
    const a = randomFloats(rng, 3 * 4 * 5);
    const b = randomFloats(rng, 5 * 2);
    const acts = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
    const run = () =>
      acts.map((activation) =>
        tf.tidy(() =>
          Array.from(
            tf.fused
              .matMul({
                a: tf.tensor3d(a, [3, 4, 5]),
                b: tf.tensor2d(b, [5, 2]).mul(3) as tf.Tensor2D,
                bias: tf.tensor1d([-0.5, 0.5]),
                activation,
                preluActivationWeights: activation === 'prelu' ? tf.tensor1d([0.1, 0.3]) : undefined,
                leakyreluAlpha: 0.05,
              })
              .dataSync(),
          ),
        ),
      );
    const cpu = await onBackend('cpu', false, run);
    await onBackend('wasm', true, () => {
      const before = liveCounts();
      run().forEach((got, k) => expect([acts[k], maxAbsDiff(got, cpu[k]) < 1e-5]).toEqual([acts[k], true]));
      expect(liveCounts()).toEqual(before);
    });
  });

  test('dense-layer gradients (transposed matmuls) on wasm equal cpu', async () => {
    const rng = new Rng(11);
    const x = randomFloats(rng, 13 * 6);
    const w = randomFloats(rng, 6 * 5);
    const grads = () =>
      tf.tidy(() => {
        const f = (xt: tf.Tensor, wt: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.matMul({ a: xt as tf.Tensor2D, b: wt as tf.Tensor2D, activation: 'relu' })));
        const [gx, gw] = tf.grads(f)([tf.tensor2d(x, [13, 6]), tf.tensor2d(w, [6, 5])]);
        return [...gx.dataSync(), ...gw.dataSync()];
      });
    const cpu = await onBackend('cpu', false, grads);
    await onBackend('wasm', true, () => expect(maxAbsDiff(grads(), cpu)).toBeLessThan(1e-4));
  });
});
