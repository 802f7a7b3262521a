import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens, prepareData } from '../../lib/data';
import {
  evaluateModel,
  fitBaselines,
  gatherRatings,
  HistoryBlend,
  ItemKnn,
  ItemSimilarity,
  tuneOnValidation,
  UserItemBias,
} from '../../lib/eval';
import { ConfigError } from '../../lib/util/errors';
import { makeData, syntheticData } from './fixtures';

/**
 * Blend fixture: the training ratings of baselines.test.ts's hand fixture (mu = 4; with lambda = 1,
 * b_u1 = 1/21, b_u2 = -4/21, b_i1 = 8/21, b_i2 = -11/21), plus one validation target per user.
 */
const blendFixture = () =>
  makeData([
    [1, 1, 5, 1, 'train'],
    [1, 2, 3, 2, 'train'],
    [1, 3, 4, 3, 'val'], // item 3 never in training: b_i = 0
    [2, 1, 4, 1, 'train'],
    [2, 2, 2, 2, 'val'],
  ]);

describe('HistoryBlend', () => {
  const { interactions, split } = blendFixture();
  const train = gatherRatings(interactions, split.train);
  const val = gatherRatings(interactions, split.val);

  test('(1 - w) bias + w * mean of the visible history, whole history or the last `window` ratings', () => {
    const whole = new HistoryBlend({ interactions, weight: 0.5, window: 0, reg: 1 }).fit(train);
    // user 1, item 3: bias 4 + 1/21, history [5, 3] -> mean 4; user 2, item 2: bias 4 - 4/21 - 11/21, history [4]
    const p = whole.predict(val.user, val.item, val.position);
    expect(p[0]).toBeCloseTo(0.5 * (4 + 1 / 21) + 0.5 * 4, 5);
    expect(p[1]).toBeCloseTo(0.5 * (4 - 15 / 21) + 0.5 * 4, 5);
    const last1 = new HistoryBlend({ interactions, weight: 0.5, window: 1, reg: 1 }).fit(train);
    expect(last1.predict(val.user, val.item, val.position)[0]).toBeCloseTo(0.5 * (4 + 1 / 21) + 0.5 * 3, 5);
    expect(evaluateModel(last1, val).mae).toBeCloseTo(
      (Math.abs(0.5 * (4 + 1 / 21) + 1.5 - 4) + Math.abs(4 - 15 / 42 - 2)) / 2,
      5,
    );
  });

  test('w = 0 is the bias model; an empty history falls back to it', () => {
    const bias = new UserItemBias({ reg: 1 }).fit(train);
    const blend = new HistoryBlend({ interactions, weight: 0, reg: 1 }).fit(train);
    expect(Array.from(blend.predict(val.user, val.item, val.position))).toEqual(
      Array.from(bias.predict(val.user, val.item)),
    );
    const first = gatherRatings(interactions, Int32Array.from([0])); // user 1's first rating: no history
    const w = new HistoryBlend({ interactions, weight: 0.9, reg: 1 }).fit(train);
    expect(w.predict(first.user, first.item, first.position)[0]).toBeCloseTo(bias.predict([1], [1])[0], 6);
  });

  test('positions are required and must match the (user, item) pairs', () => {
    const m = new HistoryBlend({ interactions, reg: 1 }).fit(train);
    expect(() => m.predict(val.user, val.item)).toThrow(/positions are required/);
    expect(() => m.predict(val.user, val.item, [4, 4])).toThrow(/position 4 holds/);
    expect(() => new HistoryBlend({ interactions, weight: 1.5 })).toThrow(ConfigError);
  });
});

/**
 * KNN fixture: ratings with mean 3 and lambda = 1e9 (biases ~ 0), so the residuals are r - 3:
 *   user 1: items 1..4 = 5, 4, 4, 1 (e = 2, 1, 1, -2); user 2: 1, 2, 3, 5 (e = -2, -1, 0, 2);
 *   user 3: items 1..3 = 4, 2, 2 (e = 1, -1, -1); user 4: item 1 = 5, item 4 = 1 (train), then item 2 = 4 (val),
 *   item 3 = 5 (test).
 * Pearson-baseline over co-raters: s_12 = 3 / sqrt(9 * 3), s_13 = 1 / sqrt(9 * 2), s_23 = 2 / sqrt(3 * 2),
 * s_14 = s_24 = -1, s_34 = -2 / sqrt(8); 3 co-raters each for 1-2, 1-3, 2-3.
 */
