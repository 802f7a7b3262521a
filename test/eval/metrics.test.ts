import { aucLiked, mae, meanStd, mse, ratingMetrics, rmse, summariseSeeds, within } from '../../lib/model';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';

describe('error metrics computed by hand', () => {
  // errors pred - truth = [-1, 0, 2, 0]
  const pred = Float32Array.from([3, 4, 5, 2]);
  const truth = [4, 4, 3, 2];

  test('MAE = (1 + 0 + 2 + 0) / 4', () => expect(mae(pred, truth)).toBeCloseTo(0.75, 12));
  test('MSE = (1 + 0 + 4 + 0) / 4', () => expect(mse(pred, truth)).toBeCloseTo(1.25, 12));
  test('RMSE = sqrt(MSE), not MSE', () => expect(rmse(pred, truth)).toBeCloseTo(Math.sqrt(1.25), 12));

  test('within 0.5 is inclusive: |.5| yes, |.6| no, |1| no, |0| yes', () => {
    const p = [3.5, 4.6, 2, 1];
    const t = [4, 4, 3, 1];
    expect(within(p, t, 0.5)).toBe(0.5);
    expect(within(p, t)).toBe(0.5); // default tolerance 0.5
    expect(within(p, t, 1)).toBe(1);
    expect(within(p, t, 0)).toBe(0.25);
  });

  test('length mismatch and empty input throw ConfigError naming the lengths', () => {
    expect(() => mae([1, 2], [1])).toThrow(ConfigError);
    expect(() => rmse([1, 2], [1])).toThrow(/length 2 .* length 1/);
    expect(() => within([], [])).toThrow(ConfigError);
    expect(() => aucLiked([], [])).toThrow(ConfigError);
  });
});

describe('aucLiked (liked = rating >= 4)', () => {
  test('ties count one half: pairs (.9>.5) (.9>.1) (.5=.5) (.5>.1) -> 3.5 / 4', () => {
    // liked: ratings 5 and 4 (preds .9, .5); not liked: 2 and 1 (preds .5, .1)
    expect(aucLiked([0.9, 0.5, 0.5, 0.1], [5, 4, 2, 1])).toBeCloseTo(0.875, 12);
  });

  test('perfect, reversed and constant scores', () => {
    const truth = [5, 1, 4, 3, 2];
    expect(aucLiked([9, 1, 8, 3, 2], truth)).toBe(1);
    expect(aucLiked([1, 9, 2, 7, 8], truth)).toBe(0);
    expect(aucLiked([3, 3, 3, 3, 3], truth)).toBe(0.5);
  });

  test('threshold is a parameter: rating 3 becomes liked at threshold 3', () => {
    // threshold 3: liked {5 (.9), 3 (.2)}, not liked {2 (.5), 1 (.1)} -> pairs .9>.5 .9>.1 .2<.5 .2>.1 = 3/4
    expect(aucLiked([0.9, 0.2, 0.5, 0.1], [5, 3, 2, 1], 3)).toBeCloseTo(0.75, 12);
    // default threshold 4: liked {5}, -> .9 beats all three
    expect(aucLiked([0.9, 0.2, 0.5, 0.1], [5, 3, 2, 1])).toBe(1);
  });

  test('NaN when only one class is present', () => {
    expect(aucLiked([1, 2], [5, 4])).toBeNaN();
    expect(aucLiked([1, 2], [1, 2])).toBeNaN();
  });

  test('equals the O(n^2) pairwise definition on random data with many ties', () => {
    const rng = new Rng(7);
    const n = 300;
    const pred = Float32Array.from({ length: n }, () => rng.int(6) / 2); // only 6 distinct values: ties
    const truth = Float32Array.from({ length: n }, () => 1 + rng.int(5));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (truth[i] >= 4 && truth[j] < 4) {
          pairs++;
          wins += pred[i] > pred[j] ? 1 : pred[i] === pred[j] ? 0.5 : 0;
        }
      }
    }
    expect(aucLiked(pred, truth)).toBeCloseTo(wins / pairs, 12);
  });
});

describe('ratingMetrics', () => {
  test('bundles the named metrics', () => {
    const m = ratingMetrics([3, 4, 5, 2], [4, 4, 3, 2]);
    expect(m).toEqual({ n: 4, mae: 0.75, rmse: Math.sqrt(1.25), aucLiked: expect.any(Number), within05: 0.5 });
    // liked: 4 (pred 3), 4 (pred 4); not liked: 3 (pred 5), 2 (pred 2): pairs 3<5, 3>2, 4<5, 4>2 -> 2/4
    expect(m.aucLiked).toBeCloseTo(0.5, 12);
  });
});

describe('meanStd and summariseSeeds', () => {
  test('sample standard deviation divides by n - 1', () => {
    // mean 2.5, squared deviations 2.25 + .25 + .25 + 2.25 = 5, / 3
    const s = meanStd([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.n).toBe(4);
  });

  test('one value: std is NaN; none: ConfigError', () => {
    expect(meanStd([3])).toEqual({ mean: 3, std: NaN, n: 1 });
    expect(() => meanStd([])).toThrow(ConfigError);
  });

  test('summarises every numeric field over seeds', () => {
    const runs = [
      { name: 'a', rmse: 1, mae: 0.5 },
      { name: 'b', rmse: 3, mae: 0.5 },
    ];
    const s = summariseSeeds(runs);
    expect(Object.keys(s).sort()).toEqual(['mae', 'rmse']);
    expect(s.rmse.mean).toBe(2);
    expect(s.rmse.std).toBeCloseTo(Math.SQRT2, 12);
    expect(s.mae).toEqual({ mean: 0.5, std: 0, n: 2 });
    expect(() => summariseSeeds([{ rmse: 1 }, { mae: 1 }])).toThrow(/run 1/);
    expect(() => summariseSeeds([])).toThrow(ConfigError);
  });
});
