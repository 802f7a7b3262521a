/** Two-tower save/load (lib/retrieval/io): the reloaded model has the same weights, features and top-M; bad files are named. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  createTwoTower,
  disposeTwoTower,
  hasTwoTower,
  loadTwoTower,
  retrievalFeatures,
  RetrievalTables,
  saveTwoTower,
  twoTowerConfig,
  twoTowerRetriever,
} from '../../lib/retrieval';
import { DataError } from '../../lib/util/errors';
import { useCpu } from '../model/helpers';

beforeAll(useCpu);

function table(cols: Record<string, unknown[]>): { array(n: string): unknown[]; numRows(): number } {
  return { array: (n) => cols[n], numRows: () => (Object.values(cols)[0] ?? []).length };
}

const N = 40;
const tables: RetrievalTables = {
  movies: table({
    movieId: Array.from({ length: N }, (_, i) => 100 + i),
    year: Array.from({ length: N }, (_, i) => 1980 + (i % 7)),
    genres: Array.from({ length: N }, (_, i) => ['Action', 'Comedy|Drama', 'Drama', 'Action|Sci-Fi'][i % 4]),
  }),
  users: table({
    userId: [1, 2, 3],
    gender: ['M', 'F', 'F'],
    age: [25, 35, 18],
    occupation: ['writer', 'artist', 'writer'],
  }),
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-twotower-io-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('save/load round trip: same weights (not just the seeded init), features and top-M for histories with user features', () => {
  const features = retrievalFeatures(tables, Int32Array.from([-1, ...Array.from({ length: N }, (_, i) => 100 + i)]));
  const config = twoTowerConfig({ maxLen: 6, dim: 8, vectorDim: 4, heads: 2, userFeatureDim: 2, seed: 5 });
  const a = createTwoTower(config, features);
  // move every weight off its seeded initialisation: a loader that skipped the weights would still match the init
  a.vars.forEach((v, i) => v.assign(tf.tidy(() => tf.add(tf.mul(v, 1.5), 0.01 * (i + 1)))));
  saveTwoTower(a, dir, { note: 'test' });
  expect(hasTwoTower(dir)).toBe(true);
  expect(fs.readdirSync(dir).sort()).toEqual(['twotower.bin', 'twotower.json']); // no temporary files left
  const { model: b, meta } = loadTwoTower(dir);
  expect(meta).toEqual({ note: 'test' });
  expect(b.config).toEqual(a.config);
  expect(Array.from(b.features.itemIds)).toEqual(Array.from(a.features.itemIds));
  expect(Array.from(b.features.itemGenres)).toEqual(Array.from(a.features.itemGenres));
  expect(b.features.users!.byUserId.get(3)).toEqual(a.features.users!.byUserId.get(3));
  expect(b.vars.length).toBe(a.vars.length);
  a.vars.forEach((v, i) => expect(b.vars[i].dataSync()).toEqual(v.dataSync()));
  const ra = twoTowerRetriever(a);
  const rb = twoTowerRetriever(b);
  const histories = [[1, 5, 9], [2, 2, 30, 31], [40]];
  histories.forEach((h, j) => {
    const user = j + 1;
    expect(Array.from(rb.retrieve(h, 10, h, user))).toEqual(Array.from(ra.retrieve(h, 10, h, user)));
  });
  disposeTwoTower(a);
  disposeTwoTower(b);
});

test('loadTwoTower: wrong format and truncated weights are DataErrors naming the file', () => {
  const features = retrievalFeatures(tables, Int32Array.from([-1, 100, 101, 102]));
  const a = createTwoTower(twoTowerConfig({ maxLen: 4, dim: 4, vectorDim: 4, heads: 1, userFeatureDim: 2 }), features);
  saveTwoTower(a, dir);
  disposeTwoTower(a);
  const bin = path.join(dir, 'twotower.bin');
  fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 40));
  expect(() => loadTwoTower(dir)).toThrow(DataError);
  expect(() => loadTwoTower(dir)).toThrow(
    /twotower\.bin: holds 10 float32 values, the model described by twotower.json needs \d+/,
  );
  const json = path.join(dir, 'twotower.json');
  fs.writeFileSync(json, JSON.stringify({ ...JSON.parse(fs.readFileSync(json, 'utf8')), format: 'other@1' }));
  expect(() => loadTwoTower(dir)).toThrow(/twotower\.json: format is "other@1", expected bst-lab\/two-tower@1/);
});
