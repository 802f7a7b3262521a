import {
  loadMovieLens,
  prepareData,
  kerasWindowTargets,
  kerasWindowCount,
  leaveLastK,
  sortIntoRuns,
  Samples,
} from '../../lib/data';
import { tmpDir, writeFiles, ML1M_FILES, ml1mForCounts } from './fixtures';

describe('legacy-random-windows (Keras BST example protocol)', () => {
  test('create_sequences windows, computed by hand', () => {
    // values 0..8, L=4, step=2: [0:4], [2:6], [4:8], then the short [6:10] is replaced by values[-4:] = [5:9]
    const t: number[] = [];
    kerasWindowTargets(0, 9, 4, 2, t);
    expect(t).toEqual([3, 5, 7, 8]);
    // n=6: [0:4], [2:6], then values[-4:] = [2:6] again (the Keras code appends the duplicate)
    const d: number[] = [];
    kerasWindowTargets(0, 6, 4, 2, d);
    expect(d).toEqual([3, 5, 5]);
    // shorter than L: no window at all
    const none: number[] = [];
    kerasWindowTargets(0, 3, 4, 2, none);
    expect(none).toEqual([]);
  });

  test('window count on a fixture: users with 3, 4, 5, 6 and 9 ratings give 0+2+2+3+4 = 11 windows', () => {
    const dir = writeFiles(tmpDir(), ml1mForCounts([3, 4, 5, 6, 9]), 'latin1');
    const ds = loadMovieLens({ dir });
    const logs: string[] = [];
    const p = prepareData({
      dataset: ds,
      seqLen: 4,
      step: 2,
      protocol: 'legacy-random-windows',
      seed: 1,
      verbose: (s) => logs.push(s),
    });
    expect([3, 4, 5, 6, 9].map((n) => kerasWindowCount(n, 4, 2))).toEqual([0, 2, 2, 3, 4]);
    expect(p.counts.windows).toBe(11);
    expect(p.counts.duplicateWindows).toBe(2);
    expect(p.counts.usersWithoutWindows).toBe(1);
    // sklearn train_test_split(train_size=0.85): test = ceil(0.15 * 11) = 2; validation = round(0.1 * 9) = 1
    expect([p.counts.train, p.counts.val, p.counts.test]).toEqual([8, 1, 2]);
    expect(logs.join('\n')).toMatch(/LEAKY/);
    // every legacy window is full: L-1 real history items
    const all = p.gather(Int32Array.from([...p.split.train, ...p.split.val, ...p.split.test]));
    for (let i = 0; i < all.n; i++) for (let j = 0; j < 4; j++) expect(all.itemSeq[i * 4 + j]).not.toBe(0);
    // same seed, same split; another seed, another split
    const again = prepareData({ dataset: ds, seqLen: 4, step: 2, protocol: 'legacy-random-windows', seed: 1 });
    expect(Array.from(again.split.test)).toEqual(Array.from(p.split.test));
  });
});