const knnFixture = () =>
  makeData([
    [1, 1, 5, 1, 'train'],
    [1, 2, 4, 2, 'train'],
    [1, 3, 4, 3, 'train'],
    [1, 4, 1, 4, 'train'],
    [2, 1, 1, 1, 'train'],
    [2, 2, 2, 2, 'train'],
    [2, 3, 3, 3, 'train'],
    [2, 4, 5, 4, 'train'],
    [3, 1, 4, 1, 'train'],
    [3, 2, 2, 2, 'train'],
    [3, 3, 2, 3, 'train'],
    [4, 1, 5, 1, 'train'],
    [4, 4, 1, 2, 'train'],
    [4, 2, 4, 3, 'val'],
    [4, 3, 5, 4, 'test'],
  ]);

describe('ItemKnn', () => {
  const { interactions, split } = knnFixture();
  const train = gatherRatings(interactions, split.train);
  const val = gatherRatings(interactions, split.val);
  const tst = gatherRatings(interactions, split.test);
  const reg = 1e9;

  test('similarities: shrunk Pearson-baseline over co-raters of the training ratings', () => {
    const sim = new ItemSimilarity(train, new UserItemBias({ reg }).fit(train));
    expect(sim.similarity(1, 2, 0)).toBeCloseTo(3 / Math.sqrt(27), 6);
    expect(sim.similarity(2, 1, 0)).toBeCloseTo(3 / Math.sqrt(27), 6);
    expect(sim.similarity(1, 3, 0)).toBeCloseTo(1 / Math.sqrt(18), 6);
    expect(sim.similarity(2, 3, 0)).toBeCloseTo(2 / Math.sqrt(6), 6);
    expect(sim.similarity(1, 4, 0)).toBeCloseTo(-1, 6);
    expect(sim.similarity(3, 4, 0)).toBeCloseTo(-2 / Math.sqrt(8), 6);
    expect(sim.similarity(2, 3, 1)).toBeCloseTo((2 / Math.sqrt(6)) * (3 / 4), 6);
    expect(sim.coRaters(1, 4)).toBe(3);
    expect(sim.similarity(1, 1, 0)).toBe(0);
    expect(sim.similarity(0, 1, 0)).toBe(0);
  });

  test('predictions: b_ui + weighted residuals of the k most similar positive history items', () => {
    // test target (user 4, item 3): history items 1 (e = 2), 4 (e = -2, s < 0, never a neighbour), 2 (the val rating, e = 1)
    const s13 = 1 / Math.sqrt(18);
    const s23 = 2 / Math.sqrt(6);
    const k2 = new ItemKnn({ interactions, k: 2, shrink: 0, reg }).fit(train);
    expect(k2.predict(tst.user, tst.item, tst.position)[0]).toBeCloseTo(3 + (s13 * 2 + s23 * 1) / (s13 + s23), 5);
    const k1 = new ItemKnn({ interactions, k: 1, shrink: 0, reg }).fit(train);
    expect(k1.predict(tst.user, tst.item, tst.position)[0]).toBeCloseTo(3 + 1, 5); // item 2 only
    // val target (user 4, item 2): one positive neighbour, item 1 (e = 2)
    expect(k2.predict(val.user, val.item, val.position)[0]).toBeCloseTo(5, 5);
    // shrinkage with equal co-rater counts scales every weight alike: same prediction
    const shrunk = new ItemKnn({ interactions, k: 2, shrink: 10, reg }).fit(train);
    expect(shrunk.predict(tst.user, tst.item, tst.position)[0]).toBeCloseTo(3 + (s13 * 2 + s23) / (s13 + s23), 5);
  });

  test('the similarities never read validation or test ratings', () => {
    const other = knnFixture();
    for (const p of [...other.split.val, ...other.split.test]) other.interactions.rating[p] = 1;
    const a = new ItemSimilarity(train, new UserItemBias({ reg }).fit(train));
    const otherTrain = gatherRatings(other.interactions, other.split.train);
    const b = new ItemSimilarity(otherTrain, new UserItemBias({ reg }).fit(otherTrain));
    for (let i = 1; i <= 4; i++) for (let j = 1; j <= 4; j++) expect(b.similarity(i, j, 5)).toBe(a.similarity(i, j, 5));
  });

  test('too many items for the dense tables: a ConfigError naming the count', () => {
    expect(() => new ItemSimilarity(train, new UserItemBias().fit(train), { maxItems: 3 })).toThrow(
      /5 items exceed maxItems 3/,
    );
  });
});

