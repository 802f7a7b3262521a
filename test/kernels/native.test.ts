/**
 * bst-lab's own C kernels (lib/kernels/native) against tfjs's cpu backend as the plain reference: random
 * shapes including odd sizes (SIMD tails), every transpose flag, broadcasting, forward and gradient.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { denseLeakyRelu, dropoutRef, fusedAttention, fusedDropout, seedHash } from '../../lib/kernels/fused';
import {
  FusedAdamOptimizer,
  fusedLayerNorm,
  installKernelFixes,
  instantiateNative,
  nativeFor,
  relaxedSimdSupported,
  installNativeKernels,
  nativeUnavailableReason,
  uninstallKernelFixes,
  uninstallNativeKernels,
} from '../../lib/kernels';
import { broadcastLayerNorm as layerNorm, attentionProbs } from '../../lib/model/layers/ops';
import { checkObjectSymbols } from '../../scripts/build-kernels';
import { Rng } from '../../lib/util/rng';
import { GlobalState, liveCounts, maxAbsDiff, randomFloats, restoreState, saveState } from './helpers';

const TOL = 2e-5; // float32: the C sums in a different order than the reference
let state: GlobalState;
const rng = new Rng(11);
const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
const rand = (shape: number[]) => ({ shape, data: randomFloats(rng, size(shape)) });

/** Run fn on the cpu backend (stock kernels) and on wasm with the native kernels; return both outputs' data. */
async function both(fn: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const run = async (b: string) => {
    await tf.setBackend(b);
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    const data = list.map((t) => t.dataSync() as Float32Array);
    tf.dispose(list);
    return data;
  };
  uninstallNativeKernels('cpu'); // cpu: tfjs's own ops are the reference
  const cpu = await run('cpu');
  installNativeKernels('wasm');
  const wasm = await run('wasm');
  return { cpu, wasm };
}

function expectClose(r: { cpu: Float32Array[]; wasm: Float32Array[] }, tol = TOL): void {
  expect(r.wasm.length).toBe(r.cpu.length);
  for (let i = 0; i < r.cpu.length; i++) {
    const scale = Math.max(1, ...Array.from(r.cpu[i]).map(Math.abs));
    expect(maxAbsDiff(r.cpu[i], r.wasm[i]) / scale).toBeLessThan(tol);
  }
}

beforeAll(async () => {
  state = await saveState();
  await tf.setBackend('wasm');
  installKernelFixes('wasm');
});
afterAll(async () => {
  uninstallNativeKernels('wasm');
  uninstallNativeKernels('cpu');
  await restoreState(state);
});

describe('native kernels: availability', () => {
  it('are available for the pinned tfjs-backend-wasm and replace the kernels they cover', async () => {
    expect(nativeUnavailableReason()).toBe('');
    await tf.setBackend('wasm');
    const names = installNativeKernels('wasm');
    expect(names).toEqual(
      expect.arrayContaining([
        'native:BatchMatMul',
        'native:_FusedMatMul',
        'native:Sum',
        'fused:BstLayerNorm',
        'fused:BstAdam',
      ]),
    );
    expect(installNativeKernels('wasm')).toEqual(names); // idempotent
    const removed = uninstallNativeKernels('wasm');
    expect(removed).toEqual(names);
    expect((tf.getKernel('BatchMatMul', 'wasm') as unknown as { bstFix?: string }).bstFix).toBe(
      'wasm:BatchMatMul-transpose',
    );
    installNativeKernels('wasm');
    uninstallKernelFixes('wasm'); // removing the fixes removes what sits on top of them
    expect((tf.getKernel('BatchMatMul', 'wasm') as unknown as { bstNative?: string }).bstNative).toBeUndefined();
    installKernelFixes('wasm');
  });
});

describe('native kernels: a backend whose memory they cannot use', () => {
  it('is refused with a clear error (installNativeKernels then keeps the stock kernels)', () => {
    expect(() => nativeFor({ wasm: { asm: {} } })).toThrow(/does not expose its memory/);
    const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => object } }).WebAssembly;
    const shared = new WA.Memory({ initial: 1, maximum: 4, shared: true }); // a threaded build's memory
    expect(() => nativeFor({ wasm: { asm: { memory: shared } } })).toThrow(/memory/i);
  });
});

