import {
  ItemScorer,
  evaluateRanking,
  hitRateAtK,
  lastTestPositions,
  mixSeed,
  ndcgAtK,
  popularityScorer,
  popularityScores,
  rankAgainst,
  rankOfPositive,
  rankingMetrics,
  sampleNegatives,
  userRatedItems,
} from '../../lib/eval';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { makeData } from './fixtures';

describe('HR@k and NDCG@k of one held-out item', () => {
  test('NDCG = 1 / log2(rank + 1) inside the top k, else 0', () => {
    expect(ndcgAtK(1, 10)).toBe(1);
    expect(ndcgAtK(2, 10)).toBeCloseTo(1 / Math.log2(3), 12); // 0.6309
    expect(ndcgAtK(3, 10)).toBeCloseTo(0.5, 12);
    expect(ndcgAtK(7, 10)).toBeCloseTo(1 / 3, 12);
    expect(ndcgAtK(10, 10)).toBeCloseTo(1 / Math.log2(11), 12);
    expect(ndcgAtK(11, 10)).toBe(0);
    expect(ndcgAtK(Infinity, 10)).toBe(0);
  });

  test('HR = [rank <= k]', () => {
    expect(hitRateAtK(10, 10)).toBe(1);
    expect(hitRateAtK(11, 10)).toBe(0);
    expect(hitRateAtK(1, 1)).toBe(1);
  });

  test('invalid rank or k throws', () => {
    expect(() => ndcgAtK(0, 10)).toThrow(ConfigError);
    expect(() => hitRateAtK(1, 0)).toThrow(ConfigError);
  });

  test('means over users: ranks [1, 3, 11] at k = 10', () => {
    expect(rankingMetrics([1, 3, 11], 10)).toEqual({ n: 3, k: 10, hitRate: 2 / 3, ndcg: (1 + 0.5 + 0) / 3 });
    expect(() => rankingMetrics([], 10)).toThrow(ConfigError);
  });
});

describe('rank of the positive (ties count against it)', () => {
  test('a tie ranks above the positive', () => {
    // positive .5 at index 0; .9 is above, the other .5 ties and counts above too -> rank 3
    expect(rankOfPositive([0.5, 0.9, 0.5, 0.1], 0)).toBe(3);
    expect(rankOfPositive([0.5, 0.9, 0.4, 0.1], 0)).toBe(2);
    expect(rankAgainst(0.5, [0.9, 0.5, 0.1])).toBe(3);
  });

  test('constant scores give the worst rank, never a lucky one', () => {
    expect(rankOfPositive([1, 1, 1, 1, 1], 2)).toBe(5);
    expect(rankAgainst(0, new Float32Array(100))).toBe(101);
  });

  test('excluded indices are not candidates (duplicates counted once)', () => {
    expect(rankOfPositive([0.5, 0.9, 0.5, 0.1], 0, [1])).toBe(2);
    expect(rankOfPositive([0.5, 0.9, 0.5, 0.1], 0, [1, 2, 1, 3])).toBe(1);
    expect(() => rankOfPositive([0.5, 0.9], 0, [0])).toThrow(/positive/);
  });

  test('NaN scores and a bad positive index throw', () => {
    expect(() => rankOfPositive([0.5, NaN], 0)).toThrow(ConfigError);
    expect(() => rankOfPositive([0.5], 1)).toThrow(ConfigError);
    expect(() => rankAgainst(NaN, [1])).toThrow(ConfigError);
  });
});

