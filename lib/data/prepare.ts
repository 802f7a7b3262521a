/**
 * From a loaded `Dataset` to model-ready data: per-user time-ordered runs (ties broken by movieId), a split
 * (leave-last-k or the leaky legacy windows), vocabularies built from training data only, feature tables,
 * and streamed batches cut per batch from target positions (never every window at once).
 */
import { Dataset, Table, genreList } from './load';
import { FeatureSizes, Interactions, Samples, SplitIndex } from './types';
import { SplitCounts, SplitResult, formatSplitCounts, leaveLastK, legacyWindows } from './split';
import { Vocab, Vocabs, zipPrefix } from './vocab';
import { BatchOptions, FeatureTables, gatherSamples, iterateBatches } from './samples';
import { ConfigError } from '../util/errors';

/** Split protocols. */
export type Protocol = 'leave-last-k' | 'legacy-random-windows';

/** Options of `prepareData`. */
export interface PrepareOptions {
  dataset: Dataset;
  /** default 'leave-last-k' */
  protocol?: Protocol;
  /** leave-last-k: ratings per user held out for test (and as many for validation); default 1 */
  k?: number;
  /** L: history length + 1 (the target) */
  seqLen: number;
  /** legacy: window step; default 2 (the Keras example) */
  step?: number;
  /** legacy: shuffle seed; default 42 */
  seed?: number;
  /** legacy: fraction of training windows carved out as validation; default 0.1 */
  valFraction?: number;
  /** zip feature: characters kept of numeric zip codes; default 1 */
  zipPrefixLength?: number;
  /** reuse saved vocabularies (e.g. a trained model's) instead of building them from the training split */
  vocabs?: Vocabs;
  /** print the split counts (true: console.log; or a logger function) */
  verbose?: boolean | ((line: string) => void);
}

/** Everything the model needs. */
export interface PreparedData {
  interactions: Interactions;
  split: SplitIndex;
  vocabs: Vocabs;
  sizes: FeatureSizes;
  features: FeatureTables;
  counts: SplitCounts;
  seqLen: number;
  /** target positions of a split */
  positions(which: 'train' | 'val' | 'test'): Int32Array;
  /** stream batches of a split (shuffle defaults to false; last partial batch kept) */
  batches(which: 'train' | 'val' | 'test', opts: BatchOptions): Generator<Samples, void, undefined>;
  /** samples of arbitrary target positions */
  gather(positions: ArrayLike<number>): Samples;
}

type NumArray = Int32Array | Float32Array | Float64Array;

function typedColumn<T extends NumArray>(
  t: Table,
  name: string,
  Ctor: { new (n: number): T; from(a: ArrayLike<number>): T },
): T {
  const c = t.column(name) as unknown;
  if (!c) throw new ConfigError(`table lacks column "${name}"`);
  if (!t.isFiltered() && !t.isOrdered() && c instanceof (Ctor as any)) return c as T;
  return Ctor.from(t.array(name) as ArrayLike<number>);
}

function stringColumn(t: Table, name: string): string[] {
  return Array.from(t.array(name) as ArrayLike<string>, (v) => (v == null ? '' : String(v)));
}

/** The users table as typed columns: ids, gender, age group, occupation, zip. */
function userColumns(users: Table) {
  return {
    uIds: typedColumn(users, 'userId', Int32Array),
    uG: stringColumn(users, 'gender'),
    uA: typedColumn(users, 'age', Int32Array),
    uO: stringColumn(users, 'occupation'),
    uZ: stringColumn(users, 'zip'),
  };
}

