/**
 * Exported user and movie vectors, and exact top-M retrieval by inner product.
 *
 * Format (version 1) of a vectors folder:
 *
 * - `vectors.json`: `{ format: "bst-vectors", version: 1, dtype: "float32", byteOrder: "little", dim,
 *   normalized, temperature, movies: { file, rows, ids, sha256 }, users: { file, rows, ids, sha256 }, meta }`.
 *   `ids[r]` is the raw movieId / userId of row r; `sha256` is the hex SHA-256 of the whole .bin file;
 *   `normalized` says whether rows are unit length; `meta` is free-form (model config, dataset).
 * - `movies.bin`, `users.bin`: rows x dim little-endian IEEE-754 float32, row-major, no header.
 *
 * Scores are inner products `user . movie` (the model's logit times its temperature). Files are written
 * atomically, the .bin files first and vectors.json last, so a folder with a vectors.json is complete; the
 * loader checks sizes and checksums and throws a DataError naming the file and the bad value.
 * docs/vectors.md describes the same format for readers outside TypeScript.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError, DataError } from '../util/errors';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/files';

/** Name of the manifest in a vectors folder. */
export const VECTORS_MANIFEST = 'vectors.json';

/** One table of vectors: raw ids and their rows. */
export interface VectorTable {
  /** raw movieId / userId per row */
  ids: Int32Array;
  /** [ids.length * dim] row-major */
  vectors: Float32Array;
}

/** User and movie vectors of one model. */
export interface VectorSet {
  dim: number;
  /** rows are unit length (cosine scores) */
  normalized: boolean;
  /** the model's softmax temperature (inner product / temperature = logit) */
  temperature: number;
  movies: VectorTable;
  users: VectorTable;
  /** free-form description (model config, data) */
  meta?: Record<string, unknown>;
}

interface TableEntry {
  file: string;
  rows: number;
  ids: number[];
  sha256: string;
}

interface Manifest {
  format: 'bst-vectors';
  version: 1;
  dtype: 'float32';
  byteOrder: 'little';
  dim: number;
  normalized: boolean;
  temperature: number;
  movies: TableEntry;
  users: TableEntry;
  meta?: Record<string, unknown>;
}

