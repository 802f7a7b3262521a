import { BstModel, buildBst } from '../../lib/model/index';
import {
  candidateSamplesByIndex,
  coldStart,
  explainItems,
  explanationText,
  heldOutCandidateSamples,
  latestCut,
  movieCatalog,
  occlusion,
  recommend,
  topK,
  unratedItems,
} from '../../lib/recommend/index';
import { DataError, ConfigError } from '../../lib/util/errors';
import { tinyConfig, useCpu } from '../model/helpers';
import { HISTORIES, tinyData } from './fixtures';

beforeAll(useCpu);

describe('candidate samples', () => {
  const { data } = tinyData(5);
  const item = (m: number) => data.vocabs.item.index(m);
  const it = data.interactions;

  test('latest history: the last L-1 ratings of all splits, deltas to the latest rating', () => {
    const u = data.vocabs.user.index(1);
    const s = candidateSamplesByIndex(data, u, [item(40), item(80)]);
    expect(s.n).toBe(2);
    expect(Array.from(s.itemSeq.subarray(0, 5))).toEqual([70, 60, 50, 30, 40].map(item));
    expect(Array.from(s.ratingSeq.subarray(0, 5))).toEqual([4, 3, 2, 4, 0]);
    // the fixture's ratings are 1 s apart: Fargo (3rd) is 3 s before the latest (Toy Story, 6th)
    expect(Array.from(s.timeDelta.subarray(0, 5))).toEqual([3, 2, 1, 0, 0]);
  });

  test('held-out history stops right before the held-out rating, time measured from it', () => {
    const u = data.vocabs.user.index(2);
    const p = it.userOffsets[u + 1] - 1; // test target: movie 20
    expect(it.item[p]).toBe(item(20));
    const s = heldOutCandidateSamples(data, p, [item(20), item(50)]);
    expect(Array.from(s.itemSeq.subarray(5, 10))).toEqual([40, 80, 10, 90, 50].map(item));
    expect(s.timeDelta[5 + 3]).toBe(it.timestamp[p] - it.timestamp[p - 1]);
    expect(s.rating[0]).toBe(0);
  });

  test('a candidate index outside the vocabulary is refused', () => {
    expect(() => candidateSamplesByIndex(data, 1, [0])).toThrow(DataError);
    expect(() => candidateSamplesByIndex(data, 1, [data.sizes.numItems])).toThrow(/outside/);
  });
});

describe('topK', () => {
  test('best first, ties to the smaller item index, independent of input order', () => {
    const a = topK([5, 3, 9, 1], [0.5, 0.9, 0.5, 0.1], 3);
    expect(Array.from(a.items)).toEqual([3, 5, 9]);
    const b = topK([9, 1, 5, 3], [0.5, 0.1, 0.5, 0.9], 3);
    expect(Array.from(b.items)).toEqual([3, 5, 9]);
    expect(() => topK([1], [NaN], 1)).toThrow(ConfigError);
  });
});

describe('recommend', () => {
  const { dataset, data } = tinyData(5);
  const catalog = movieCatalog(dataset, data);
  let model: BstModel;
  beforeAll(() => {
    model = buildBst(tinyConfig({ seqLen: 5 }), data.sizes);
  });

  test('never recommends a movie the user rated (any split); every unrated movie is scored', () => {
    for (const userId of [1, 2, 3, 4]) {
      const r = recommend({ model, data, catalog, userId, k: 10 });
      const rated = new Set(HISTORIES[userId].map(([m]) => m));
      expect(r.items.length).toBe(9 - rated.size);
      expect(r.candidates).toBe(9 - rated.size);
      for (const x of r.items) expect(rated.has(x.movieId)).toBe(false);
      const scores = r.items.map((x) => x.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    }
  });

  test('deterministic for a fixed model: same list, scores and explanations', () => {
    const a = recommend({ model, data, catalog, userId: 3, k: 2 });
    const b = recommend({ model, data, catalog, userId: 3, k: 2 });
    expect(b.items).toEqual(a.items);
  });

  test('returns title, year, genres and an explanation from the history', () => {
    const r = recommend({ model, data, catalog, userId: 1, k: 3 });
    const babe = r.items.find((x) => x.movieId === 40)!;
    expect(babe.title).toBe('Babe (1995)');
    expect(babe.year).toBe(1995);
    expect(babe.genres).toEqual(["Children's", 'Comedy', 'Drama']);
    for (const x of r.items) {
      expect(x.because.length).toBeLessThanOrEqual(2);
      for (const why of x.because)
        expect(['Fargo (1996)', 'Alien (1979)', 'Casablanca (1942)', 'Toy Story (1995)']).toContain(why.title);
      for (const why of x.because) expect(why.contribution).toBeGreaterThan(0.01);
      if (x.because.length === 2) expect(x.because[0].contribution).toBeGreaterThanOrEqual(x.because[1].contribution);
      expect(x.explanation).toBe(explanationText(x.because));
    }
    expect(r.history.map((h) => h.movieId)).toEqual(HISTORIES[1].map(([m]) => m));
  });

  test('unknown user: DataError naming the id; cold start on request', () => {
    expect(() => recommend({ model, data, catalog, userId: 99 })).toThrow(/user 99 is unknown/);
    const r = recommend({ model, data, catalog, userId: 99, fallback: 'popular', history: [10], k: 3 });
    expect(r.coldStart).toBe(true);
    expect(r.items.map((x) => x.movieId)).not.toContain(10);
    // Ronin shares all of Heat's genres and is as popular as anything: first
    expect(r.items[0].movieId).toBe(20);
    expect(() => coldStart({ data, catalog, history: [10, 12345] })).toThrow(/movie 12345 is unknown/);
  });

  test("explanations: one list per item, each from that item's own occlusion contributions", () => {
    const u = data.vocabs.user.index(4);
    const cut = latestCut(data, u);
    const items = unratedItems(data, u);
    const why = explainItems({ model, data, catalog, cut, items, top: 4, minContribution: 0 });
    expect(why.length).toBe(items.length);
    const occ = occlusion({ model, data, cut, items });
    why.forEach((w, b) => {
      for (const r of w)
        expect(r.contribution).toBeCloseTo(
          occ.contribution[b * occ.hist + Array.from(occ.positions).indexOf(r.position)],
          6,
        );
    });
    expect(
      explanationText([{ title: 'Heat (1995)', rating: 5 } as any, { title: 'Ronin (1998)', rating: 4 } as any]),
    ).toBe('because you rated Heat 5 and Ronin 4');
  });
});