describe('native kernels: plain and relaxed-SIMD builds', () => {
  it('give the same matmul within float32 tolerance (relaxed multiply-add only changes rounding)', async () => {
    await tf.setBackend('wasm');
    if (!relaxedSimdSupported()) return; // runtime without relaxed SIMD: only the plain build runs anyway
    const M = 37,
      K = 45,
      N = 29;
    const a = tf.tensor2d(rand([M, K]).data, [M, K]);
    const b = tf.tensor2d(rand([K, N]).data, [K, N]);
    const outs = [false, true].map((relaxed) => {
      const nk = instantiateNative(tf.backend(), relaxed);
      const c = tf.zeros([M, N]);
      nk.k.bst_matmul(
        nk.ptr(c),
        nk.ptr(a),
        nk.ptr(b),
        M,
        K,
        N,
        0,
        0,
        nk.scratch(nk.k.bst_matmul_scratch(K, N)),
        0,
        0,
        0,
      );
      const v = c.dataSync() as Float32Array;
      c.dispose();
      return v;
    });
    const ref = tf.tidy(() => tf.matMul(a, b).dataSync() as Float32Array);
    expect(maxAbsDiff(outs[0], ref)).toBeLessThan(1e-4);
    expect(maxAbsDiff(outs[1], ref)).toBeLessThan(1e-4);
    tf.dispose([a, b]);
  });
});

