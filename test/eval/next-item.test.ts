/** Next-item protocol (lib/eval/next-item) and its baselines on hand-computed fixtures and the real ml-100k. */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens } from '../../lib/data';
import {
  NextItemCase,
  RawEvents,
  SequenceSet,
  eventsFromTable,
  evaluateNextItem,
  fitItemKnn,
  globalTimeSplit,
  itemKnnNextItem,
  leaveOneOutSplit,
  nextItemTopK,
  pessimisticRank,
  popularityNextItem,
  recentPopularityNextItem,
} from '../../lib/eval';
import { ConfigError } from '../../lib/util/errors';

/** rows [userId, movieId, timestamp] */
function events(rows: Array<[number, number, number]>): RawEvents {
  return { userId: rows.map((r) => r[0]), movieId: rows.map((r) => r[1]), timestamp: rows.map((r) => r[2]) };
}

// user 1: movies 5 and 3 share timestamp 10 (3 comes first by movieId); user 3's validation movie 1 and test
// movie 8 never occur in training. Catalogue = training movies {2,3,4,5,6,7,9} -> indices 1..7.
const FIXTURE = events([
  [1, 5, 10],
  [1, 3, 10],
  [1, 7, 20],
  [1, 9, 30],
  [1, 2, 40],
  [2, 3, 1],
  [2, 4, 2],
  [2, 6, 3],
  [2, 5, 3],
  [3, 2, 1],
  [3, 6, 2],
  [3, 9, 3],
  [3, 1, 4],
  [3, 8, 5],
]);

/** Scores every item by its index (higher index = better), the same for every input. */
const byIndex = (V: number) => (inputs: Int32Array[]) => {
  const out = new Float32Array(inputs.length * V);
  for (let r = 0; r < inputs.length; r++) for (let j = 0; j < V; j++) out[r * V + j] = j;
  return out;
};

test('leave-one-out: split by time with ties by movieId; vocabulary from training; unknown targets are 0', () => {
  const s = leaveOneOutSplit(FIXTURE);
  expect(Array.from(s.itemIds)).toEqual([-1, 2, 3, 4, 5, 6, 7, 9]);
  expect(s.numItems).toBe(8);
  const val = s.val.cases.map((c) => [c.user, Array.from(c.input), c.target]);
  const test = s.test.cases.map((c) => [c.user, Array.from(c.input), c.target]);
  // user 1 in time order: 3, 5 (tie at t = 10, by movieId), 7, 9 (val), 2 (test)
  // user 2: 3, 4, 5, 6 (5 and 6 tie at t = 3): train 3, 4; val 5; test 6
  expect(val).toEqual([
    [1, [2, 4, 6], 7],
    [2, [2, 3], 4],
    [3, [1, 5, 7], 0],
  ]);
  expect(test).toEqual([
    [1, [2, 4, 6, 7], 1],
    [2, [2, 3, 4], 5],
    [3, [1, 5, 7], 0],
  ]);
  expect(s.val.fit).toBe(s.test.fit);
  expect(s.val.fit.items.map((x) => Array.from(x))).toEqual([
    [2, 4, 6],
    [2, 3],
    [1, 5, 7],
  ]);
});

test('pessimistic rank: ties count against the target, seen items and index 0 are no candidates', () => {
  const scores = [9, 5, 5, 5, 1];
  expect(pessimisticRank(scores, 2, [1])).toBe(2); // item 3 ties; item 1 (seen) and index 0 do not count
  expect(pessimisticRank(scores, 2, [])).toBe(3);
  expect(pessimisticRank(scores, 4, [1])).toBe(3);
  expect(pessimisticRank(scores, 0, [])).toBe(Infinity);
  expect(() => pessimisticRank([0, NaN, 1], 2, [])).toThrow(/item 1 is NaN/);
  expect(nextItemTopK([0, 3, 7, 7, 1, 7], 3, [3])).toEqual([2, 5, 1]); // ties by index, seen 3 and index 0 skipped
});