function toLittleEndian(v: Float32Array): Uint8Array {
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setFloat32(i * 4, v[i], true);
  return out;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function checkTable(t: VectorTable, dim: number, name: string): void {
  if (t.vectors.length !== t.ids.length * dim) {
    throw new ConfigError(`exportVectors: ${name} has ${t.vectors.length} values for ${t.ids.length} ids x dim ${dim}`);
  }
  for (let i = 0; i < t.vectors.length; i++) {
    if (!Number.isFinite(t.vectors[i]))
      throw new ConfigError(
        `exportVectors: ${name} row ${Math.floor(i / dim)} (id ${t.ids[Math.floor(i / dim)]}) holds ${t.vectors[i]}`,
      );
  }
}

/** Write a vector set to folder `dir` in the format above (atomically; vectors.json last). */
export function exportVectors(dir: string, v: VectorSet): void {
  if (!(Number.isInteger(v.dim) && v.dim >= 1))
    throw new ConfigError(`exportVectors: dim must be an integer >= 1, got ${v.dim}`);
  checkTable(v.movies, v.dim, 'movies');
  checkTable(v.users, v.dim, 'users');
  const entry = (t: VectorTable, file: string): TableEntry => {
    const bytes = toLittleEndian(t.vectors);
    writeFileAtomic(path.join(dir, file), bytes);
    return { file, rows: t.ids.length, ids: Array.from(t.ids), sha256: sha256(bytes) };
  };
  const manifest: Manifest = {
    format: 'bst-vectors',
    version: 1,
    dtype: 'float32',
    byteOrder: 'little',
    dim: v.dim,
    normalized: v.normalized,
    temperature: v.temperature,
    movies: entry(v.movies, 'movies.bin'),
    users: entry(v.users, 'users.bin'),
  };
  if (v.meta) manifest.meta = v.meta;
  writeJsonAtomic(path.join(dir, VECTORS_MANIFEST), manifest);
}

function readTable(dir: string, m: Manifest, key: 'movies' | 'users', manifestFile: string): VectorTable {
  const e = m[key];
  if (
    !e ||
    typeof e.file !== 'string' ||
    !Array.isArray(e.ids) ||
    !(Number.isInteger(e.rows) && e.rows >= 0) ||
    e.ids.length !== e.rows
  ) {
    throw new DataError(
      `"${key}" must hold file, rows and rows ids, got ${JSON.stringify(e && { file: e.file, rows: e.rows, ids: Array.isArray(e.ids) ? e.ids.length : e.ids })}`,
      manifestFile,
    );
  }
  if (path.basename(e.file) !== e.file)
    throw new DataError(
      `"${key}".file must be a file name inside the folder, got ${JSON.stringify(e.file)}`,
      manifestFile,
    );
  const file = path.join(dir, e.file);
  if (!fs.existsSync(file)) throw new DataError(`missing vector file ${e.file} named by ${VECTORS_MANIFEST}`, file);
  const bytes = fs.readFileSync(file);
  const want = e.rows * m.dim * 4;
  if (bytes.length !== want) {
    throw new DataError(
      `holds ${bytes.length} bytes; ${VECTORS_MANIFEST} says ${e.rows} rows x dim ${m.dim} x 4 = ${want} (truncated or from another export)`,
      file,
    );
  }
  const sum = sha256(bytes);
  if (sum !== e.sha256)
    throw new DataError(
      `checksum mismatch: sha256 ${sum}, ${VECTORS_MANIFEST} says ${e.sha256} (the file is corrupt)`,
      file,
    );
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vectors = new Float32Array(e.rows * m.dim);
  for (let i = 0; i < vectors.length; i++) vectors[i] = dv.getFloat32(i * 4, true);
  const ids = Int32Array.from(e.ids);
  for (let r = 0; r < ids.length; r++) {
    if (ids[r] !== e.ids[r])
      throw new DataError(`"${key}".ids[${r}] is not an int32 id: ${JSON.stringify(e.ids[r])}`, manifestFile);
  }
  return { ids, vectors };
}

/** Read a vectors folder written by exportVectors; throws a DataError naming the file for anything missing, malformed or corrupt. */
export function loadVectors(dir: string): VectorSet {
  const manifestFile = path.join(dir, VECTORS_MANIFEST);
  if (!fs.existsSync(manifestFile))
    throw new DataError(
      `no ${VECTORS_MANIFEST} in ${dir}: not a vectors folder (write one with exportVectors or \`bst retrieve-export\`)`,
      manifestFile,
    );
  const m = readJson<Manifest>(manifestFile);
  if (!m || m.format !== 'bst-vectors')
    throw new DataError(`format must be "bst-vectors", got ${JSON.stringify(m?.format)}`, manifestFile);
  if (m.version !== 1)
    throw new DataError(
      `version ${JSON.stringify(m.version)} is not supported (this reader knows version 1)`,
      manifestFile,
    );
  if (m.dtype !== 'float32' || m.byteOrder !== 'little')
    throw new DataError(
      `dtype/byteOrder must be float32/little, got ${JSON.stringify(m.dtype)}/${JSON.stringify(m.byteOrder)}`,
      manifestFile,
    );
  if (!(Number.isInteger(m.dim) && m.dim >= 1))
    throw new DataError(`dim must be an integer >= 1, got ${JSON.stringify(m.dim)}`, manifestFile);
  const out: VectorSet = {
    dim: m.dim,
    normalized: Boolean(m.normalized),
    temperature: Number(m.temperature),
    movies: readTable(dir, m, 'movies', manifestFile),
    users: readTable(dir, m, 'users', manifestFile),
  };
  if (m.meta) out.meta = m.meta;
  return out;
}

/**
 * The `m` rows of `movieVecs` ([rows * dim], dim = userVec.length) with the largest inner product with
 * `userVec`, best first (ties by ascending row), skipping the rows in `exclude`. Exact: scans every row.
 */
export function retrieveTopM(
  userVec: ArrayLike<number>,
  movieVecs: Float32Array,
  m: number,
  exclude: ArrayLike<number> = [],
): Int32Array {
  const d = userVec.length;
  if (!(d >= 1 && movieVecs.length % d === 0))
    throw new ConfigError(`retrieveTopM: ${movieVecs.length} movie values are not rows of the user vector's dim ${d}`);
  if (!(Number.isInteger(m) && m >= 0)) throw new ConfigError(`retrieveTopM: m must be an integer >= 0, got ${m}`);
  const rows = movieVecs.length / d;
  const skip = new Uint8Array(rows);
  for (let i = 0; i < exclude.length; i++) if (exclude[i] >= 0 && exclude[i] < rows) skip[exclude[i]] = 1;
  const k = Math.min(m, rows);
  const idx = new Int32Array(k);
  const val = new Float64Array(k);
  let n = 0;
  for (let r = 0; r < rows; r++) {
    if (skip[r]) continue;
    let s = 0;
    const o = r * d;
    for (let t = 0; t < d; t++) s += userVec[t] * movieVecs[o + t];
    if (n === k && !(s > val[k - 1])) continue;
    let p = n === k ? k - 1 : n++;
    while (p > 0 && s > val[p - 1]) {
      idx[p] = idx[p - 1];
      val[p] = val[p - 1];
      p--;
    }
    idx[p] = r;
    val[p] = s;
  }
  return idx.slice(0, n);
}