/** Sort rows into per-user runs: users by ascending userId, each run by (timestamp, movieId). */
export function sortIntoRuns(userId: Int32Array, movieId: Int32Array, timestamp: Float64Array) {
  const n = userId.length;
  let maxU = 0;
  for (let i = 0; i < n; i++) if (userId[i] > maxU) maxU = userId[i];
  const cnt = new Int32Array(maxU + 2);
  for (let i = 0; i < n; i++) cnt[userId[i] + 1]++;
  const dense = new Int32Array(maxU + 1).fill(-1);
  const rawIds: number[] = [];
  const starts: number[] = [0];
  let acc = 0;
  for (let id = 0; id <= maxU; id++) {
    const c = cnt[id + 1];
    if (c > 0) {
      dense[id] = rawIds.length;
      rawIds.push(id);
      acc += c;
      starts.push(acc);
    }
  }
  const D = rawIds.length;
  const offsets = Int32Array.from(starts);
  const fill = offsets.slice(0, D);
  const perm = new Int32Array(n);
  const dOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = dense[userId[i]];
    const p = fill[d]++;
    perm[p] = i;
    dOf[p] = d;
  }
  const cmp = (a: number, b: number) => timestamp[a] - timestamp[b] || movieId[a] - movieId[b];
  // fast path: pack (timestamp, movieId) into one float64 key and sort keys natively; a run whose keys are
  // not unique integers in range falls back to the comparator sort
  const SHIFT = 1048576; // 2^20 > movieId
  let maxMovie = 0;
  let packable = true;
  for (let i = 0; i < n; i++) {
    const m = movieId[i];
    if (m > maxMovie) maxMovie = m;
    const t = timestamp[i];
    if (m < 0 || m >= SHIFT || !(t >= 0 && t < 8589934592) || t !== Math.floor(t)) packable = false;
  }
  const rowOfMovie = packable ? new Int32Array(maxMovie + 1) : new Int32Array(0);
  const runOfMovie = packable ? new Int32Array(maxMovie + 1).fill(-1) : new Int32Array(0);
  let keys = new Float64Array(64);
  for (let d = 0; d < D; d++) {
    const s = offsets[d],
      e = offsets[d + 1];
    let sorted = true;
    for (let j = s + 1; j < e; j++) {
      if (cmp(perm[j - 1], perm[j]) > 0) {
        sorted = false;
        break;
      }
    }
    if (sorted) continue;
    const len = e - s;
    if (len <= 24) {
      for (let j = s + 1; j < e; j++) {
        const x = perm[j];
        let k = j - 1;
        while (k >= s && cmp(perm[k], x) > 0) {
          perm[k + 1] = perm[k];
          k--;
        }
        perm[k + 1] = x;
      }
      continue;
    }
    if (packable) {
      if (keys.length < len) keys = new Float64Array(len * 2);
      const kk = keys.subarray(0, len);
      let unique = true; // each movie at most once in the run, so a key names its row
      for (let j = 0; j < len; j++) {
        const row = perm[s + j];
        const m = movieId[row];
        kk[j] = timestamp[row] * SHIFT + m;
        if (runOfMovie[m] === d) unique = false;
        runOfMovie[m] = d;
        rowOfMovie[m] = row;
      }
      kk.sort();
      if (unique) {
        for (let j = 0; j < len; j++) perm[s + j] = rowOfMovie[kk[j] % SHIFT];
        continue;
      }
    }
    perm.subarray(s, e).sort(cmp);
  }
  return { perm, dOf, offsets, rawIds: Int32Array.from(rawIds) };
}

function buildVocabs(
  ds: Dataset,
  cols: { movieId: Int32Array; userId: Int32Array },
  perm: Int32Array,
  trainMask: Uint8Array,
  rawUserOfRun: Int32Array,
  trainUsers: Uint8Array,
  zipPrefixLength: number,
): Vocabs {
  // distinct training movies: a mark per movieId (ascending scan = sorted vocabulary), a Set for negative ids
  const mid = cols.movieId;
  let minM = 0,
    maxM = -1;
  for (let r = 0; r < mid.length; r++) {
    const m = mid[r];
    if (m < minM) minM = m;
    if (m > maxM) maxM = m;
  }
  let item: Vocab<number>;
  if (minM >= 0) {
    const seen = new Uint8Array(maxM + 1);
    for (let p = 0; p < perm.length; p++) if (trainMask[p]) seen[mid[perm[p]]] = 1;
    const ids: number[] = [];
    for (let m = 0; m <= maxM; m++) if (seen[m]) ids.push(m);
    item = new Vocab(ids);
  } else {
    const items = new Set<number>();
    for (let p = 0; p < perm.length; p++) if (trainMask[p]) items.add(mid[perm[p]]);
    item = Vocab.sorted(items);
  }
  const users: number[] = [];
  for (let d = 0; d < rawUserOfRun.length; d++) if (trainUsers[d]) users.push(rawUserOfRun[d]);
  const user = new Vocab(users); // already ascending
  // genre and year vocabularies from the training items' movie rows
  const mIds = typedColumn(ds.movies, 'movieId', Int32Array);
  const mGenres = stringColumn(ds.movies, 'genres');
  const mYear = typedColumn(ds.movies, 'year', Int32Array);
  const genres = new Set<string>();
  const years = new Set<number>();
  for (let r = 0; r < mIds.length; r++) {
    if (item.index(mIds[r]) === 0) continue;
    for (const g of genreList(mGenres[r])) genres.add(g);
    if (mYear[r] > 0) years.add(mYear[r]);
  }
  const gender = new Set<string>(),
    age = new Set<number>(),
    occupation = new Set<string>(),
    zip = new Set<string>();
  if (ds.users) {
    const { uIds, uG, uA, uO, uZ } = userColumns(ds.users);
    for (let r = 0; r < uIds.length; r++) {
      if (user.index(uIds[r]) === 0) continue;
      gender.add(uG[r]);
      age.add(uA[r]);
      occupation.add(uO[r]);
      const z = zipPrefix(uZ[r], zipPrefixLength);
      if (z !== '') zip.add(z);
    }
  }
  return {
    user,
    item,
    genre: Vocab.sorted(genres),
    year: Vocab.sorted(years),
    gender: Vocab.sorted(gender),
    age: Vocab.sorted(age),
    occupation: Vocab.sorted(occupation),
    zip: Vocab.sorted(zip),
    zipPrefixLength,
  };
}