test('full-ranking metrics on the fixture, computed by hand', () => {
  const s = leaveOneOutSplit(FIXTURE);
  const m = evaluateNextItem(byIndex(s.numItems), s.test.cases, { numItems: s.numItems, fit: s.test.fit });
  // user 1: candidates {1, 3, 5} (2, 4, 6, 7 seen), target 1 -> rank 3; user 2: candidates {1, 5, 6, 7},
  // target 5 -> rank 3; user 3: unknown target -> miss
  expect(m.cases).toBe(3);
  expect(m.unknownTargets).toBe(1);
  expect(m.hr10).toBeCloseTo(2 / 3, 12);
  expect(m.hr20).toBeCloseTo(2 / 3, 12);
  expect(m.ndcg10).toBeCloseTo((2 * (1 / Math.log2(4))) / 3, 12);
  expect(m.mrr10).toBeCloseTo((1 / 3 + 1 / 3) / 3, 12);
  // a constant scorer: every candidate ties with the target, so the rank is the number of candidates
  const flat = (inputs: Int32Array[]) => new Float32Array(inputs.length * s.numItems);
  const c = evaluateNextItem(flat, s.test.cases.slice(0, 2), { numItems: s.numItems, fit: s.test.fit });
  expect(c.mrr10).toBeCloseTo((1 / 3 + 1 / 4) / 2, 12);
});

test('coverage@10 and novelty', () => {
  const V = 31;
  const fit: SequenceSet = {
    users: Int32Array.from([1, 2]),
    items: [Int32Array.from([30, 29]), Int32Array.from([30])],
    times: [new Float64Array(2), new Float64Array(1)],
  };
  const cases: NextItemCase[] = [
    { user: 1, input: new Int32Array(0), target: 1, time: 0 },
    { user: 2, input: Int32Array.from([30]), target: 1, time: 0 },
  ];
  const m = evaluateNextItem(byIndex(V), cases, { numItems: V, fit });
  // top-10 lists: 30..21 and 29..20 -> 11 distinct of 30 items
  expect(m.coverage10).toBeCloseTo(11 / 30, 12);
  // self-information over 2 fit users: item 30 (2 events) 0 bits, 29 (1 event) 1 bit, unseen items floored at 1 event: 1 bit
  expect(m.novelty).toBeCloseTo((0 + 9 * 1 + 10 * 1) / 20, 12);
  expect(m.hr20).toBe(0);
  expect(() => evaluateNextItem(() => new Float32Array(3), cases, { numItems: V, fit })).toThrow(ConfigError);
  const sampled = evaluateNextItem(byIndex(V), cases, { numItems: V, fit, sampledNegatives: 5, seed: 3 });
  // the target has the lowest score of all (full-ranking HR@20 is 0), yet against 5 sampled items it ranks 6th: a "hit"
  expect(sampled.sampled!.hr10).toBe(1);
  expect(sampled.sampled!.ndcg10).toBeCloseTo(1 / Math.log2(7), 12);
});

test('global time split on the fixture: cut by timestamp quantile, first event after the cut is the target', () => {
  const e = events([
    [1, 10, 1],
    [1, 11, 2],
    [1, 12, 6],
    [1, 13, 9],
    [2, 11, 3],
    [2, 14, 4],
    [2, 10, 7],
    [2, 15, 8],
    [3, 12, 9],
    [3, 10, 10],
  ]);
  // sorted timestamps 1 2 3 4 6 7 8 9 9 10: valCut = t[floor(0.4 * 10)] = 6, testCut = t[floor(0.8 * 10)] = 9
  const s = globalTimeSplit(e, { valQuantile: 0.4, testQuantile: 0.8 });
  expect(s.val.cut).toBe(6);
  expect(s.test.cut).toBe(9);
  // catalogue: movies before t = 9: 10, 11, 12, 14, 15
  expect(Array.from(s.itemIds)).toEqual([-1, 10, 11, 12, 14, 15]);
  const val = s.val.cases.map((c) => [c.user, Array.from(c.input), c.target]);
  expect(val).toEqual([
    [1, [1, 2], 3],
    [2, [2, 4], 1],
  ]); // user 3 has no event before t = 6
  const test = s.test.cases.map((c) => [c.user, Array.from(c.input), c.target]);
  expect(test).toEqual([[1, [1, 2, 3], 0]]); // movie 13 appears only at t = 9: a miss; user 2 has nothing after the cut
  expect(s.test.fit.items.map((x) => Array.from(x))).toEqual([
    [1, 2, 3],
    [2, 4, 1, 5],
  ]);
  expect(() => globalTimeSplit(e, { valQuantile: 0.9, testQuantile: 0.5 })).toThrow(ConfigError);
});

