/** The two-tower model (lib/retrieval): config validation, features, tower shapes, and learning on a toy world. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/kernels/backend';
import { RawEvents, evaluateNextItem, leaveOneOutSplit, popularityNextItem } from '../../lib/eval';
import {
  RetrievalTables,
  batchCandidates,
  createTwoTower,
  disposeTwoTower,
  movieTower,
  recallAtM,
  retrievalFeatures,
  trainTwoTower,
  twoTowerConfig,
  twoTowerRetriever,
  twoTowerScorer,
  twoTowerWindows,
  userTower,
} from '../../lib/retrieval';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { latestHistories, loadVectors, retrieveTopM, trainAndExportVectors } from '../../lib/retrieval';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';

/** A table-like object over plain columns. */
function table(cols: Record<string, unknown[]>): { array(n: string): unknown[]; numRows(): number } {
  return { array: (n) => cols[n], numRows: () => (Object.values(cols)[0] ?? []).length };
}

const tables: RetrievalTables = {
  movies: table({
    movieId: [10, 20, 30, 40],
    year: [1995, 1995, 0, 1980],
    genres: ['Action|Comedy', 'Drama', '', 'Comedy'],
  }),
  users: table({ userId: [1, 2], gender: ['M', 'F'], age: [25, 35], occupation: ['writer', 'artist'] }),
};

afterAll(async () => {
  await tf.setBackend('cpu');
});

test('config: defaults; bad values are named with the field and value', () => {
  const c = twoTowerConfig();
  expect([c.logQ, c.normalize, c.temperature, c.vectorDim]).toEqual([true, true, 0.1, 64]);
  expect(() => twoTowerConfig({ temperature: 0 })).toThrow(
    /TwoTowerConfig.temperature must be a finite number > 0, got 0/,
  );
  expect(() => twoTowerConfig({ heads: 3 })).toThrow(/heads \(3\) must divide dim \(64\)/);
  expect(() => twoTowerConfig({ logQ: 'yes' as any })).toThrow(/TwoTowerConfig.logQ must be true or false, got "yes"/);
  expect(() => twoTowerConfig({ vectorDim: 2.5 })).toThrow(ConfigError);
  expect(() => twoTowerConfig({ selectBy: 'hr' as any })).toThrow(/selectBy must be 'ndcg10' or 'recall100', got "hr"/);
});

test('features: genre multi-hot and year per item index; users by raw id; unknown movie all zeros', () => {
  const f = retrievalFeatures(tables, Int32Array.from([-1, 10, 40, 99]));
  expect(f.genres).toEqual(['Action', 'Comedy', 'Drama']);
  expect(Array.from(f.itemGenres)).toEqual([0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0]);
  expect(f.itemYear[1]).toBeGreaterThan(0);
  expect(f.itemYear[2]).toBeGreaterThan(0);
  expect(f.itemYear[2]).not.toBe(f.itemYear[1]);
  expect(f.itemYear[3]).toBe(0);
  expect(f.users!.byUserId.get(2)).toEqual([2, 2, 2]);
  expect(retrievalFeatures({ movies: tables.movies }, Int32Array.from([-1, 10])).users).toBeUndefined();
});

test('towers: shapes from config and vocabularies, unit vectors, user features optional, no leaks', async () => {
  await tf.setBackend('cpu');
  const f = retrievalFeatures(tables, Int32Array.from([-1, 10, 20, 30, 40]));
  for (const userFeatures of [true, false]) {
    const m = createTwoTower(
      twoTowerConfig({ maxLen: 5, dim: 8, vectorDim: 6, userFeatureDim: 3, userFeatures, seed: 1 }),
      f,
    );
    expect(m.useUsers).toBe(userFeatures);
    expect(m.userW.shape).toEqual([userFeatures ? 8 + 9 : 8, 6]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const ids = tf.tensor2d([0, 0, 1, 2, 3, 0, 4, 3, 2, 1], [2, 5], 'int32');
      const u = userTower(m, ids, userFeatures ? tf.tensor2d([1, 1, 1, 0, 0, 0], [2, 3], 'int32') : undefined); // [2, 5, 6]
      expect(u.shape).toEqual([2, 5, 6]);
      const v = movieTower(m, tf.tensor1d([1, 2, 3], 'int32'));
      expect(v.shape).toEqual([3, 6]);
      const norms = tf.norm(v, 'euclidean', 1).arraySync() as number[];
      for (const n of norms) expect(n).toBeCloseTo(1, 5);
    });
    expect(tf.memory().numTensors).toBe(before);
    if (userFeatures)
      expect(() => tf.tidy(() => userTower(m, tf.tensor2d([1, 2, 3, 4, 1], [1, 5], 'int32')))).toThrow(/pass userIdx/);
    disposeTwoTower(m);
  }
});

test('batchCandidates: distinct positives in order, extras appended without duplicates', () => {
  const c = batchCandidates([5, 3, 5, 7], [3, 9]);
  expect(Array.from(c.items)).toEqual([5, 3, 7, 9]);
  expect(Array.from(c.labels)).toEqual([0, 1, 0, 2]);
});