describe('sampleNegatives', () => {
  const exclude = [3, 5, 5, 7];

  test('distinct, in 1..numItems-1, never item 0 or an excluded item', () => {
    const neg = sampleNegatives({ rng: new Rng(1), numItems: 50, exclude, count: 20 });
    expect(neg.length).toBe(20);
    expect(new Set(neg).size).toBe(20);
    for (const i of neg) {
      expect(i).toBeGreaterThanOrEqual(1);
      expect(i).toBeLessThan(50);
      expect(exclude).not.toContain(i);
    }
  });

  test('seeded: same seed same negatives, another seed others', () => {
    const a = sampleNegatives({ rng: new Rng(1), numItems: 1000, exclude, count: 100 });
    const b = sampleNegatives({ rng: new Rng(1), numItems: 1000, exclude, count: 100 });
    const c = sampleNegatives({ rng: new Rng(2), numItems: 1000, exclude, count: 100 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  test('dense case: asking for every unrated item returns exactly that set', () => {
    const neg = sampleNegatives({ rng: new Rng(3), numItems: 11, exclude: [2, 4, 6, 8, 10], count: 5 });
    expect(Array.from(neg).sort((x, y) => x - y)).toEqual([1, 3, 5, 7, 9]);
    expect(() => sampleNegatives({ rng: new Rng(3), numItems: 11, exclude: [2, 4, 6, 8, 10], count: 6 })).toThrow(
      /only 5 of 10/,
    );
    const upTo = sampleNegatives({ rng: new Rng(3), numItems: 11, exclude: [2, 4, 6, 8, 10], count: 6, upTo: true });
    expect(Array.from(upTo).sort((x, y) => x - y)).toEqual([1, 3, 5, 7, 9]);
  });

  test('uniform over the allowed items', () => {
    const rng = new Rng(9);
    const counts = new Array(21).fill(0);
    for (let t = 0; t < 4000; t++)
      for (const i of sampleNegatives({ rng, numItems: 21, exclude: [1], count: 1 })) counts[i]++;
    expect(counts[0]).toBe(0);
    expect(counts[1]).toBe(0);
    // 19 allowed items, 4000 draws: expected 210.5 each, sd ~14
    for (let i = 2; i <= 20; i++) expect(Math.abs(counts[i] - 4000 / 19)).toBeLessThan(70);
  });

  test('mixSeed separates streams', () => {
    expect(mixSeed(0, 1)).not.toBe(mixSeed(0, 2));
    expect(mixSeed(1, 1)).not.toBe(mixSeed(0, 1));
    expect(mixSeed(5, 7)).toBe(mixSeed(5, 7));
  });
});

/**
 * Items 1..6. Train: u1 {1, 2}, u2 {1, 3}, u3 {1, 2, 3, 4} -> popularity 1:3, 2:2, 3:2, 4:1, 5:0, 6:0.
 * Held-out last items: u1 -> 3, u2 -> 4, u3 -> 5 (u3's earlier test item 6 is not the last one).
 */
function rankingFixture() {
  return makeData([
    [1, 1, 5, 1, 'train'],
    [1, 2, 4, 2, 'train'],
    [1, 3, 4, 3, 'test'],
    [2, 1, 3, 1, 'train'],
    [2, 3, 5, 2, 'train'],
    [2, 4, 2, 3, 'test'],
    [3, 1, 4, 1, 'train'],
    [3, 2, 4, 2, 'train'],
    [3, 3, 4, 3, 'train'],
    [3, 4, 4, 4, 'train'],
    [3, 6, 4, 5, 'test'],
    [3, 5, 4, 6, 'test'],
  ]);
}

describe('popularity baseline and evaluateRanking', () => {
  const { interactions, split } = rankingFixture();
  const numItems = 7;
  const pop = popularityScores({ interactions, positions: split.train, numItems });

  test('popularity counts training ratings only; item 0 scores -Infinity', () => {
    expect(Array.from(pop)).toEqual([-Infinity, 3, 2, 2, 1, 0, 0]);
  });

  test('held-out last item per user and the user rated set', () => {
    const last = lastTestPositions(interactions, split);
    expect(Array.from(last).map((p) => interactions.item[p])).toEqual([3, 4, 5]);
    expect(Array.from(userRatedItems(interactions, 3))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('full catalogue by hand: ranks [1, 2, 1]', () => {
    // u1: target 3 (2) vs unrated {4 (1), 5 (0), 6 (0)} -> 1
    // u2: target 4 (1) vs unrated {2 (2), 5 (0), 6 (0)} -> 2
    // u3: target 5 (0) vs unrated {} -> 1 (item 6, rated by u3 and tied at 0, is excluded)
    const r = evaluateRanking({ interactions, split, numItems, scorer: popularityScorer(pop), mode: 'full', k: 10 });
    expect(Array.from(r.ranks)).toEqual([1, 2, 1]);
    expect(r.hitRate).toBe(1);
    expect(r.ndcg).toBeCloseTo((2 + 1 / Math.log2(3)) / 3, 12);
    expect(r.negatives).toBeCloseTo((3 + 3 + 0) / 3, 12);
    const r1 = evaluateRanking({ interactions, split, numItems, scorer: popularityScorer(pop), mode: 'full', k: 1 });
    expect(r1.hitRate).toBeCloseTo(2 / 3, 12);
  });

  test('sampled: negatives are unrated items, the scorer sees the target first', () => {
    const seen: Array<[number, number[]]> = [];
    const spy: ItemScorer = (u, items) => {
      seen.push([u, Array.from(items)]);
      return popularityScorer(pop)(u, items);
    };
    const two = makeData([
      [1, 1, 5, 1, 'train'],
      [1, 3, 4, 3, 'test'],
      [2, 1, 3, 1, 'train'],
      [2, 4, 2, 3, 'test'],
    ]);
    evaluateRanking({ ...two, numItems, scorer: spy, mode: 'sampled', numNegatives: 3, seed: 4 });
    expect(seen.map((s) => s[0])).toEqual([1, 2]);
    expect(seen[0][1][0]).toBe(3);
    for (const [u, items] of seen) {
      expect(items.length).toBe(4);
      const rated = u === 1 ? [1, 3] : [1, 4];
      expect(new Set(items).size).toBe(4);
      for (const i of items.slice(1)) {
        expect(rated).not.toContain(i);
        expect(i).toBeGreaterThan(0);
        expect(i).toBeLessThan(numItems);
      }
    }
    // seeded and per user: the same call again gives the same candidates
    const again: number[][] = [];
    evaluateRanking({
      ...two,
      numItems,
      scorer: (u, items) => (again.push(Array.from(items)), new Float32Array(items.length)),
      mode: 'sampled',
      numNegatives: 3,
      seed: 4,
    });
    expect(again).toEqual(seen.map((s) => s[1]));
  });

  test('constant scores rank last; too few unrated items for the sample throws', () => {
    const flat: ItemScorer = (_u, items) => new Float32Array(items.length);
    const r = evaluateRanking({ interactions, split, numItems, scorer: flat, mode: 'full' });
    expect(Array.from(r.ranks)).toEqual([4, 4, 1]);
    expect(() =>
      evaluateRanking({ interactions, split, numItems, scorer: flat, mode: 'sampled', numNegatives: 2 }),
    ).toThrow(ConfigError);
  });

  test('an unknown held-out item (index 0) counts as a miss', () => {
    const d = makeData([
      [1, 1, 5, 1, 'train'],
      [1, 0, 4, 2, 'test'],
      [2, 1, 3, 1, 'train'],
      [2, 2, 2, 2, 'test'],
    ]);
    const p = popularityScores({ interactions: d.interactions, positions: d.split.train, numItems: 3 });
    const r = evaluateRanking({ ...d, numItems: 3, scorer: popularityScorer(p), mode: 'full' });
    expect(r.unknownTargets).toBe(1);
    expect(Array.from(r.ranks)).toEqual([Infinity, 1]);
    expect(r.hitRate).toBe(0.5);
  });
});