const DIR =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? path.join(process.env.BST_DATA_DIR, 'ml-100k')
    : path.resolve(__dirname, '../../../shared/data/ml-100k');

test("real ml-100k: no fit event at or after its cut; targets are each user's first event after the cut", () => {
  const raw = eventsFromTable(loadMovieLens({ dir: DIR }).ratings);
  const s = globalTimeSplit(raw);
  for (const [phase, end] of [
    [s.val, s.test.cut!],
    [s.test, Infinity],
  ] as const) {
    const cut = phase.cut!;
    let maxFit = -Infinity;
    for (const t of phase.fit.times) for (let i = 0; i < t.length; i++) maxFit = Math.max(maxFit, t[i]);
    expect(maxFit).toBeLessThan(cut);
    expect(phase.cases.length).toBeGreaterThan(20);
    // the first event at/after the cut of each user, from the raw columns
    const first = new Map<number, number>();
    for (let i = 0; i < raw.userId.length; i++) {
      const t = raw.timestamp[i];
      if (t >= cut && t < end) first.set(raw.userId[i], Math.min(first.get(raw.userId[i]) ?? Infinity, t));
    }
    for (const c of phase.cases) {
      expect(c.time).toBe(first.get(c.user));
      expect(c.input.length).toBeGreaterThan(0);
    }
  }
  expect(s.val.cut!).toBeLessThan(s.test.cut!);
  // leave-one-out on the same data: every user is a case; popularity lands where main measured it (HR@10 0.050)
  const loo = leaveOneOutSplit(raw);
  expect(loo.test.cases.length).toBe(943);
  const pop = evaluateNextItem(popularityNextItem(loo.test.fit, loo.numItems), loo.test.cases, {
    numItems: loo.numItems,
    fit: loo.test.fit,
  });
  expect(pop.hr10).toBeGreaterThan(0.03);
  expect(pop.hr10).toBeLessThan(0.07);
});

test('item-KNN: cosine of co-occurrence, scored from the last items; recent popularity counts the window only', () => {
  const fit: SequenceSet = {
    users: Int32Array.from([1, 2, 3]),
    items: [Int32Array.from([1, 2]), Int32Array.from([1, 2]), Int32Array.from([1, 3])],
    times: [Float64Array.from([0, 86400 * 9]), Float64Array.from([0, 86400 * 9.5]), Float64Array.from([0, 86400 * 2])],
  };
  const V = 4;
  const knn = fitItemKnn(fit, V, 10);
  expect(Array.from(knn.nbrs[1])).toEqual([2, 3]);
  expect(knn.sims[1][0]).toBeCloseTo(2 / Math.sqrt(3 * 2), 6);
  expect(knn.sims[1][1]).toBeCloseTo(1 / Math.sqrt(3 * 1), 6);
  const s = itemKnnNextItem(knn, { lastItems: 1 })([Int32Array.from([3, 1])]);
  expect(s[2]).toBeGreaterThan(s[3]); // scored from item 1 only
  const s2 = itemKnnNextItem(knn, { lastItems: 2, neighbours: 1 })([Int32Array.from([3, 1])]);
  expect(s2[3]).toBe(0); // item 1's single neighbour is 2; item 3's is 1
  expect(s2[1]).toBeCloseTo(1 / Math.sqrt(3), 6);
  // window [10 - 3 days, 10 days): items 2 twice; item 3 (day 2) and item 1 (day 0) only by all-time tie-break
  const r = recentPopularityNextItem(fit, V, { cut: 86400 * 10, days: 3 })([new Int32Array(0)]);
  expect(r[2]).toBeGreaterThan(2);
  expect(r[1]).toBeLessThan(1);
  expect(r[1]).toBeGreaterThan(r[3]);
  expect(() => itemKnnNextItem(knn, { lastItems: 0 })).toThrow(/lastItems must be an integer >= 1, got 0/);
});