describe('native kernels: forward values equal the cpu reference', () => {
  const mmShapes: [number[], number[]][] = [
    [
      [7, 5],
      [5, 3],
    ],
    [
      [33, 17],
      [17, 9],
    ],
    [
      [64, 80],
      [80, 19],
    ],
    [
      [3, 9, 13],
      [3, 13, 6],
    ],
    [
      [2, 3, 7, 5],
      [5, 12],
    ],
    [
      [4, 7, 5],
      [1, 5, 3],
    ],
    [
      [6, 5],
      [2, 5, 11],
    ],
    [
      [1, 0],
      [0, 4],
    ],
  ];
  const swapped = (s: number[]) => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
  for (const [as, bs] of mmShapes) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`matMul ${JSON.stringify(as)} x ${JSON.stringify(bs)} transposeA=${ta} transposeB=${tb}`, async () => {
        const a = rand(ta ? swapped(as) : as);
        const b = rand(tb ? swapped(bs) : bs);
        expectClose(await both(() => tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape), ta, tb)));
      });
    }
  }

  // concat and split along every axis, uneven parts, an empty part, and int32 (copied as 4-byte words)
  const parts: [number[][], number][] = [
    [
      [
        [2, 3, 5],
        [2, 3, 3],
      ],
      2,
    ],
    [
      [
        [2, 3, 5],
        [2, 4, 5],
        [2, 1, 5],
      ],
      1,
    ],
    [
      [
        [1, 3, 5],
        [3, 3, 5],
      ],
      0,
    ],
    [
      [
        [4, 7],
        [4, 0],
        [4, 2],
      ],
      -1,
    ],
  ];
  for (const [shapes, axis] of parts) {
    it(`concat and split of ${JSON.stringify(shapes)} along axis ${axis}, float32 and int32`, async () => {
      const xs = shapes.map((sh) => rand(sh));
      const ax = axis < 0 ? shapes[0].length + axis : axis;
      const sizes = shapes.map((sh) => sh[ax]);
      for (const dtype of ['float32', 'int32'] as const) {
        const got = await both(() => {
          const ts = xs.map((x) =>
            tf.tensor(dtype === 'int32' ? x.data.map((v) => Math.round(v * 100)) : x.data, x.shape, dtype),
          );
          const c = tf.concat(ts, axis);
          return [c, ...tf.split(c, sizes, axis)].map((t) => t.toFloat());
        });
        expect(got.wasm.map((a) => Array.from(a))).toEqual(got.cpu.map((a) => Array.from(a))); // copies: exact
      }
    });
  }

  it('multiply by a mask broadcast along the last axis (either operand order) and identity transposes', async () => {
    const x = rand([3, 5, 7]);
    const m = rand([3, 5, 1]);
    const y = rand([4, 6]);
    expectClose(
      await both(() => {
        const xt = tf.tensor(x.data, x.shape),
          mt = tf.tensor(m.data, m.shape);
        return [
          tf.mul(xt, mt),
          tf.mul(mt, xt),
          tf.mul(xt, xt),
          tf.transpose(tf.tensor(y.data, y.shape), [0, 1]),
          tf.transpose(tf.tensor(y.data, y.shape)),
        ];
      }),
    );
  });

  for (const activation of ['linear', 'relu', 'leakyrelu', 'elu'] as const) {
    it(`fused matMul with bias and ${activation}`, async () => {
      const a = rand([37, 21]);
      const b = rand([21, 10]);
      const bias = rand([10]);
      expectClose(
        await both(() =>
          tf.fused.matMul({
            a: tf.tensor2d(a.data, [37, 21]),
            b: tf.tensor2d(b.data, [21, 10]),
            bias: tf.tensor1d(bias.data),
            activation,
            leakyreluAlpha: 0.1,
          }),
        ),
      );
    });
  }

  it('sum over leading, trailing, all and middle axes (keepDims or not)', async () => {
    const x = rand([6, 5, 19]);
    for (const [axis, keep] of [
      [0, false],
      [[0, 1], true],
      [2, false],
      [[1, 2], false],
      [[0, 1, 2], false],
      [1, false],
    ] as [number | number[], boolean][]) {
      expectClose(await both(() => tf.sum(tf.tensor(x.data, x.shape), axis, keep)));
    }
  });

  it('gather rows on axis 0 and 1, and its out-of-range error', async () => {
    const x = rand([9, 4, 7]);
    const idx = [3, 0, 8, 3, 1];
    expectClose(await both(() => tf.gather(tf.tensor(x.data, x.shape), tf.tensor1d(idx, 'int32'), 0)));
    expectClose(await both(() => tf.gather(tf.tensor(x.data, x.shape), tf.tensor1d([2, 3, 0], 'int32'), 1)));
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.tensor(x.data, x.shape), tf.tensor1d([9], 'int32'))).toThrow(
      /index value 9 is not in \[0, 8\]/,
    );
  });

  it('gather stays correct when allocating its output grows the wasm memory (views of the heap detach)', async () => {
    await tf.setBackend('wasm');
    installNativeKernels('wasm');
    const heapBytes = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
    const slice = 1024;
    const n = Math.ceil((heapBytes + 64 * 2 ** 20) / (slice * 4)); // an output larger than the whole heap
    const x = tf.tensor2d(
      Float32Array.from({ length: 4 * slice }, (_, i) => i),
      [4, slice],
    );
    const idx = tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => (i * 7) % 4),
      'int32',
    );
    const out = tf.gather(x, idx);
    expect((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length).toBeGreaterThan(heapBytes); // it grew
    for (const row of [0, 1, n - 1]) {
      const got = out.slice([row, 0], [1, 3]).dataSync();
      const src = ((row * 7) % 4) * slice;
      expect(Array.from(got)).toEqual([src, src + 1, src + 2]);
    }
    tf.dispose([x, idx, out]);
  });

  it('unsorted segment sum drops out-of-range ids', async () => {
    const x = rand([10, 6]);
    const ids = [0, 4, 4, 2, -1, 9, 2, 0, 1, 4];
    expectClose(await both(() => tf.unsortedSegmentSum(tf.tensor(x.data, x.shape), tf.tensor1d(ids, 'int32'), 5)));
  });

  it('leaky relu forward', async () => {
    const x = rand([13, 7]);
    expectClose(await both(() => tf.leakyRelu(tf.tensor(x.data, x.shape), 0.3)));
  });

  it('fused layer norm equals the broadcasting one', async () => {
    const x = rand([5, 3, 13]);
    const g = rand([13]);
    const b = rand([13]);
    const r = await both(() => {
      const [xt, gt, bt] = [tf.tensor(x.data, x.shape), tf.tensor(g.data, g.shape), tf.tensor(b.data, b.shape)];
      return tf.getBackend() === 'cpu' ? layerNorm(xt, gt, bt, 1e-6) : fusedLayerNorm(xt, gt, bt, 1e-6);
    });
    expectClose(r);
  });
});

