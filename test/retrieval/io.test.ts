/** Saving and loading a two-tower model (lib/retrieval/io): identical scores after a round trip; mismatches named. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/kernels/backend';
import {
  RetrievalTables, createTwoTower, disposeTwoTower, hasTwoTower, loadTwoTower, retrievalFeatures, saveTwoTower, twoTowerConfig, twoTowerScores,
} from '../../lib/retrieval';
import { DataError } from '../../lib/util/errors';

function table(cols: Record<string, unknown[]>): { array(n: string): unknown[]; numRows(): number } {
  return { array: (n) => cols[n], numRows: () => (Object.values(cols)[0] ?? []).length };
}

const tables: RetrievalTables = {
  movies: table({ movieId: [10, 20, 30, 40, 50], year: [1995, 1995, 0, 1980, 1990], genres: ['Action|Comedy', 'Drama', '', 'Comedy', 'Drama|Action'] }),
  users: table({ userId: [1, 2], gender: ['M', 'F'], age: [25, 35], occupation: ['writer', 'artist'] }),
};

let dir: string;
beforeAll(async () => {
  await initBackend({ choice: 'cpu' });
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-twotower-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('save/load round trip: the loaded model (different seed at creation) scores exactly like the saved one', () => {
  const features = retrievalFeatures(tables, Int32Array.from([-1, 10, 20, 30, 40, 50]));
  const a = createTwoTower(twoTowerConfig({ maxLen: 4, dim: 8, vectorDim: 4, userFeatureDim: 2, seed: 3 }), features);
  const hist = [Int32Array.from([1, 2]), Int32Array.from([3, 4, 5])];
  const before = twoTowerScores(a, hist, [1, 2]);
  expect(hasTwoTower(dir)).toBe(false);
  saveTwoTower(a, dir, { bestEpoch: 7 });
  expect(fs.readdirSync(dir).sort()).toEqual(['twotower.bin', 'twotower.json']);
  expect(fs.statSync(path.join(dir, 'twotower.bin')).size).toBe(a.vars.reduce((s, v) => s + v.size, 0) * 4);
  const { model: b, meta } = loadTwoTower(dir, features);
  expect(meta).toEqual({ bestEpoch: 7 });
  expect(b.config).toEqual(a.config);
  expect(Array.from(twoTowerScores(b, hist, [1, 2]))).toEqual(Array.from(before));
  // a fresh model of another seed scores differently, so the equality above comes from the loaded weights
  const c = createTwoTower(twoTowerConfig({ ...a.config, seed: 4 }), features);
  expect(Array.from(twoTowerScores(c, hist, [1, 2]))).not.toEqual(Array.from(before));
  [a, b, c].forEach(disposeTwoTower);
});

test('loadTwoTower: another catalogue, a truncated bin and a wrong format are DataErrors naming the file', () => {
  const features = retrievalFeatures(tables, Int32Array.from([-1, 10, 20, 30, 40, 50]));
  const a = createTwoTower(twoTowerConfig({ maxLen: 4, dim: 8, vectorDim: 4, userFeatureDim: 2 }), features);
  saveTwoTower(a, dir);
  disposeTwoTower(a);
  const smaller = retrievalFeatures(tables, Int32Array.from([-1, 10, 20]));
  expect(() => loadTwoTower(dir, smaller)).toThrow(/twotower\.json: numItems is 6, the features' catalogue has 3/);
  const tensors = tf.memory().numTensors;
  const bin = path.join(dir, 'twotower.bin');
  fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 40));
  expect(() => loadTwoTower(dir, features)).toThrow(DataError);
  expect(() => loadTwoTower(dir, features)).toThrow(/twotower\.bin: holds 10 float32 values/);
  const json = path.join(dir, 'twotower.json');
  fs.writeFileSync(json, JSON.stringify({ ...JSON.parse(fs.readFileSync(json, 'utf8')), format: 'x' }));
  expect(() => loadTwoTower(dir, features)).toThrow(/format is "x", expected bst-lab\/twotower@1/);
  expect(tf.memory().numTensors).toBe(tensors); // a failed load frees the model it built
});