/**
 * A toy world: 8 clusters of 10 movies with skewed cluster sizes of users; each user watches movies of one
 * cluster (uniformly, no repeats). Popularity ranks the big clusters' movies first; a model of the history
 * knows the user's cluster.
 */
function toyEvents(): { events: RawEvents; tables: RetrievalTables } {
  const rng = new Rng(5);
  const userId: number[] = [],
    movieId: number[] = [],
    timestamp: number[] = [];
  for (let u = 1; u <= 240; u++) {
    const cluster = Math.min(7, Math.floor(-Math.log(1 - rng.next()) * 2.5));
    const movies = rng.shuffle(Array.from({ length: 10 }, (_, i) => 100 + cluster * 10 + i)).slice(0, 8);
    movies.forEach((m, t) => {
      userId.push(u);
      movieId.push(m);
      timestamp.push(1000 * u + t);
    });
  }
  const ids = Array.from({ length: 80 }, (_, i) => 100 + i);
  return {
    events: { userId, movieId, timestamp },
    tables: { movies: table({ movieId: ids, year: ids.map(() => 0), genres: ids.map(() => '') }) },
  };
}

test('training on a toy world: recall beats popularity; same seed, same metrics; retriever excludes history', async () => {
  await initBackend({ choice: 'wasm', log: () => {} });
  const { events, tables: t } = toyEvents();
  const split = leaveOneOutSplit(events);
  const f = retrievalFeatures(t, split.itemIds);
  expect(f.users).toBeUndefined(); // sequence-only data
  expect(twoTowerWindows(split.val.fit, 10).n).toBe(240);
  const config = twoTowerConfig({
    maxLen: 10,
    dim: 16,
    vectorDim: 16,
    batchSize: 32,
    epochs: 3,
    evalEvery: 3,
    learningRate: 5e-3,
    dropout: 0.1,
    seed: 2,
  });
  const run = (epochs: number) =>
    trainTwoTower({ config: { ...config, epochs }, features: f, fit: split.val.fit, val: split.val.cases });
  const a = run(3);
  const b = run(1);
  const b2 = run(1);
  expect(b2.history).toHaveLength(1);
  expect({ ...b2.history[0], seconds: 0 }).toEqual({ ...b.history[0], seconds: 0 }); // same seed: same loss and metrics
  const V = split.numItems;
  const tt = recallAtM(twoTowerScorer(a.model, split.test.cases), split.test.cases, { numItems: V, ms: [10] })
    .recall[10];
  const pop = recallAtM(popularityNextItem(split.test.fit, V), split.test.cases, { numItems: V, ms: [10] }).recall[10];
  expect(tt).toBeGreaterThan(pop + 0.15); // about 0.57 vs 0.32
  expect(
    evaluateNextItem(twoTowerScorer(a.model), split.test.cases, { numItems: V, fit: split.test.fit }).hr10,
  ).toBeCloseTo(tt, 10);
  const r = twoTowerRetriever(a.model);
  const c0 = split.test.cases[0];
  const top = r.retrieve(c0.input, 20, c0.input);
  expect(top.length).toBe(20);
  for (const j of top) {
    expect(j).toBeGreaterThan(0);
    expect(Array.from(c0.input)).not.toContain(j);
  }
  for (const r of [a, b, b2]) disposeTwoTower(r.model);
});

test('trainAndExportVectors: vectors of every catalogue movie and user; users from their latest history; top-M from the reloaded vectors skips the history', async () => {
  await initBackend({ choice: 'wasm', log: () => {} });
  const { events, tables: t } = toyEvents();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-tt-'));
  try {
    const ratings = table(events as unknown as Record<string, unknown[]>);
    const config = twoTowerConfig({
      maxLen: 10,
      dim: 16,
      vectorDim: 8,
      batchSize: 64,
      epochs: 1,
      evalEvery: 1,
      seed: 4,
    });
    const r = trainAndExportVectors({ dataset: { ...t, ratings }, out: dir, config });
    const v = loadVectors(dir);
    const split = leaveOneOutSplit(events);
    expect(r.movies).toBe(split.numItems - 1);
    expect(Array.from(v.movies.ids)).toEqual(Array.from(split.itemIds.slice(1)));
    expect(v.users.ids.length).toBe(240);
    expect(v.dim).toBe(8);
    // the user's latest history holds the held-out items too
    const h = latestHistories(split);
    expect(h.items[0].length).toBe(8);
    expect(h.items[0][7]).toBe(split.test.cases[0].target);
    // the exported user vector of user 1, against exported movies, excluding their history (rows = item index - 1)
    const top = retrieveTopM(
      v.users.vectors.subarray(0, 8),
      v.movies.vectors,
      15,
      Array.from(h.items[0], (j) => j - 1),
    );
    expect(top.length).toBe(15);
    for (const row of top) expect(Array.from(h.items[0])).not.toContain(row + 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