describe('native kernels: gradients equal the cpu reference', () => {
  it('of matMul (both operands, all transpose flags) and of a dense layer with bias + leaky relu', async () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const a = rand(ta ? [11, 6] : [6, 11]);
      const b = rand(tb ? [9, 11] : [11, 9]);
      expectClose(
        await both(() =>
          tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb))))([
            tf.tensor(a.data, a.shape),
            tf.tensor(b.data, b.shape),
          ]),
        ),
        1e-4,
      );
    }
    const x = rand([14, 10]); // (tfjs has no matMul gradient for a 3D x 2D product; dense layers reshape to 2D)
    const w = rand([10, 5]);
    const bias = rand([5]);
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(tf.square(tf.leakyRelu(tf.add(tf.matMul(xx, ww), bb), 0.2)));
    expectClose(
      await both(() =>
        tf.grads(f)([tf.tensor(x.data, x.shape), tf.tensor(w.data, w.shape), tf.tensor(bias.data, bias.shape)]),
      ),
      1e-4,
    );
  });

  it('of an embedding lookup (gather -> segment sum)', async () => {
    const table = rand([12, 5]);
    const ids = tf.tensor1d([1, 1, 7, 0, 11, 7, 7], 'int32');
    expectClose(
      await both(() =>
        tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, ids))))(tf.tensor(table.data, table.shape)),
      ),
    );
  });

  it("of the fused layer norm (x, gamma, beta) equal the broadcasting layer norm's", async () => {
    const x = rand([4, 6, 9]);
    const g = rand([9]);
    const b = rand([9]);
    const dyw = rand([4, 6, 9]);
    const r = await both(() => {
      const ln = tf.getBackend() === 'cpu' ? layerNorm : fusedLayerNorm;
      const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(tf.mul(ln(xx, gg, bb, 1e-6), tf.tensor(dyw.data, dyw.shape)));
      return tf.grads(f)([tf.tensor(x.data, x.shape), tf.tensor(g.data, g.shape), tf.tensor(b.data, b.shape)]);
    });
    expectClose(r, 1e-4);
  });
});

