/**
 * Side features of the two towers, indexed like a next-item split's catalogue (lib/eval/next-item): per item
 * index the genre multi-hot and a release-year index; per raw userId the gender, age and occupation indices.
 * Every vocabulary is built here from the Dataset's tables; index 0 of each is unknown (a movie missing from
 * the movies file, a user missing from the users file, a release without users).
 */
import { ConfigError } from '../util/errors';
import { genreList } from '../data/load';

/** The tables of a Dataset that the towers read (anything with `array(name)` and `numRows()`). */
export interface RetrievalTables {
  /** movieId, year (0 = none), genres ('|'-joined) */
  movies: { array(name: string): ArrayLike<unknown>; numRows(): number };
  /** userId, gender, age, occupation; absent when the release has no users file */
  users?: { array(name: string): ArrayLike<unknown>; numRows(): number };
}

/** User features: vocabulary sizes (+1 for unknown) and each known user's indices. */
export interface UserFeatures {
  numGenders: number;
  numAges: number;
  numOccupations: number;
  /** raw userId -> [gender, age, occupation] indices */
  byUserId: Map<number, [number, number, number]>;
}

/** Side features of a catalogue. */
export interface RetrievalFeatures {
  /** catalogue size including index 0 */
  numItems: number;
  /** raw movieId per item index (index 0 = -1) */
  itemIds: Int32Array;
  /** genre names; genre g is multi-hot column g */
  genres: string[];
  /** [numItems * genres.length] genre multi-hot per item index */
  itemGenres: Float32Array;
  /** distinct years + 1 (index 0 = unknown) */
  numYears: number;
  /** [numItems] release-year index per item index */
  itemYear: Int32Array;
  /** absent: sequence-only data (no users file) */
  users?: UserFeatures;
}

function indexOf<K>(map: Map<K, number>, key: K): number {
  let j = map.get(key);
  if (j === undefined) {
    j = map.size + 1;
    map.set(key, j);
  }
  return j;
}

/** Build the features of catalogue `itemIds` (a NextItemSplit's) from a Dataset's movies and users tables. */
export function retrievalFeatures(tables: RetrievalTables, itemIds: Int32Array): RetrievalFeatures {
  if (itemIds.length < 2)
    throw new ConfigError(`retrievalFeatures: the catalogue has ${itemIds.length - 1} items; need at least 1`);
  const V = itemIds.length;
  const mid = tables.movies.array('movieId') as ArrayLike<number>;
  const year = tables.movies.array('year') as ArrayLike<number>;
  const gen = tables.movies.array('genres') as ArrayLike<string>;
  const row = new Map<number, number>();
  for (let r = 0; r < mid.length; r++) row.set(mid[r], r);
  const genreNames = new Set<string>();
  for (let r = 0; r < gen.length; r++) for (const g of genreList(gen[r])) genreNames.add(g);
  const genres = Array.from(genreNames).sort();
  const G = genres.length;
  const gIdx = new Map(genres.map((g, i) => [g, i] as [string, number]));
  const itemGenres = new Float32Array(V * G);
  const itemYear = new Int32Array(V);
  const years = new Map<number, number>();
  for (let j = 1; j < V; j++) {
    const r = row.get(itemIds[j]);
    if (r === undefined) continue;
    for (const g of genreList(gen[r])) itemGenres[j * G + gIdx.get(g)!] = 1;
    if (year[r] > 0) itemYear[j] = indexOf(years, year[r]);
  }
  const out: RetrievalFeatures = { numItems: V, itemIds, genres, itemGenres, numYears: years.size + 1, itemYear };
  if (tables.users && tables.users.numRows() > 0) {
    const uid = tables.users.array('userId') as ArrayLike<number>;
    const gender = tables.users.array('gender') as ArrayLike<string>;
    const age = tables.users.array('age') as ArrayLike<number>;
    const occ = tables.users.array('occupation') as ArrayLike<string>;
    const gm = new Map<string, number>(),
      am = new Map<number, number>(),
      om = new Map<string, number>();
    const byUserId = new Map<number, [number, number, number]>();
    for (let r = 0; r < uid.length; r++)
      byUserId.set(uid[r], [indexOf(gm, gender[r]), indexOf(am, age[r]), indexOf(om, occ[r])]);
    out.users = { numGenders: gm.size + 1, numAges: am.size + 1, numOccupations: om.size + 1, byUserId };
  }
  return out;
}
