/** lib/viz summaries on tiny hand-made data: explore (01), sequences and leakage (02), model helpers, cache. */
import * as fs from 'fs';
import * as path from 'path';
import * as aq from 'arquero';
import type { Dataset, LoadReport } from '../../lib/data/load';
import { prepareData } from '../../lib/data/prepare';
import {
  activityByMonth,
  attentionMatrix,
  cacheKey,
  cachedJson,
  canonicalJson,
  datasetOverview,
  demographicCounts,
  fullHistoryTargets,
  genrePopularity,
  leakageReport,
  logHistogram,
  quantiles,
  rankCurve,
  ratingDistribution,
  ratingsPer,
  topMovies,
  userTimeline,
  windowGrid,
  WINDOW_CODES,
} from '../../lib/viz';
import { tmpDir } from './helpers';

const DAY = 86400;
const T0 = Date.UTC(2000, 0, 15) / 1000;

/** users 1..3 rating movies 10..(10+n) one per day; user 1 has 6 ratings, user 2 has 4, user 3 has 1. */
function tinyDataset(): Dataset {
  const rows: Array<[number, number, number, number]> = [];
  const per = { 1: 6, 2: 4, 3: 1 } as Record<number, number>;
  for (const u of [1, 2, 3])
    for (let i = 0; i < per[u]; i++) rows.push([u, 10 + i, 1 + ((u + i) % 5), T0 + (i + u) * 20 * DAY]);
  const ratings = aq.table({
    userId: Int32Array.from(rows.map((r) => r[0])),
    movieId: Int32Array.from(rows.map((r) => r[1])),
    rating: Float32Array.from(rows.map((r) => r[2])),
    timestamp: Float64Array.from(rows.map((r) => r[3])),
  });
  const movies = aq.table({
    movieId: Int32Array.from([10, 11, 12, 13, 14, 15]),
    title: ['A (1990)', 'B (1991)', 'C (1992)', 'D (1993)', 'E (1994)', 'F (1995)'],
    year: Int32Array.from([1990, 1991, 1992, 1993, 1994, 1995]),
    genres: ['Drama', 'Drama|Comedy', 'Comedy', '', 'Action', 'Drama'],
  });
  const users = aq.table({
    userId: Int32Array.from([1, 2, 3]),
    gender: ['F', 'M', 'M'],
    age: Int32Array.from([25, 18, 56]),
    occupation: ['writer', 'other', 'other'],
    zip: ['1', '2', '3'],
  });
  return {
    release: 'ml-100k',
    dir: '/nowhere',
    ratings,
    movies,
    users,
    report: { ratingsKept: rows.length } as LoadReport,
  };
}

describe('explore summaries', () => {
  const ds = tinyDataset();

  test('overview, distribution and per-user / per-movie counts', () => {
    const o = Object.fromEntries(datasetOverview(ds).map((r) => [r.what, r.value]));
    expect(o.ratings).toBe(11);
    expect(o['users who rated']).toBe(3);
    expect(o['movies rated']).toBe(6);
    expect(o['first rating']).toBe('2000-02-04');
    const dist = ratingDistribution(ds);
    expect(dist.reduce((a, d) => a + d.count, 0)).toBe(11);
    expect(dist.map((d) => d.rating)).toEqual([...dist.map((d) => d.rating)].sort());
    expect(ratingsPer(ds, 'userId')).toEqual([6, 4, 1]);
    expect(ratingsPer(ds, 'movieId')).toEqual([3, 2, 2, 2, 1, 1]);
  });

  test('quantiles, log histogram and rank curve', () => {
    expect(quantiles([1, 2, 3, 4, 5], [0, 0.5, 1])).toEqual([1, 3, 5]);
    const h = logHistogram([1, 2, 9, 10, 11, 100], 1);
    expect(h.edges).toEqual([1, 10, 100, 1000]);
    expect(h.counts).toEqual([3, 2, 1]);
    const r = rankCurve(
      Array.from({ length: 1000 }, (_, i) => 1000 - i),
      20,
    );
    expect(r.rank[0]).toBe(1);
    expect(r.rank[r.rank.length - 1]).toBe(1000);
    expect(r.rank.length).toBeLessThanOrEqual(21);
  });

  test('genres, months, demographics, top movies', () => {
    const g = genrePopularity(ds);
    const drama = g.find((x) => x.genre === 'Drama')!;
    expect(drama.movies).toBe(3); // A, B, F
    expect(drama.ratings).toBe(3 + 2 + 1); // movie 10 x3, 11 x2, 15 x1
    const months = activityByMonth(ds);
    expect(months.reduce((a, m) => a + m.ratings, 0)).toBe(11);
    expect(months.reduce((a, m) => a + m.newUsers, 0)).toBe(3);
    expect(months[0].month).toBe('2000-02');
    expect(demographicCounts(ds, 'gender')).toEqual([
      { label: 'M', count: 2 },
      { label: 'F', count: 1 },
    ]);
    expect(demographicCounts(ds, 'age').map((r) => r.label)).toEqual(['18-24', '25-34', '56+']);
    expect(demographicCounts({ ...ds, users: undefined }, 'gender')).toEqual([]);
    expect(topMovies(ds, 1)).toEqual([{ title: 'A (1990)', ratings: 3, meanRating: (2 + 3 + 4) / 3 }]);
  });
});