describe('native kernels: dropout and the fused dense + leaky relu', () => {
  it('dropout: the C mask is bit-identical to the JavaScript reference, drops ~rate, and its gradient is the mask', async () => {
    const x = rand([1001, 3]); // odd size: SIMD body and scalar tail
    const seed = 'block:1:17';
    await tf.setBackend('wasm');
    installNativeKernels('wasm');
    const y = tf.tidy(() => fusedDropout(tf.tensor(x.data, x.shape), 0.25, seed).dataSync() as Float32Array);
    const ref = dropoutRef(x.data, seedHash(seed), 0.25);
    expect(Array.from(y)).toEqual(Array.from(ref));
    const dropped = y.filter((v) => v === 0).length / y.length;
    expect(dropped).toBeGreaterThan(0.22);
    expect(dropped).toBeLessThan(0.28);
    const other = tf.tidy(
      () => fusedDropout(tf.tensor(x.data, x.shape), 0.25, 'block:1:18').dataSync() as Float32Array,
    );
    expect(maxAbsDiff(other, y)).toBeGreaterThan(0); // another step, another mask
    const g = tf.tidy(
      () =>
        tf
          .grad((t: tf.Tensor) => tf.sum(fusedDropout(t, 0.25, seed)))(tf.tensor(x.data, x.shape))
          .dataSync() as Float32Array,
    );
    for (let i = 0; i < g.length; i++) expect(g[i]).toBeCloseTo(y[i] === 0 ? 0 : 1 / 0.75, 5);
  });

  it('dense + leaky relu: value and gradients equal tfjs ops on the cpu backend', async () => {
    const x = rand([19, 7]);
    const w = rand([7, 13]);
    const b = rand([13]);
    const r = await both(() => {
      const f =
        tf.getBackend() === 'cpu'
          ? (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.leakyRelu(tf.add(tf.matMul(xx, ww), bb), 0.2)
          : (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
              denseLeakyRelu(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D, 0.2);
      const args = [tf.tensor(x.data, x.shape), tf.tensor(w.data, w.shape), tf.tensor(b.data, b.shape)];
      const loss = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.square(f(xx, ww, bb)));
      return [f(args[0], args[1], args[2]), ...tf.grads(loss)(args)];
    });
    expectClose(r, 1e-4);
  });
});

describe('native kernels: fused attention', () => {
  /** tfjs-ops attention of projected q, k, v (identity projections through attentionProbs). */
  function opsAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor, H: number): tf.Tensor {
    const [B, L, D] = q.shape;
    const dh = D / H;
    const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, H, dh]), [0, 2, 1, 3]);
    const scores = tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(dh));
    const probs = tf.softmax(tf.add(scores, tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [B, 1, 1, L])));
    return tf.reshape(tf.transpose(tf.matMul(probs, heads(v)), [0, 2, 1, 3]), [B, L, D]);
  }

  // head widths 4, 18 (16 + 2) and 20 (16 + 4), lengths 7, 9 and 4: every vector block and scalar tail of the C kernels
  it.each([
    [3, 7, 12, 3],
    [2, 9, 72, 4],
    [2, 4, 40, 2],
  ])(
    'equals the tfjs-ops formulation, with padded keys, forward and gradient (q, k, v), on wasm and cpu: B=%i L=%i D=%i H=%i',
    async (B, L, D, H) => {
      const q = rand([B, L, D]);
      const k = rand([B, L, D]);
      const v = rand([B, L, D]);
      const w = rand([B, L, D]);
      const m = new Float32Array(B * L).fill(1);
      m[0] = m[1] = m[L + 2] = 0; // left padding and a hole
      for (const backendName of ['wasm', 'cpu']) {
        installNativeKernels(backendName);
        await tf.setBackend(backendName);
        const run = (fused: boolean) =>
          tf.tidy(() => {
            const att = fused ? fusedAttention : opsAttention;
            const mask = tf.tensor(m, [B, L]);
            const args = [q, k, v].map((a) => tf.tensor(a.data, a.shape));
            const loss = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
              tf.sum(tf.mul(att(qq, kk, vv, mask, H), tf.tensor(w.data, w.shape)));
            return [att(args[0], args[1], args[2], mask, H), ...tf.grads(loss)(args)].map(
              (t) => t.dataSync() as Float32Array,
            );
          });
        const ref = run(false);
        const got = run(true);
        for (let i = 0; i < ref.length; i++) expect(maxAbsDiff(ref[i], got[i])).toBeLessThan(1e-5);
      }
      uninstallNativeKernels('cpu');
    },
  );

  it('computes the probabilities attentionProbs reports (padded keys get none)', async () => {
    await tf.setBackend('wasm');
    installNativeKernels('wasm');
    const [B, L, D, H] = [2, 5, 8, 2];
    const x = tf.tensor(rand([B, L, D]).data, [B, L, D]);
    const mask = tf.tensor2d([
      [0, 0, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    const eye = tf.eye(D);
    const zero = tf.zeros([D]);
    const { probs } = attentionProbs(
      x,
      mask,
      { wq: eye, bq: zero, wk: eye, bk: zero, wv: eye, bv: zero, wo: eye, bo: zero },
      H,
    );
    const [ctx, fusedProbs] = tf
      .engine()
      .runKernel('BstAttention', { q: x, k: x, v: x, mask }, { numHeads: H }) as tf.Tensor[];
    const p = fusedProbs.dataSync();
    expect(maxAbsDiff(p, probs.dataSync())).toBeLessThan(1e-6);
    expect(p[0]).toBe(0); // sample 0, head 0, query 0 -> padded key 0
    expect(p[1]).toBe(0);
    expect(p[2]).toBeGreaterThan(0);
    tf.dispose([x, mask, eye, zero, probs, ctx, fusedProbs]);
  });
});

describe('native kernels: training pieces', () => {
  it('FusedAdamOptimizer follows tf.train.adam step for step', async () => {
    const w0 = rand([17, 5]);
    const steps = (opt: tf.Optimizer) => {
      const w = tf.variable(tf.tensor(w0.data, w0.shape));
      for (let i = 0; i < 4; i++) opt.minimize(() => tf.sum(tf.square(tf.sub(w, 0.5))), false, [w]);
      const out = w.clone();
      w.dispose();
      opt.dispose();
      return out;
    };
    await tf.setBackend('cpu');
    uninstallNativeKernels('cpu');
    const ref = steps(tf.train.adam(0.01)).dataSync() as Float32Array;
    installNativeKernels('wasm');
    await tf.setBackend('wasm');
    const fused = steps(new FusedAdamOptimizer(0.01, 0.9, 0.999)).dataSync() as Float32Array;
    expect(maxAbsDiff(ref, fused)).toBeLessThan(1e-6);
    expect(maxAbsDiff(ref, w0.data)).toBeGreaterThan(0.03); // it did move the weights
  });

  it('FusedAdamOptimizer updates in place only when nothing else holds the memory', async () => {
    installNativeKernels('wasm');
    await tf.setBackend('wasm');
    const w0 = rand([9, 7]);
    const w = tf.variable(tf.tensor(w0.data, w0.shape));
    const opt = new FusedAdamOptimizer(0.01, 0.9, 0.999);
    const loss = () => tf.sum(tf.square(tf.sub(w, 0.5))) as tf.Scalar;
    opt.minimize(loss, false, [w]); // creates the slots
    const nk = nativeFor(tf.backend());
    const before = nk.ptr(w as unknown as tf.TensorInfo);
    opt.minimize(loss, false, [w]);
    expect(nk.ptr(w as unknown as tf.TensorInfo)).toBe(before); // sole owner: the same buffer, updated in place
    const held = tf.clone(w); // shares w's buffer (wasm Identity adds a reference)
    const heldValues = (held.dataSync() as Float32Array).slice();
    opt.minimize(loss, false, [w]);
    expect(Array.from(held.dataSync())).toEqual(Array.from(heldValues)); // the clone kept its values
    expect(maxAbsDiff(w.dataSync() as Float32Array, heldValues)).toBeGreaterThan(0); // w moved to a new buffer
    tf.dispose([w, held]);
    opt.dispose();
  });

  it('FusedAdamOptimizer.applyPacked averages two gradient vectors exactly as the float32 sum, on wasm and cpu', async () => {
    const shapes = [[5, 3], [7]];
    const total = 22;
    const ga = rand([total]).data,
      gb = rand([total]).data;
    const wa = 5 / 9,
      wb = 4 / 9;
    const f = Math.fround;
    const sum = new Float32Array(total).map((_, j) => f(f(ga[j] * f(wa)) + f(gb[j] * f(wb))));
    for (const backendName of ['wasm', 'cpu']) {
      installNativeKernels(backendName);
      await tf.setBackend(backendName);
      const init = shapes.map((sh) => rand(sh));
      const run = (packed: boolean, asTensors = false) => {
        const vars = init.map((w) => tf.variable(tf.tensor(w.data, w.shape)));
        const opt = new FusedAdamOptimizer(0.01, 0.9, 0.999);
        // the first source as one tensor per variable (a rank's own gradients, read where they are)
        const own = asTensors ? [tf.tensor(ga.subarray(0, 15), [5, 3]), tf.tensor(ga.subarray(15), [7])] : undefined;
        for (let step = 0; step < 3; step++) {
          if (packed)
            opt.applyPacked(
              vars.map((v) => v.name),
              [0, 15],
              [true, true],
              [own ?? ga, gb],
              [wa, wb],
            );
          else
            tf.tidy(() =>
              opt.applyGradients({
                [vars[0].name]: tf.tensor(sum.subarray(0, 15), [5, 3]),
                [vars[1].name]: tf.tensor(sum.subarray(15), [7]),
              } as unknown as Parameters<FusedAdamOptimizer['applyGradients']>[0]),
            );
        }
        const out = vars.map((v) => (v.dataSync() as Float32Array).slice());
        tf.dispose(vars);
        if (own) tf.dispose(own);
        opt.dispose();
        return out;
      };
      const [a, b, c] = [run(true), run(false), run(true, true)];
      // the same float32 gradient into the same Adam kernel: bit-identical
      a.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(b[i])));
      c.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(b[i])));
      expect(maxAbsDiff(a[0], init[0].data)).toBeGreaterThan(0.01);
    }
    uninstallNativeKernels('cpu');
  });

  it('leak no tensors or wasm buffers across repeated training steps', async () => {
    await tf.setBackend('wasm');
    installNativeKernels('wasm');
    const w = tf.variable(tf.tensor(rand([10, 8]).data, [10, 8]));
    const g = tf.variable(tf.ones([8]));
    const e = tf.variable(tf.tensor(rand([20, 10]).data, [20, 10]));
    const ids = tf.tensor1d([1, 5, 5, 19], 'int32');
    const opt = new FusedAdamOptimizer(0.01, 0.9, 0.999);
    const step = () =>
      opt.minimize(
        () => tf.sum(fusedLayerNorm(tf.leakyRelu(tf.matMul(tf.gather(e, ids), w), 0.2), g, tf.zerosLike(g), 1e-6)),
        false,
        [w, g, e],
      );
    step();
    const before = liveCounts();
    for (let i = 0; i < 5; i++) step();
    expect(liveCounts()).toEqual(before);
    tf.dispose([w, g, e, ids]);
    opt.dispose();
  });
});

describe('build checks (scripts/build-kernels.ts)', () => {
  it('accept functions only and name static data, stack use and libc calls', () => {
    expect(checkObjectSymbols('00000001 T bst_copy\n00000011 t helper\n')).toEqual([]);
    const p = checkObjectSymbols(
      '00000001 T bst_copy\n         U __stack_pointer\n         U memcpy\n00000000 D table\n00000004 R consts\n',
    );
    expect(p).toEqual([
      'code that uses the stack (__stack_pointer)',
      'a call to memcpy (no libc here)',
      'static data table (symbol type D)',
      'static data consts (symbol type R)',
    ]);
  });
});
