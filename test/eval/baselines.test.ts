import {
  BiasedMF,
  GlobalMean,
  RatingData,
  UserItemBias,
  evaluateModel,
  fitBaselines,
  gatherRatings,
  summariseBaselineSeeds,
  tuneOnValidation,
} from '../../lib/eval';
import { ConfigError, TrainingError } from '../../lib/util/errors';
import { makeData, syntheticData } from './fixtures';

const data = (rows: Array<[number, number, number]>): RatingData => ({
  user: Int32Array.from(rows.map((r) => r[0])),
  item: Int32Array.from(rows.map((r) => r[1])),
  rating: Float32Array.from(rows.map((r) => r[2])),
});

/**
 * Hand fixture: user 1 rated item 1 = 5 and item 2 = 3; user 2 rated item 1 = 4. mu = 4, residuals 1, -1, 0.
 * With lambda = 1 the biases solve
 *   3 b_u1 = (1 - b_i1) + (-1 - b_i2)    2 b_u2 = 0 - b_i1
 *   3 b_i1 = (1 - b_u1) + (0 - b_u2)     2 b_i2 = -1 - b_u1
 * whose solution is b_u1 = 1/21, b_u2 = -4/21, b_i1 = 8/21, b_i2 = -11/21.
 */
const hand = data([
  [1, 1, 5],
  [1, 2, 3],
  [2, 1, 4],
]);

describe('gatherRatings', () => {
  test('takes (user, item, rating) at the given positions only', () => {
    const { interactions, split } = makeData([
      [1, 10, 5, 1, 'train'],
      [1, 11, 3, 2, 'val'],
      [2, 10, 4, 1, 'train'],
      [2, 12, 2, 2, 'test'],
    ]);
    const tr = gatherRatings(interactions, split.train);
    expect(Array.from(tr.user)).toEqual([1, 2]);
    expect(Array.from(tr.item)).toEqual([10, 10]);
    expect(Array.from(tr.rating)).toEqual([5, 4]);
    expect(Array.from(gatherRatings(interactions, split.test).item)).toEqual([12]);
    expect(() => gatherRatings(interactions, Int32Array.from([9]))).toThrow(ConfigError);
  });
});

describe('GlobalMean', () => {
  test('predicts (5 + 3 + 4) / 3 = 4 for every pair, known or not', () => {
    const m = new GlobalMean().fit(hand);
    expect(Array.from(m.predict([1, 2, 0, 99], [1, 2, 0, 99]))).toEqual([4, 4, 4, 4]);
    expect(m.params().mean).toBe(4);
  });

  test('predict before fit throws', () => {
    expect(() => new GlobalMean().predict([1], [1])).toThrow(ConfigError);
  });
});