describe('leave-last-k', () => {
  test('rules per user length', () => {
    // runs of 0 (padding), 1, 2, 3, 7 ratings with k=1; and with k=2
    const off = Int32Array.from([0, 0, 1, 3, 6, 13]);
    const s1 = leaveLastK(off, 1);
    expect(Array.from(s1.test)).toEqual([5, 12]);
    expect(Array.from(s1.val)).toEqual([4, 11]);
    expect(Array.from(s1.train)).toEqual([0, 1, 2, 3, 6, 7, 8, 9, 10]);
    expect(s1.counts).toMatchObject({ users: 4, usersTrainOnly: 2, train: 9, val: 2, test: 2 });
    const s2 = leaveLastK(off, 2);
    expect(Array.from(s2.test)).toEqual([11, 12]);
    expect(s2.counts.usersTrainOnly).toBe(3);
    expect(() => leaveLastK(off, 0)).toThrow(/k must be/);
  });

  test('samples: time order with ties broken by movieId, left padding, time deltas, features, labels', () => {
    const ratings = [
      '7::20::4::978300760',
      '7::10::5::978300700',
      '7::30::2::978300700', // same second as movie 10: 10 comes first
      '7::40::3::978300900',
      '8::10::3::978300800',
      '8::30::1::978300810',
      '8::20::5::978300820',
    ].join('\n');
    const movies = ML1M_FILES['movies.dat'] + '40::Later Film (1997)::Horror\n';
    const dir = writeFiles(tmpDir(), { ...ML1M_FILES, 'movies.dat': movies, 'ratings.dat': ratings }, 'latin1');
    const p = prepareData({ dataset: loadMovieLens({ dir }), seqLen: 4, k: 1 });
    const it = p.interactions;
    const v = p.vocabs;
    // user 7: 10, 30 (tie, by movieId), 20, 40
    expect(Array.from(it.item.subarray(0, 4))).toEqual([10, 30, 20, 40].map((m) => v.item.index(m)));
    expect(Array.from(p.split.test)).toEqual([3, 6]);
    expect(Array.from(p.split.val)).toEqual([2, 5]);
    expect(Array.from(p.split.train)).toEqual([0, 1, 4]);
    // movie 40 is rated only as a test target: unknown to the training vocabulary
    expect(v.item.index(40)).toBe(0);
    expect(v.item.values).toEqual([10, 30]);
    const s: Samples = p.gather(Int32Array.from([1, 3]));
    expect(s.seqLen).toBe(4);
    // target position 1 (user 7, movie 30): one history item (10), left-padded
    expect(Array.from(s.itemSeq.subarray(0, 4))).toEqual([0, 0, v.item.index(10), v.item.index(30)]);
    expect(Array.from(s.ratingSeq.subarray(0, 4))).toEqual([0, 0, 5, 0]);
    expect(Array.from(s.timeDelta.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    // target position 3 (movie 40 at t=...900): history 10, 30, 20
    expect(Array.from(s.itemSeq.subarray(4, 8))).toEqual([v.item.index(10), v.item.index(30), 0, 0]);
    expect(Array.from(s.ratingSeq.subarray(4, 8))).toEqual([5, 2, 4, 0]);
    expect(Array.from(s.timeDelta.subarray(4, 8))).toEqual([200, 200, 140, 0]);
    expect(Array.from(s.rating)).toEqual([2, 3]);
    expect(Array.from(s.liked)).toEqual([0, 0]);
    expect(s.userIdx[0]).toBe(v.user.index(7));
    // user 7 is F, age 25, occupation 12 (programmer), zip 02139 -> '0'
    expect(v.gender.value(s.gender[0])).toBe('F');
    expect(v.age.value(s.age[0])).toBe(25);
    expect(v.occupation.value(s.occupation[0])).toBe('programmer');
    expect(v.zip.value(s.zip[0])).toBe('0');
    // genres of movie 30 (Drama) in the multi-hot, year of an unknown movie = 0
    const G = p.sizes.numGenres;
    expect(v.genre.values).toEqual(['Comedy', 'Drama']);
    expect(Array.from(s.genres.subarray(0, G))).toEqual([0, 1]);
    expect(s.yearIdx[1]).toBe(0);
    expect(v.year.value(s.yearIdx[0])).toBeUndefined(); // 'Untitled' has no year
  });

  test('batches: seeded shuffle, last partial batch kept, every target once', () => {
    const dir = writeFiles(tmpDir(), ml1mForCounts([5, 8, 13, 2, 21]), 'latin1');
    const p = prepareData({ dataset: loadMovieLens({ dir }), seqLen: 5, k: 2 });
    const n = p.split.train.length;
    const sizes = [...p.batches('train', { batchSize: 4 })].map((b) => b.n);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
    expect(sizes[sizes.length - 1]).toBe(n % 4 || 4);
    const order = (seed: number) =>
      [...p.batches('train', { batchSize: 4, shuffle: true, seed })].flatMap((b) =>
        Array.from(b.timeDelta.filter((_, i) => i % 5 === 3)).concat(Array.from(b.rating)),
      );
    expect(order(5)).toEqual(order(5));
    expect(order(5)).not.toEqual(order(6));
    const targets = [...p.batches('val', { batchSize: 3 })].reduce((a, b) => a + b.n, 0);
    expect(targets).toBe(p.counts.val);
  });
});

describe('sortIntoRuns', () => {
  test('orders users by id and each run by (timestamp, movieId), also with repeated movies and long runs', () => {
    const n = 200;
    const userId = new Int32Array(n),
      movieId = new Int32Array(n),
      ts = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      userId[i] = i % 3 === 0 ? 9 : 4;
      movieId[i] = (i * 37) % 50; // repeats within a user: comparator fallback
      ts[i] = 1000 + ((i * 13) % 17);
    }
    for (const mv of [movieId, Int32Array.from({ length: n }, (_, i) => n - i)]) {
      const r = sortIntoRuns(userId, mv, ts);
      expect(Array.from(r.rawIds)).toEqual([4, 9]);
      for (let d = 0; d < 2; d++) {
        for (let j = r.offsets[d] + 1; j < r.offsets[d + 1]; j++) {
          const a = r.perm[j - 1],
            b = r.perm[j];
          expect(ts[a] < ts[b] || (ts[a] === ts[b] && mv[a] <= mv[b])).toBe(true);
          expect(userId[b]).toBe(r.rawIds[d]);
        }
      }
      expect(new Set(r.perm).size).toBe(n);
    }
  });
});
