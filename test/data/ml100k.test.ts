/** The real MovieLens-100k (../shared/data/ml-100k, or $BST_DATA_DIR/ml-100k). */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens, prepareData, kerasWindowCount, Dataset, firstUsers } from '../../lib/data';

const DIR =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? path.join(process.env.BST_DATA_DIR, 'ml-100k')
    : path.resolve(__dirname, '../../../shared/data/ml-100k');

let ds: Dataset;
beforeAll(() => {
  ds = loadMovieLens({ dir: DIR });
});

test('sizes of the real ml-100k', () => {
  expect(ds.release).toBe('ml-100k');
  expect(ds.users!.numRows()).toBe(943);
  expect(ds.movies.numRows()).toBe(1682);
  expect(ds.ratings.numRows()).toBe(100000);
  expect(ds.report.ratingsRead).toBe(100000);
  expect(ds.report.duplicates.count + ds.report.outOfRange.count + ds.report.unknownMovies.count).toBe(0);
  const genres = new Set((ds.movies.array('genres') as string[]).flatMap((g) => g.split('|')).filter(Boolean));
  expect(genres.size).toBe(19);
});

test('leave-last-k split counts, k=1 and k=5', () => {
  const logs: string[] = [];
  const p1 = prepareData({ dataset: ds, seqLen: 10, k: 1, verbose: (s) => logs.push(s) });
  expect(p1.counts).toMatchObject({ users: 943, train: 98114, val: 943, test: 943, usersTrainOnly: 0 });
  expect(logs.join('\n')).toContain('943 users, train 98114, val 943, test 943');
  const p5 = prepareData({ dataset: ds, seqLen: 10, k: 5 });
  expect(p5.counts).toMatchObject({ users: 943, train: 90570, val: 4715, test: 4715, usersTrainOnly: 0 });
  expect(p5.split.train.length + p5.split.val.length + p5.split.test.length).toBe(100000);
  expect(p5.sizes.numUsers).toBe(944);
  // items seen only in val/test are unknown (0): the vocabulary comes from training ratings only
  const trainItems = new Set(Array.from(p5.split.train, (p) => p5.interactions.item[p]));
  expect(trainItems.has(0)).toBe(false);
  expect(p5.sizes.numItems).toBe(trainItems.size + 1);
});

test('property: no training sample reaches a validation or test position (k=1 and k=5)', () => {
  for (const k of [1, 5]) {
    const L = 20;
    const p = prepareData({ dataset: ds, seqLen: L, k });
    const it = p.interactions;
    const isTrain = new Uint8Array(it.item.length);
    for (const q of p.split.train) isTrain[q] = 1;
    // every val/test position of a user lies after all of that user's training positions
    let bad = 0;
    for (const q of [...p.split.val, ...p.split.test]) bad += isTrain[q];
    expect(bad).toBe(0);
    let checked = 0;
    for (const b of p.batches('train', { batchSize: 5000 })) checked += b.n;
    expect(checked).toBe(p.split.train.length);
    for (const t of p.split.train) {
      const u = it.user[t];
      const start = Math.max(it.userOffsets[u], t - L + 1);
      for (let q = start; q <= t; q++) {
        if (!isTrain[q]) throw new Error(`training target ${t} (k=${k}) reaches non-training position ${q}`);
        if (it.user[q] !== u) throw new Error(`history of ${t} crosses into another user`);
      }
    }
    // val/test positions are each user's last 2k ratings in time order
    for (let u = 1; u < it.userOffsets.length - 1; u++) {
      const e = it.userOffsets[u + 1];
      for (let q = it.userOffsets[u] + 1; q < e; q++)
        if (it.timestamp[q] < it.timestamp[q - 1]) throw new Error(`time order broken at ${q}`);
    }
  }
});

test('legacy windows on ml-100k match the Keras create_sequences count', () => {
  const p = prepareData({ dataset: ds, seqLen: 4, step: 2, protocol: 'legacy-random-windows', seed: 3 });
  let expected = 0;
  const off = p.interactions.userOffsets;
  for (let u = 0; u < off.length - 1; u++) expected += kerasWindowCount(off[u + 1] - off[u], 4, 2);
  expect(p.counts.windows).toBe(expected);
  expect(p.counts.leaky).toBe(true);
  expect(p.counts.test).toBe(expected - Math.floor(0.85 * expected));
  expect(p.counts.train + p.counts.val + p.counts.test).toBe(expected);
});

test('firstUsers keeps the first N users: their ratings (same values) and users rows; movies unchanged', () => {
  const sub = firstUsers(ds, 100);
  const uid = Array.from(ds.ratings.array('userId') as ArrayLike<number>);
  const mine = uid.map((u, i) => [u, i]).filter(([u]) => u <= 100);
  expect(sub.ratings.numRows()).toBe(mine.length);
  expect(mine.length).toBeGreaterThan(5000); // ml-100k's first 100 users hold about 10% of its ratings
  expect(mine.length).toBeLessThan(20000);
  const rating = ds.ratings.array('rating') as ArrayLike<number>;
  const ts = ds.ratings.array('timestamp') as ArrayLike<number>;
  expect(Array.from(sub.ratings.array('rating') as ArrayLike<number>)).toEqual(mine.map(([, i]) => rating[i]));
  expect(Array.from(sub.ratings.array('timestamp') as ArrayLike<number>)).toEqual(mine.map(([, i]) => ts[i]));
  expect(sub.ratings.column('userId')!.constructor).toBe(ds.ratings.column('userId')!.constructor);
  expect(Math.max(...Array.from(sub.users!.array('userId') as ArrayLike<number>))).toBe(100);
  expect(sub.users!.numRows()).toBe(100);
  expect(sub.movies).toBe(ds.movies);
  expect(prepareData({ dataset: sub, seqLen: 4, k: 1 }).counts.users).toBe(100);
  expect(firstUsers(ds, 0)).toBe(ds);
  expect(firstUsers(ds, 943)).toBe(ds);
  expect(() => firstUsers(ds, -1)).toThrow(/maxUsers must be an integer >= 0, got -1/);
});
