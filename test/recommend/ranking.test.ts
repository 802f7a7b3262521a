import { popularityScores } from '../../lib/eval/index';
import { BstModel, buildBst } from '../../lib/model/index';
import {
  bstRankingScorer,
  catalogueCoverage,
  diversityReport,
  evaluateLists,
  evaluateRecommender,
  genreCosine,
  heldOutPositions,
  intraListDiversity,
  mmrRerank,
  popularityRankingScorer,
  popularityShare,
  shortHead,
  topK,
  topKLister,
} from '../../lib/recommend/index';
import { tinyConfig, useCpu } from '../model/helpers';
import { tinyData } from './fixtures';

beforeAll(useCpu);

const { data } = tinyData(5);
const movieOf = (i: number) => data.vocabs.item.value(i)!;
/** score = movieId / 100, except Heat (10) scores 0.4 and ties with Babe (40). */
const handScorer = (_u: number, items: Int32Array) =>
  Float32Array.from(items, (i) => (movieOf(i) === 10 ? 0.4 : movieOf(i) / 100));

describe('ranking metrics on the tiny fixture, computed by hand', () => {
  // full ranking: each user rated 6 of 9 movies, so the held-out movie meets the 3 unrated ones:
  //   user 1: Toy Story .3 vs Babe .4, Clueless .8, Rare .9 -> rank 4
  //   user 2: Ronin .2 vs Casablanca .5, Alien .6, Fargo .7  -> rank 4
  //   user 3: Clueless .8 vs Ronin .2, Toy Story .3, Rare .9 -> rank 2
  //   user 4: Babe .4 vs Heat .4 (tie: counts above), Casablanca .5, Clueless .8 -> rank 4
  const expected3 = { hitRate: 1 / 4, ndcg: 1 / Math.log2(3) / 4 };
  const expected10 = { hitRate: 1, ndcg: (3 / Math.log2(5) + 1 / Math.log2(3)) / 4 };

  test('evaluateRecommender (lib/eval protocol), k = 3 and k = 10', () => {
    const r3 = evaluateRecommender({ data, scorer: handScorer, mode: 'full', k: 3 });
    expect(Array.from(r3.ranks)).toEqual([4, 4, 2, 4]);
    expect(r3.hitRate).toBeCloseTo(expected3.hitRate, 12);
    expect(r3.ndcg).toBeCloseTo(expected3.ndcg, 12); // 0.157732
    const r10 = evaluateRecommender({ data, scorer: handScorer, mode: 'full', k: 10 });
    expect(r10.hitRate).toBe(1);
    expect(r10.ndcg).toBeCloseTo(expected10.ndcg, 12); // 0.480740
  });

  test('list evaluation gives the same numbers (pessimistic ties included) and the lists themselves', () => {
    const [r] = evaluateLists({ data, scorer: handScorer, mode: 'full', k: 3, listers: { top: topKLister } });
    expect(r.hitRate).toBeCloseTo(expected3.hitRate, 12);
    expect(r.ndcg).toBeCloseTo(expected3.ndcg, 12);
    expect(r.lists.map((l) => Array.from(l, movieOf))).toEqual([
      [90, 80, 40],
      [70, 60, 50],
      [90, 80, 30],
      [80, 50, 10],
    ]);
    // user 4's list: Heat (tie with the held-out Babe) ranks above it, so Babe is out of the top 3
  });

  test('sampled mode: the lists agree with evaluateRecommender on the same seeded negatives', () => {
    for (const seed of [0, 1, 2]) {
      const a = evaluateRecommender({ data, scorer: handScorer, mode: 'sampled', numNegatives: 2, k: 2, seed });
      const [b] = evaluateLists({
        data,
        scorer: handScorer,
        mode: 'sampled',
        numNegatives: 2,
        k: 2,
        seed,
        listers: { top: topKLister },
      });
      expect(b.hitRate).toBeCloseTo(a.hitRate, 12);
      expect(b.ndcg).toBeCloseTo(a.ndcg, 12);
    }
  });

  test('popularity baseline: training counts on the same protocol', () => {
    const pop = popularityScores({
      interactions: data.interactions,
      positions: data.split.train,
      numItems: data.sizes.numItems,
    });
    const r = evaluateRecommender({ data, scorer: popularityRankingScorer(data), mode: 'full', k: 10 });
    const direct = evaluateRecommender({
      data,
      scorer: (_u, items) => Float32Array.from(items, (i) => pop[i]),
      mode: 'full',
      k: 10,
    });
    expect(r.ndcg).toBe(direct.ndcg);
    expect(r.n).toBe(4);
  });

  test('maxUsers restricts the users', () => {
    expect(heldOutPositions(data, 2).length).toBe(2);
    expect(evaluateRecommender({ data, scorer: handScorer, mode: 'full', k: 3, maxUsers: 2 }).hitRate).toBe(0);
  });
});