/** Feature sizes (vocabulary sizes incl. the 0 slot; genres without one). */
export function featureSizes(v: Vocabs): FeatureSizes {
  return {
    numUsers: v.user.size,
    numItems: v.item.size,
    numGenres: v.genre.values.length,
    numYears: v.year.size,
    numGenders: v.gender.size,
    numAges: v.age.size,
    numOccupations: v.occupation.size,
    numZips: v.zip.size,
  };
}

/**
 * Build everything a model needs from a dataset: sort, split, build vocabularies from the training split,
 * encode, and expose batches. See split.ts for the protocols (legacy-random-windows is LEAKY).
 */
export function prepareData(opts: PrepareOptions): PreparedData {
  const ds = opts.dataset;
  const protocol = opts.protocol ?? 'leave-last-k';
  const L = opts.seqLen;
  if (!Number.isInteger(L) || L < 1)
    throw new ConfigError(`seqLen must be an integer >= 1 (1 = the target alone, no history), got ${L}`);
  const zipPrefixLength = opts.zipPrefixLength ?? 1;
  if (!Number.isInteger(zipPrefixLength) || zipPrefixLength < 1)
    throw new ConfigError(`zipPrefixLength must be an integer >= 1, got ${zipPrefixLength}`);

  const userId = typedColumn(ds.ratings, 'userId', Int32Array);
  const movieId = typedColumn(ds.ratings, 'movieId', Int32Array);
  const rating = typedColumn(ds.ratings, 'rating', Float32Array);
  const timestamp = typedColumn(ds.ratings, 'timestamp', Float64Array);
  const N = userId.length;

  // 1. provisional layout: dense users in userId order, runs sorted by (timestamp, movieId)
  const { perm, dOf, offsets: pOff, rawIds } = sortIntoRuns(userId, movieId, timestamp);
  const D = rawIds.length;

  // 2. split on the provisional layout
  let sp: SplitResult;
  switch (protocol) {
    case 'leave-last-k':
      sp = leaveLastK(pOff, opts.k ?? 1);
      break;
    case 'legacy-random-windows':
      sp = legacyWindows(pOff, {
        seqLen: L,
        step: opts.step ?? 2,
        seed: opts.seed ?? 42,
        valFraction: opts.valFraction,
      });
      break;
    default:
      throw new ConfigError(`unknown protocol "${protocol as string}"; use 'leave-last-k' or 'legacy-random-windows'`);
  }

  // 3. training mask (positions whose ratings training sees) and training users
  const trainMask = new Uint8Array(N);
  const trainUsers = new Uint8Array(D);
  if (protocol === 'leave-last-k') {
    for (const p of sp.train) trainMask[p] = 1;
  } else {
    for (const p of sp.train) {
      const s = pOff[dOf[p]];
      for (let q = Math.max(s, p - L + 1); q <= p; q++) trainMask[q] = 1;
    }
  }
  for (const p of sp.train) trainUsers[dOf[p]] = 1;
  const vocabs =
    opts.vocabs ?? buildVocabs(ds, { movieId, userId }, perm, trainMask, rawIds, trainUsers, zipPrefixLength);
  const sizes = featureSizes(vocabs);

  // 4. final layout: run r = vocabulary index for known users (empty runs for absent ones), unknown users after
  const V = vocabs.user.values.length;
  const runOf = new Int32Array(D);
  let next = V + 1;
  for (let d = 0; d < D; d++) {
    const r = vocabs.user.index(rawIds[d]);
    runOf[d] = r > 0 ? r : next++;
  }
  const numRuns = next;
  const userOffsets = new Int32Array(numRuns + 1);
  for (let d = 0; d < D; d++) userOffsets[runOf[d] + 1] = pOff[d + 1] - pOff[d];
  for (let r = 0; r < numRuns; r++) userOffsets[r + 1] += userOffsets[r];
  let identity = true;
  for (let d = 0; d < D && identity; d++) if (userOffsets[runOf[d]] !== pOff[d]) identity = false;
  const mapPos = (p: number) => userOffsets[runOf[dOf[p]]] + (p - pOff[dOf[p]]);

  // 5. encode
  let maxMovie = 0;
  for (let i = 0; i < N; i++) if (movieId[i] > maxMovie) maxMovie = movieId[i];
  const itemLookup = new Int32Array(maxMovie + 1);
  for (let m = 0; m <= maxMovie; m++) itemLookup[m] = vocabs.item.index(m);
  const interactions: Interactions = {
    userOffsets,
    user: new Int32Array(N),
    item: new Int32Array(N),
    rating: new Float32Array(N),
    timestamp: new Float64Array(N),
  };
  for (let p = 0; p < N; p++) {
    const row = perm[p];
    const q = identity ? p : mapPos(p);
    interactions.user[q] = runOf[dOf[p]];
    interactions.item[q] = itemLookup[movieId[row]];
    interactions.rating[q] = rating[row];
    interactions.timestamp[q] = timestamp[row];
  }
  const remap = (a: Int32Array) => (identity ? a : a.map(mapPos).sort());
  const split: SplitIndex = { protocol, train: remap(sp.train), val: remap(sp.val), test: remap(sp.test) };

  // 6. feature tables
  const G = sizes.numGenres;
  const itemGenres = new Float32Array(sizes.numItems * G);
  const itemYear = new Int32Array(sizes.numItems);
  {
    const mIds = typedColumn(ds.movies, 'movieId', Int32Array);
    const mGenres = stringColumn(ds.movies, 'genres');
    const mYear = typedColumn(ds.movies, 'year', Int32Array);
    for (let r = 0; r < mIds.length; r++) {
      const it = vocabs.item.index(mIds[r]);
      if (it === 0) continue;
      for (const g of genreList(mGenres[r])) {
        const gi = vocabs.genre.index(g);
        if (gi > 0) itemGenres[it * G + gi - 1] = 1;
      }
      itemYear[it] = vocabs.year.index(mYear[r]);
    }
  }
  const userGender = new Int32Array(numRuns);
  const userAge = new Int32Array(numRuns);
  const userOccupation = new Int32Array(numRuns);
  const userZip = new Int32Array(numRuns);
  if (ds.users) {
    const runByRaw = new Map<number, number>();
    for (let d = 0; d < D; d++) runByRaw.set(rawIds[d], runOf[d]);
    for (let r = 1; r <= V; r++) runByRaw.set(vocabs.user.values[r - 1], r);
    const { uIds, uG, uA, uO, uZ } = userColumns(ds.users);
    for (let i = 0; i < uIds.length; i++) {
      const r = runByRaw.get(uIds[i]);
      if (r === undefined) continue;
      userGender[r] = vocabs.gender.index(uG[i]);
      userAge[r] = vocabs.age.index(uA[i]);
      userOccupation[r] = vocabs.occupation.index(uO[i]);
      userZip[r] = vocabs.zip.index(zipPrefix(uZ[i], vocabs.zipPrefixLength));
    }
  }
  const features: FeatureTables = { itemGenres, itemYear, userGender, userAge, userOccupation, userZip };

  const counts = sp.counts;
  if (opts.verbose) {
    const log = typeof opts.verbose === 'function' ? opts.verbose : (s: string) => console.log(s);
    log(formatSplitCounts(counts));
  }
  const base = { interactions, features, sizes, seqLen: L };
  const positions = (which: 'train' | 'val' | 'test'): Int32Array => {
    switch (which) {
      case 'train':
        return split.train;
      case 'val':
        return split.val;
      case 'test':
        return split.test;
      default:
        throw new ConfigError(`unknown split "${which as string}"; use 'train', 'val' or 'test'`);
    }
  };
  return {
    interactions,
    split,
    vocabs,
    sizes,
    features,
    counts,
    seqLen: L,
    positions,
    batches: (which, bopts) => iterateBatches(base, positions(which), bopts),
    gather: (pos) => gatherSamples({ ...base, positions: pos }),
  };
}
