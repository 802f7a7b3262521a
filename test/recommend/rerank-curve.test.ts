/**
 * lib/recommend/rerank-curve.ts: the MMR trade-off curve on the next-item protocol, hand-computed on a tiny
 * catalogue, and consistent with evaluateNextItem of the pipeline scorer on real ml-100k cases.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens } from '../../lib/data/index';
import { eventsFromTable, evaluateNextItem, leaveOneOutSplit, NextItemCase } from '../../lib/eval';
import { GenreTable } from '../../lib/recommend/diversity';
import { pipelineScorer } from '../../lib/recommend/pipeline';
import { pipelineLists, rerankCurve } from '../../lib/recommend/rerank-curve';
import { popularityRetriever, retrievalFeatures, retrieveMany } from '../../lib/retrieval/index';
import { Rng } from '../../lib/util/rng';

// items 1..5 over genres [A, B]: 1 A, 2 A, 3 B, 4 A+B, 5 A
const genres: GenreTable = { itemGenres: Float32Array.from([0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 0]), numGenres: 2 };
const cases: NextItemCase[] = [
  { user: 1, input: Int32Array.from([5]), target: 3, time: 0 },
  { user: 2, input: Int32Array.from([4]), target: 2, time: 0 },
];
const lists = [
  { items: Int32Array.from([1, 2, 3]), scores: Float32Array.from([3, 2, 1]) },
  { items: Int32Array.from([1, 2, 3]), scores: Float32Array.from([3, 2, 1]) },
];

test('k = 2: lambda 1 is the plain top-2; a low lambda swaps in the other genre (hand-computed metrics)', () => {
  const [plain, diverse] = rerankCurve({ cases, lists, lambdas: [1, 0.2], genres, numItems: 6, k: 2 });
  // plain: both lists [1, 2]; case 2's target 2 at rank 2, case 1's target 3 missed
  expect(plain).toMatchObject({ lambda: 1, hr: 0.5, coverage: 2 / 5, diversity: 0 });
  expect(plain.ndcg).toBeCloseTo(1 / Math.log2(3) / 2, 12);
  // lambda 0.2: after 1 (A), item 2 scores 0.2*0.5 - 0.8*1 < item 3's 0.2*0 - 0 -> lists [1, 3]
  expect(diverse).toMatchObject({ lambda: 0.2, hr: 0.5, coverage: 2 / 5, diversity: 1 });
  expect(diverse.ndcg).toBeCloseTo(1 / Math.log2(3) / 2, 12);
  expect(() => rerankCurve({ cases, lists: lists.slice(1), lambdas: [1], genres, numItems: 6 })).toThrow(
    /1 candidate lists for 2 cases/,
  );
  expect(() => rerankCurve({ cases, lists, lambdas: [1], genres, numItems: 6, k: 0 })).toThrow(
    /k must be an integer >= 1, got 0/,
  );
});

test('pipelineLists: the first m retrieved items, best pipeline score first', () => {
  const cand = {
    cases,
    items: [Int32Array.from([4, 2, 3]), Int32Array.from([1, 3, 5])],
    ranker: [Float32Array.from([0, 5, 1]), Float32Array.from([2, 1, 9])],
  };
  const bst = pipelineLists(cand, { m: 3, weight: 0 });
  expect(Array.from(bst[0].items)).toEqual([2, 3, 4]);
  expect(Array.from(bst[1].items)).toEqual([5, 1, 3]);
  const own = pipelineLists(cand, { m: 2, weight: 1 }); // the retriever's order, cut at m
  expect(Array.from(own[0].items)).toEqual([4, 2]);
  expect(Array.from(own[1].items)).toEqual([1, 3]);
});

const DIR = path.join(process.env.BST_DATA_DIR ?? path.resolve(__dirname, '../../../shared/data'), 'ml-100k');
(fs.existsSync(path.join(DIR, 'u.data')) ? test : test.skip)(
  'ml-100k: lambda 1 equals evaluateNextItem of the pipeline scorer; lower lambda, more diverse lists',
  () => {
    const ds = loadMovieLens({ dir: DIR });
    const split = leaveOneOutSplit(eventsFromTable(ds.ratings));
    const V = split.numItems;
    const cs = split.test.cases.slice(0, 300);
    const inputs = cs.map((c) => c.input);
    const items = retrieveMany(popularityRetriever(split.test.fit, V), inputs, 50, inputs);
    const rng = new Rng(3);
    const ranker = items.map((it) => Float32Array.from(it, () => rng.next())); // continuous: no ties
    const cand = { cases: cs, items, ranker };
    const s = { m: 50, weight: 0.25 };
    const ev = evaluateNextItem(pipelineScorer(cand, V, s), cs, { numItems: V, fit: split.test.fit });
    // item genres from the movies table, indexed like the split's catalogue; the genre list is the data's
    const f = retrievalFeatures(ds, split.itemIds);
    expect(f.genres).toEqual(expect.arrayContaining(['Action', 'Drama', 'Western']));
    const curve = rerankCurve({
      cases: cs,
      lists: pipelineLists(cand, s),
      lambdas: [1, 0.3],
      genres: { itemGenres: f.itemGenres, numGenres: f.genres.length },
      numItems: V,
    });
    expect(curve[0].hr).toBeCloseTo(ev.hr10, 12);
    expect(curve[0].ndcg).toBeCloseTo(ev.ndcg10, 12);
    expect(curve[0].coverage).toBeCloseTo(ev.coverage10, 12);
    expect(curve[1].diversity).toBeGreaterThan(curve[0].diversity + 0.05);
  },
);