describe('UserItemBias', () => {
  const m = new UserItemBias({ reg: 1, tol: 1e-13, maxIter: 10000 }).fit(hand);

  test('converges to the closed-form ridge solution (see fixture comment)', () => {
    expect(m.userBias(1)).toBeCloseTo(1 / 21, 10);
    expect(m.userBias(2)).toBeCloseTo(-4 / 21, 10);
    expect(m.itemBias(1)).toBeCloseTo(8 / 21, 10);
    expect(m.itemBias(2)).toBeCloseTo(-11 / 21, 10);
  });

  test('plain ALS (relax 1) and over-relaxed sweeps reach the same minimum', () => {
    const plain = new UserItemBias({ reg: 1, tol: 1e-13, maxIter: 10000, relax: 1 }).fit(hand);
    for (const [u, i] of [
      [1, 1],
      [2, 2],
    ]) {
      expect(plain.userBias(u)).toBeCloseTo(m.userBias(u), 10);
      expect(plain.itemBias(i)).toBeCloseTo(m.itemBias(i), 10);
    }
    expect(() => new UserItemBias({ relax: 2 })).toThrow(ConfigError);
  });

  test('predicts mu + b_u + b_i: user 2 on item 2 = 4 - 4/21 - 11/21 = 23/7', () => {
    expect(m.predict([2], [2])[0]).toBeCloseTo(23 / 7, 5);
  });

  test('unknown rule: item 0 or out of range -> mu + b_u; user 0 -> mu + b_i; both -> mu', () => {
    const p = m.predict([2, 2, 0, 0, 7], [0, 50, 1, 0, 2]);
    expect(p[0]).toBeCloseTo(4 - 4 / 21, 5);
    expect(p[1]).toBeCloseTo(4 - 4 / 21, 5);
    expect(p[2]).toBeCloseTo(4 + 8 / 21, 5);
    expect(p[3]).toBe(4);
    expect(p[4]).toBeCloseTo(4 - 11 / 21, 5);
  });

  test('an index in range but never seen in training has bias 0', () => {
    const m2 = new UserItemBias({ reg: 1 }).fit(
      data([
        [1, 3, 5],
        [2, 3, 1],
        [2, 1, 3],
      ]),
    );
    expect(m2.itemBias(2)).toBe(0); // item 2 is inside 0..3 but has no training rating
  });

  test('larger lambda shrinks biases toward 0', () => {
    const big = new UserItemBias({ reg: 100, tol: 1e-13, maxIter: 10000 }).fit(hand);
    expect(Math.abs(big.itemBias(1))).toBeLessThan(Math.abs(m.itemBias(1)));
    expect(Math.abs(big.itemBias(1))).toBeLessThan(0.02);
  });

  test('predictions are clipped to the training rating range', () => {
    // reg 0 fits the three ratings exactly: mu = 10/3, s11 = 5/3, s22 = 2/3, s12 = -7/3, so
    // s21 = s11 + s22 - s12 = 14/3 and the raw prediction for (2, 1) is 24/3 = 8 -> clipped to max = 5.
    const m0 = new UserItemBias({ reg: 0, tol: 1e-13, maxIter: 100000 }).fit(
      data([
        [1, 1, 5],
        [2, 2, 4],
        [1, 2, 1],
      ]),
    );
    expect(m0.predict([1], [2])[0]).toBeCloseTo(1, 4);
    expect(m0.predict([2], [1])[0]).toBe(5);
    expect(m0.userBias(2) + m0.itemBias(1)).toBeCloseTo(14 / 3, 4);
  });

  test('bad options throw ConfigError', () => {
    expect(() => new UserItemBias({ reg: -1 })).toThrow(ConfigError);
    expect(() => new UserItemBias().fit(data([]))).toThrow(/no training ratings/);
  });
});