describe('BST ranking scorer', () => {
  let model: BstModel;
  beforeAll(() => {
    model = buildBst(tinyConfig({ seqLen: 5 }), data.sizes);
  });

  test('scores the held-out candidates from the history before the held-out rating; deterministic', () => {
    const a = evaluateRecommender({ data, scorer: bstRankingScorer(model, data), mode: 'full', k: 2 });
    const b = evaluateRecommender({ data, scorer: bstRankingScorer(model, data, 2), mode: 'full', k: 2 });
    expect(Array.from(b.ranks)).toEqual(Array.from(a.ranks));
    for (const r of a.ranks) expect(r).toBeGreaterThanOrEqual(1);
  });
});

describe('diversity', () => {
  const genres = { itemGenres: data.features.itemGenres, numGenres: data.sizes.numGenres };
  const idx = (m: number) => data.vocabs.item.index(m);

  test('genre cosine and intra-list diversity by hand', () => {
    expect(genreCosine(genres, idx(10), idx(20))).toBeCloseTo(1, 12); // same three genres
    expect(genreCosine(genres, idx(10), idx(70))).toBeCloseTo(2 / 3, 12); // Crime|Thriller shared of 3 and 3
    expect(genreCosine(genres, idx(10), idx(90))).toBe(0);
    // pairs: (Heat, Ronin) 1 - 1, (Heat, Fargo) 1 - 2/3, (Ronin, Fargo) 1 - 2/3 -> mean 2/9
    expect(intraListDiversity([idx(10), idx(20), idx(70)], genres)).toBeCloseTo(2 / 9, 12);
    expect(intraListDiversity([idx(10)], genres)).toBe(0);
  });

  test('coverage, short head and popularity share', () => {
    expect(
      catalogueCoverage(
        [
          [1, 2],
          [2, 3],
        ],
        10,
      ),
    ).toBeCloseTo(3 / 9, 12);
    const pop = [0, 5, 9, 1, 9, 0];
    const head = shortHead(pop, 0.4); // 2 of 5 items: 2 and 4 (9 each)
    expect(Array.from(head)).toEqual([0, 0, 1, 0, 1, 0]);
    expect(
      popularityShare(
        [
          [2, 3],
          [4, 1],
        ],
        head,
      ),
    ).toBe(0.5);
    const rep = diversityReport({
      lists: [[1, 2]],
      genres: { itemGenres: new Float32Array(12).fill(0).map((_, i) => (i === 2 || i === 5 ? 1 : 0)), numGenres: 2 },
      popularity: [0, 1, 2, 3, 4, 5],
      topFraction: 0.2,
    });
    expect(rep.intraListDiversity).toBe(1);
    expect(rep.coverage).toBeCloseTo(2 / 5, 12);
    expect(rep.popularityShare).toBe(0);
  });

  test('MMR: lambda 1 is top-k; lower lambda swaps a same-genre item for a different one', () => {
    const items = Int32Array.from([10, 20, 70, 80].map(idx));
    const scores = Float32Array.from([0.9, 0.85, 0.5, 0.45]);
    const plain = topK(items, scores, 2);
    expect(Array.from(mmrRerank({ items, scores, k: 2, lambda: 1, genres }).items)).toEqual(Array.from(plain.items));
    const div = mmrRerank({ items, scores, k: 2, lambda: 0.5, genres });
    // after Heat, Ronin (same genres) costs 0.5 * 1; Clueless (no shared genre) gains: 0.5 * 0 - 0
    expect(Array.from(div.items, movieOf)).toEqual([10, 80]);
    expect(intraListDiversity(div.items, genres)).toBeGreaterThan(intraListDiversity(plain.items, genres));
  });
});