describe('sequences and leakage', () => {
  const ds = tinyDataset();

  test('leave-last-k: nothing leaks; windows end at their targets', () => {
    const d = prepareData({ dataset: ds, protocol: 'leave-last-k', k: 1, seqLen: 3 });
    const leak = leakageReport(d);
    expect(leak.testTargets).toBe(2); // users 1 and 2 (user 3 has one rating)
    expect(leak.testTargetInTrainWindow).toBe(0);
    expect(leak.trainSeesLaterRatings).toBe(0);
    const u1 = d.vocabs.user.index(1);
    const t = userTimeline(d, u1);
    expect(t.map((r) => r.targetOf)).toEqual(['train', 'train', 'train', 'train', 'val', 'test']);
    const g = windowGrid(d, u1);
    expect(g.roles).toEqual(['train', 'train', 'train', 'train', 'val', 'test']);
    // the test row: history at positions 3, 4 (L - 1 = 2), target at 5
    expect(g.z[5]).toEqual([0, 0, 0, WINDOW_CODES.history, WINDOW_CODES.history, WINDOW_CODES.test]);
  });

  test('legacy windows: test targets sit inside training windows', () => {
    // one long user: 40 ratings, windows of 4 with step 1 -> plenty of overlap between train and test windows
    const n = 40;
    const ratings = aq.table({
      userId: Int32Array.from({ length: n }, () => 1),
      movieId: Int32Array.from({ length: n }, (_, i) => 100 + i),
      rating: Float32Array.from({ length: n }, (_, i) => 1 + (i % 5)),
      timestamp: Float64Array.from({ length: n }, (_, i) => T0 + i * DAY),
    });
    const movies = aq.table({
      movieId: Int32Array.from({ length: n }, (_, i) => 100 + i),
      title: Array.from({ length: n }, (_, i) => `M${i}`),
      year: new Int32Array(n),
      genres: Array.from({ length: n }, () => 'Drama'),
    });
    const d = prepareData({
      dataset: { ...tinyDataset(), ratings, movies, users: undefined },
      protocol: 'legacy-random-windows',
      seqLen: 4,
      step: 1,
      seed: 7,
    });
    const leak = leakageReport(d);
    expect(leak.testTargets).toBeGreaterThan(0);
    expect(leak.shareTargetInTrain).toBeGreaterThan(0.5);
    expect(leak.shareTrainSeesLater).toBeGreaterThan(0.5);
  });
});

describe('model display helpers', () => {
  test('attentionMatrix averages heads of one sample; fullHistoryTargets skips short histories', () => {
    // n=2, H=2, L=2
    const data = Float32Array.from([
      /* s0 h0 */ 1, 0, 0.5, 0.5, /* s0 h1 */ 0, 1, 0.5, 0.5, /* s1 h0 */ 1, 0, 1, 0, /* s1 h1 */ 1, 0, 1, 0,
    ]);
    const att = { shape: [2, 2, 2, 2] as [number, number, number, number], data };
    expect(attentionMatrix(att, 0)).toEqual([
      [0.5, 0.5],
      [0.5, 0.5],
    ]);
    expect(attentionMatrix(att, 0, 1)).toEqual([
      [0, 1],
      [0.5, 0.5],
    ]);
    expect(() => attentionMatrix(att, 2)).toThrow(/sample 2/);
    const offsets = Int32Array.from([0, 0, 3, 10]);
    expect(fullHistoryTargets([1, 2, 3, 4, 9], offsets, 2)).toEqual([2, 9]);
    expect(fullHistoryTargets([1, 2, 3, 4, 9], offsets, 1, 2)).toEqual([1, 2]);
  });
});

describe('result cache', () => {
  const dir = tmpDir('bst-cache-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('keyed by canonical JSON: key order does not matter, a changed value recomputes', async () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(cacheKey({ a: 1, b: 2 })).toBe(cacheKey({ b: 2, a: 1 }));
    let calls = 0;
    const compute = async () => ({ mae: 0.7, call: ++calls });
    const a = await cachedJson(dir, { L: 4, seed: 1 }, compute);
    const b = await cachedJson(dir, { seed: 1, L: 4 }, compute);
    const c = await cachedJson(dir, { L: 10, seed: 1 }, compute);
    expect([a.cached, b.cached, c.cached]).toEqual([false, true, false]);
    expect(b.value).toEqual({ mae: 0.7, call: 1 });
    expect(calls).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual([path.basename(a.file), path.basename(c.file)].sort());
  });
});