describe('fitBaselines includes the history-aware baselines, chosen on validation only', () => {
  const fixture = () => syntheticData({ numUsers: 30, numItems: 25, perUser: 16, k: 2, seed: 11 });
  const grid = {
    biasReg: [0.5, 5],
    mfFactors: [2],
    mfReg: [0.05],
    blendWeight: [0, 0.3, 0.6],
    knnK: [5, 20],
    knnShrink: [1, 50],
  };
  const mf = { epochs: 5, lr: 0.05 };

  test('perturbing test ratings changes neither the chosen params nor validation metrics', () => {
    const a = fixture();
    const b = fixture();
    for (const p of b.split.test) b.interactions.rating[p] = 6 - b.interactions.rating[p];
    const ra = fitBaselines({ ...a, seed: 5, grid, mf, seqLen: 4 });
    const rb = fitBaselines({ ...b, seed: 5, grid, mf, seqLen: 4 });
    expect(ra.map((r) => r.name)).toEqual(['global-mean', 'user-item-bias', 'biased-mf', 'history-blend', 'item-knn']);
    for (const j of [3, 4]) {
      expect(rb[j].params).toEqual(ra[j].params);
      expect(rb[j].val).toEqual(ra[j].val);
      expect(rb[j].test.rmse!).not.toBeCloseTo(ra[j].test.rmse!, 3);
    }
    // the blend tries the BST's window (seqLen - 1) and the whole history
    expect(new Set(ra[3].trials.map((t) => t.params.window))).toEqual(new Set([3, 0]));
    expect(ra[4].trials.length).toBe(4);
  });

  test('item-knn is left out above knnMaxItems', () => {
    const r = fitBaselines({ ...fixture(), grid, mf, knnMaxItems: 10 });
    expect(r.map((x) => x.name)).toEqual(['global-mean', 'user-item-bias', 'biased-mf', 'history-blend']);
  });
});

const DIR =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? path.join(process.env.BST_DATA_DIR, 'ml-100k')
    : path.resolve(__dirname, '../../../shared/data/ml-100k');

describe('real ml-100k, leave-last-5', () => {
  test('both beat the plain bias model on validation', () => {
    const p = prepareData({ dataset: loadMovieLens({ dir: DIR }), seqLen: 8, k: 5 });
    const train = gatherRatings(p.interactions, p.split.train);
    const val = gatherRatings(p.interactions, p.split.val);
    const interactions = p.interactions;
    const bias = tuneOnValidation({
      grid: [2, 5, 10].map((reg) => ({ reg })),
      make: (q) => new UserItemBias(q),
      train,
      val,
    });
    const base = bias.model as UserItemBias;
    const blend = tuneOnValidation({
      grid: [0, 0.25].map((weight) => ({ weight, window: 7 })),
      make: (q) => new HistoryBlend({ ...q, interactions, base }),
      train,
      val,
    });
    const knn = tuneOnValidation({
      grid: [{ k: 40, shrink: 100 }],
      make: (q) => new ItemKnn({ ...q, interactions, base }),
      train,
      val,
    });
    expect(blend.params.weight).toBe(0.25);
    expect(blend.val.rmse!).toBeLessThan(bias.val.rmse! - 0.005);
    expect(blend.val.mae!).toBeLessThan(bias.val.mae!);
    expect(knn.val.rmse!).toBeLessThan(bias.val.rmse! - 0.02);
    expect(knn.val.mae!).toBeLessThan(bias.val.mae! - 0.02);
  });
});