describe('BiasedMF', () => {
  test('one SGD epoch traced by hand (factors start at 0, data order, lr 0.1, reg 0.5)', () => {
    // mu = 4. Rating (1,1,5): e = 1 -> b_u1 = 0.1, b_i1 = 0.1.
    // Rating (1,2,3): pred = 4.1, e = -1.1 -> b_u1 = 0.1 + 0.1 (-1.1 - 0.5 * 0.1) = -0.015, b_i2 = -0.11.
    // Factors stay 0 (their gradients are e * 0 - reg * 0).
    const m = new BiasedMF({ factors: 3, initStd: 0, shuffle: false, lr: 0.1, reg: 0.5, epochs: 1 }).fit(
      data([
        [1, 1, 5],
        [1, 2, 3],
      ]),
    );
    const p = m.predict([1, 1], [1, 2]);
    expect(p[0]).toBeCloseTo(4 - 0.015 + 0.1, 6);
    expect(p[1]).toBeCloseTo(4 - 0.015 - 0.11, 6);
  });

  const { interactions, split } = syntheticData({ numUsers: 40, numItems: 30, perUser: 20, k: 3, seed: 3 });
  const train = gatherRatings(interactions, split.train);
  const val = gatherRatings(interactions, split.val);
  const testData = gatherRatings(interactions, split.test);
  const opts = { factors: 4, reg: 0.05, lr: 0.05, epochs: 30 };

  test('shuffleBlock 1 (a full per-rating shuffle) learns as well as the default blocks', () => {
    const full = evaluateModel(new BiasedMF({ ...opts, seed: 1, shuffleBlock: 1 }).fit(train), testData).rmse!;
    const blocks = evaluateModel(new BiasedMF({ ...opts, seed: 1, shuffleBlock: 16 }).fit(train), testData).rmse!;
    expect(Math.abs(full - blocks)).toBeLessThan(0.1 * full);
  });

  test('same seed -> identical predictions; another seed -> different ones', () => {
    const a = new BiasedMF({ ...opts, seed: 1 }).fit(train).predict(testData.user, testData.item);
    const b = new BiasedMF({ ...opts, seed: 1 }).fit(train).predict(testData.user, testData.item);
    const c = new BiasedMF({ ...opts, seed: 2 }).fit(train).predict(testData.user, testData.item);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  test('learns the rank-1 interaction that biases cannot express', () => {
    const mf = new BiasedMF({ ...opts, seed: 1 }).fit(train, { val });
    const bias = new UserItemBias({ reg: 2 }).fit(train);
    const mfRmse = evaluateModel(mf, testData).rmse!;
    const biasRmse = evaluateModel(bias, testData).rmse!;
    expect(mfRmse).toBeLessThan(0.75 * biasRmse);
    expect(biasRmse).toBeGreaterThan(1); // the fixture's interaction term (+-1.5) is invisible to biases
  });

  test('early stopping keeps the best validation epoch', () => {
    const mf = new BiasedMF({ ...opts, epochs: 60, patience: 2, seed: 1 }).fit(train, { val });
    const p = mf.params();
    expect(p.epochs).toBeGreaterThanOrEqual(1);
    expect(p.epochs).toBeLessThanOrEqual(60);
    expect(evaluateModel(mf, val).rmse).toBeCloseTo(p.valRmse, 5);
  });

  test('unknown items (index 0, or never trained) fall back to mu + b_u', () => {
    // item 3 is trained, item 2 is inside the range but never rated in training; mu = 11/3
    const mf = new BiasedMF({ factors: 2, seed: 4, epochs: 5 }).fit(
      data([
        [1, 3, 5],
        [2, 3, 2],
        [1, 1, 4],
      ]),
    );
    const [p0, p2, pOut, p3] = Array.from(mf.predict([1, 1, 1, 1], [0, 2, 99, 3]));
    expect(mf.itemBias(2)).toBe(0);
    expect(p0).toBeCloseTo(11 / 3 + mf.userBias(1), 6);
    expect(p2).toBe(p0);
    expect(pOut).toBe(p0);
    expect(p3).not.toBeCloseTo(p0, 3);
    // unknown user 0 on trained item 3 -> mu + b_i3
    expect(mf.predict([0], [3])[0]).toBeCloseTo(11 / 3 + mf.itemBias(3), 6);
  });

  test('bad options throw ConfigError', () => {
    expect(() => new BiasedMF({ factors: 1.5 })).toThrow(ConfigError);
    expect(() => new BiasedMF({ lr: 0 })).toThrow(ConfigError);
    expect(() => new BiasedMF({ epochs: 0 })).toThrow(ConfigError);
    expect(() => new BiasedMF({ shuffleBlock: 0 })).toThrow(ConfigError);
  });

  test('a learning rate that diverges throws TrainingError', () => {
    expect(() => new BiasedMF({ ...opts, lr: 50, epochs: 20 }).fit(train)).toThrow(TrainingError);
  });
});

describe('hyperparameters are chosen on validation only', () => {
  const fixture = () => syntheticData({ numUsers: 30, numItems: 25, perUser: 16, k: 2, seed: 11 });
  const grid = { biasReg: [0.5, 5, 50], mfFactors: [2, 4], mfReg: [0.02, 0.2] };
  const mf = { epochs: 15, lr: 0.05 };

  test('tuneOnValidation picks the grid point with the lowest validation RMSE', () => {
    const { interactions, split } = fixture();
    const train = gatherRatings(interactions, split.train);
    const val = gatherRatings(interactions, split.val);
    const regs = [0, 0.5, 5, 50, 500];
    const tuned = tuneOnValidation({
      grid: regs.map((reg) => ({ reg })),
      make: (p) => new UserItemBias(p),
      train,
      val,
    });
    const valRmse = regs.map((reg) => evaluateModel(new UserItemBias({ reg }).fit(train), val).rmse!);
    expect(tuned.params.reg).toBe(regs[valRmse.indexOf(Math.min(...valRmse))]);
    expect(tuned.trials.map((t) => t.val.rmse)).toEqual(valRmse);
  });

  test('changing test ratings changes test metrics but neither the chosen params nor validation metrics', () => {
    const a = fixture();
    const b = fixture();
    for (const p of b.split.test) b.interactions.rating[p] = 6 - b.interactions.rating[p];
    const ra = fitBaselines({ ...a, seed: 5, grid, mf });
    const rb = fitBaselines({ ...b, seed: 5, grid, mf });
    expect(ra.map((r) => r.name)).toEqual(['global-mean', 'user-item-bias', 'biased-mf', 'history-blend', 'item-knn']);
    for (let j = 0; j < ra.length; j++) {
      expect(rb[j].params).toEqual(ra[j].params);
      expect(rb[j].val).toEqual(ra[j].val);
      expect(rb[j].test.rmse!).not.toBeCloseTo(ra[j].test.rmse!, 3);
    }
  });

  test('changing validation ratings can change the chosen params', () => {
    // validation ratings set to the training mean favour the largest lambda (biases shrunk to 0);
    // set to the reg-0.5 model's own predictions they favour the smallest.
    const { interactions, split } = fixture();
    const train = gatherRatings(interactions, split.train);
    const mu = train.rating.reduce((s, r) => s + r, 0) / train.rating.length;
    const flat = fixture();
    for (const p of flat.split.val) flat.interactions.rating[p] = mu;
    const fitted = fixture();
    const small = new UserItemBias({ reg: 0.5 }).fit(train);
    const valData = gatherRatings(fitted.interactions, fitted.split.val);
    const own = small.predict(valData.user, valData.item);
    fitted.split.val.forEach((p, j) => (fitted.interactions.rating[p] = own[j]));
    const pick = (d: ReturnType<typeof fixture>) => fitBaselines({ ...d, grid, mf })[1].params.reg;
    expect(pick(flat)).toBe(50);
    expect(pick(fitted)).toBe(0.5);
  });

  test('baselines are fitted on the training targets only', () => {
    // Moving every validation and test rating leaves the global mean (a training statistic) unchanged.
    const a = fixture();
    const b = fixture();
    for (const p of [...b.split.val, ...b.split.test]) b.interactions.rating[p] = 1;
    const ma = fitBaselines({ ...a, grid, mf })[0].params.mean;
    const mb = fitBaselines({ ...b, grid, mf })[0].params.mean;
    const tr = gatherRatings(a.interactions, a.split.train).rating;
    expect(ma).toBe(mb);
    expect(ma).toBeCloseTo(tr.reduce((s, r) => s + r, 0) / tr.length, 10);
  });
});

describe('summariseBaselineSeeds', () => {
  test('mean and sample std of each metric over seeds; the global mean does not vary with the seed', () => {
    const d = syntheticData({ numUsers: 20, numItems: 15, perUser: 10, k: 2, seed: 2 });
    const grid = { biasReg: [2], mfFactors: [2], mfReg: [0.05] };
    const runs = [1, 2, 3].map((seed) => fitBaselines({ ...d, seed, grid, mf: { epochs: 10, lr: 0.05 } }));
    const s = summariseBaselineSeeds(runs);
    expect(s.map((x) => x.name)).toEqual(['global-mean', 'user-item-bias', 'biased-mf', 'history-blend', 'item-knn']);
    expect(s[0].test.rmse.std).toBe(0);
    expect(s[0].test.rmse.mean).toBeCloseTo(runs[0][0].test.rmse!, 12);
    const mfRmse = runs.map((r) => r[2].test.rmse!);
    const mean = mfRmse.reduce((a, b) => a + b, 0) / 3;
    expect(s[2].test.rmse.mean).toBeCloseTo(mean, 12);
    expect(s[2].test.rmse.std).toBeGreaterThan(0); // MF depends on its seed
    expect(s[2].seeds).toBe(3);
    expect(() => summariseBaselineSeeds([runs[0], runs[1].slice(1)])).toThrow(/run 1/);
  });
});
