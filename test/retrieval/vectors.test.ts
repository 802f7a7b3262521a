/** Vector export (lib/retrieval/vectors): round trip gives identical top-M; corrupt or missing files are named. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VectorSet, exportVectors, loadVectors, retrieveTopM } from '../../lib/retrieval';
import { DataError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';

function randomSet(rows: number, users: number, dim: number): VectorSet {
  const rng = new Rng(9);
  const vec = (n: number) => Float32Array.from({ length: n * dim }, () => rng.normal());
  return {
    dim,
    normalized: false,
    temperature: 0.1,
    movies: { ids: Int32Array.from({ length: rows }, (_, i) => 1000 + i), vectors: vec(rows) },
    users: { ids: Int32Array.from({ length: users }, (_, i) => 1 + i), vectors: vec(users) },
    meta: { note: 'test' },
  };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-vectors-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('retrieveTopM: exact inner-product order, exclusions skipped, ties by row, m past the end', () => {
  const movies = Float32Array.from([1, 0, 0, 1, 1, 1, 0.5, 0.5, 1, 0]); // rows 0..4 of dim 2; row 4 ties row 0
  expect(Array.from(retrieveTopM([1, 0.1], movies, 3))).toEqual([2, 0, 4]);
  expect(Array.from(retrieveTopM([1, 0.1], movies, 3, [2]))).toEqual([0, 4, 3]);
  expect(Array.from(retrieveTopM([1, 0.1], movies, 10, [0]))).toEqual([2, 4, 3, 1]);
  expect(() => retrieveTopM([1, 0, 0], movies, 2)).toThrow(/not rows of the user vector's dim 3/);
});

test('export/load round trip: identical bytes, ids and top-M for every user', () => {
  const v = randomSet(300, 25, 16);
  exportVectors(dir, v);
  expect(fs.readdirSync(dir).sort()).toEqual(['movies.bin', 'users.bin', 'vectors.json']); // no temporary files left
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'vectors.json'), 'utf8'));
  expect([manifest.format, manifest.version, manifest.dtype, manifest.byteOrder, manifest.dim]).toEqual([
    'bst-vectors',
    1,
    'float32',
    'little',
    16,
  ]);
  expect(fs.statSync(path.join(dir, 'movies.bin')).size).toBe(300 * 16 * 4);
  // little-endian on disk whatever the platform
  expect(fs.readFileSync(path.join(dir, 'movies.bin')).readFloatLE(4)).toBe(v.movies.vectors[1]);
  const w = loadVectors(dir);
  expect(Array.from(w.movies.ids)).toEqual(Array.from(v.movies.ids));
  expect(Array.from(w.users.ids)).toEqual(Array.from(v.users.ids));
  expect(w.movies.vectors).toEqual(v.movies.vectors);
  expect(w.meta).toEqual({ note: 'test' });
  for (let u = 0; u < 25; u++) {
    const a = retrieveTopM(v.users.vectors.subarray(u * 16, (u + 1) * 16), v.movies.vectors, 50, [u]);
    const b = retrieveTopM(w.users.vectors.subarray(u * 16, (u + 1) * 16), w.movies.vectors, 50, [u]);
    expect(Array.from(b)).toEqual(Array.from(a));
  }
});

test('loadVectors: missing folder, corrupt bytes, truncated file, bad manifest are DataErrors naming the file', () => {
  expect(() => loadVectors(dir)).toThrow(/no vectors.json in .*not a vectors folder/);
  exportVectors(dir, randomSet(20, 3, 4));
  const bin = path.join(dir, 'movies.bin');
  const bytes = fs.readFileSync(bin);
  bytes[7] ^= 0xff;
  fs.writeFileSync(bin, bytes);
  expect(() => loadVectors(dir)).toThrow(DataError);
  expect(() => loadVectors(dir)).toThrow(/movies\.bin: checksum mismatch/);
  fs.writeFileSync(bin, bytes.subarray(0, 40));
  expect(() => loadVectors(dir)).toThrow(/movies\.bin: holds 40 bytes; vectors.json says 20 rows x dim 4 x 4 = 320/);
  fs.rmSync(bin);
  expect(() => loadVectors(dir)).toThrow(/missing vector file movies\.bin/);
  fs.writeFileSync(path.join(dir, 'vectors.json'), '{"format": "bst-vectors", "version": 2');
  expect(() => loadVectors(dir)).toThrow(/vectors\.json: not valid JSON/);
  fs.writeFileSync(path.join(dir, 'vectors.json'), '{"format": "bst-vectors", "version": 2}');
  expect(() => loadVectors(dir)).toThrow(/version 2 is not supported/);
  expect(() => exportVectors(dir, { ...randomSet(2, 1, 4), dim: 3 })).toThrow(/movies has 8 values for 2 ids x dim 3/);
});
