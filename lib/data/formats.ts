/**
 * Every MovieLens release GroupLens publishes, described in ONE table (`RELEASES`): files, separators,
 * encodings, columns, rating scale, whether users have demographics, download url and pinned checksum.
 * Loaders, the downloader, the synthetic generator and release detection all read this table.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DataError } from '../util/errors';

/** Names of the supported releases (the folder name under BST_DATA_DIR and the zip's base name). */
export type ReleaseName =
  'ml-100k' | 'ml-1m' | 'ml-10m' | 'ml-20m' | 'ml-25m' | 'ml-32m' | 'ml-latest' | 'ml-latest-small';

/** File layouts: how ratings, movies and users files are written. */
export type ReleaseFormat = 'ml-100k' | 'ml-1m' | 'ml-10m' | 'csv';

/** Text encodings: 'auto' decodes as UTF-8 and falls back to latin-1 when the bytes are not valid UTF-8. */
export type TextEncoding = 'latin1' | 'utf8' | 'auto';

/** One file of a release. */
export interface FileSpec {
  /** file name inside the release folder */
  name: string;
  /** field separator ('\t', '|', '::' or ',') */
  sep: string;
  /** first line is a header row */
  header: boolean;
  encoding: TextEncoding;
  /** columns in file order, as named in the release's README */
  columns: string[];
}

/** Description of one release. */
export interface ReleaseSpec {
  name: ReleaseName;
  format: ReleaseFormat;
  ratings: FileSpec;
  movies: FileSpec;
  /** demographics file; absent for ml-10m and the CSV releases */
  users?: FileSpec;
  /** ml-100k only: genre names and their flag order (`u.genre`) */
  genreFile?: FileSpec;
  /** valid ratings: min..max in steps of `step` */
  ratingScale: { min: number; max: number; step: number };
  url: string;
  /**
   * md5 of the zip, pinned from published values; null when GroupLens changes the file (ml-latest*) or no
   * value could be confirmed (ml-32m): then the downloader verifies against `<url>.md5` published next to it.
   */
  md5: string | null;
  /** folder name inside the zip (ml-10m unpacks to 'ml-10M100K') */
  zipFolder: string;
}

const BASE_URL = 'https://files.grouplens.org/datasets/movielens/';
const RATING_COLS = ['userId', 'movieId', 'rating', 'timestamp'];

function csvRelease(name: ReleaseName, md5: string | null): ReleaseSpec {
  return {
    name,
    format: 'csv',
    ratings: { name: 'ratings.csv', sep: ',', header: true, encoding: 'utf8', columns: RATING_COLS },
    movies: { name: 'movies.csv', sep: ',', header: true, encoding: 'utf8', columns: ['movieId', 'title', 'genres'] },
    ratingScale: { min: 0.5, max: 5, step: 0.5 },
    url: `${BASE_URL}${name}.zip`,
    md5,
    zipFolder: name,
  };
}

/**
 * The table of releases. md5 values of ml-100k..ml-25m are the ones published by GroupLens (`<name>.zip.md5`)
 * and pinned in public dataset code; ml-32m and ml-latest* are verified against the `.md5` file at download.
 */
export const RELEASES: Record<ReleaseName, ReleaseSpec> = {
  'ml-100k': {
    name: 'ml-100k',
    format: 'ml-100k',
    ratings: { name: 'u.data', sep: '\t', header: false, encoding: 'latin1', columns: RATING_COLS },
    movies: {
      name: 'u.item',
      sep: '|',
      header: false,
      encoding: 'latin1',
      // followed by one 0/1 flag per genre of u.genre (19 in the published file)
      columns: ['movieId', 'title', 'releaseDate', 'videoReleaseDate', 'imdbUrl'],
    },
    users: {
      name: 'u.user',
      sep: '|',
      header: false,
      encoding: 'latin1',
      columns: ['userId', 'age', 'gender', 'occupation', 'zip'],
    },
    genreFile: { name: 'u.genre', sep: '|', header: false, encoding: 'latin1', columns: ['genre', 'index'] },
    ratingScale: { min: 1, max: 5, step: 1 },
    url: `${BASE_URL}ml-100k.zip`,
    md5: '0e33842e24a9c977be4e0107933c0723',
    zipFolder: 'ml-100k',
  },
  'ml-1m': {
    name: 'ml-1m',
    format: 'ml-1m',
    ratings: { name: 'ratings.dat', sep: '::', header: false, encoding: 'latin1', columns: RATING_COLS },
    movies: {
      name: 'movies.dat',
      sep: '::',
      header: false,
      encoding: 'latin1',
      columns: ['movieId', 'title', 'genres'],
    },
    users: {
      name: 'users.dat',
      sep: '::',
      header: false,
      encoding: 'latin1',
      columns: ['userId', 'gender', 'age', 'occupation', 'zip'],
    },
    ratingScale: { min: 1, max: 5, step: 1 },
    url: `${BASE_URL}ml-1m.zip`,
    md5: 'c4d9eecfca2ab87c1945afe126590906',
    zipFolder: 'ml-1m',
  },
  'ml-10m': {
    name: 'ml-10m',
    format: 'ml-10m',
    ratings: { name: 'ratings.dat', sep: '::', header: false, encoding: 'utf8', columns: RATING_COLS },
    movies: { name: 'movies.dat', sep: '::', header: false, encoding: 'auto', columns: ['movieId', 'title', 'genres'] },
    ratingScale: { min: 0.5, max: 5, step: 0.5 },
    url: `${BASE_URL}ml-10m.zip`,
    md5: 'ce571fd55effeba0271552578f2648bd',
    zipFolder: 'ml-10M100K',
  },
  'ml-20m': csvRelease('ml-20m', 'cd245b17a1ae2cc31bb14903e1204af3'),
  'ml-25m': csvRelease('ml-25m', '6b51fb2759a8657d3bfcbfc42b592ada'),
  'ml-32m': csvRelease('ml-32m', null),
  'ml-latest': csvRelease('ml-latest', null),
  'ml-latest-small': csvRelease('ml-latest-small', null),
};

/** All release names, in table order. */
export const RELEASE_NAMES = Object.keys(RELEASES) as ReleaseName[];

/** ml-1m age groups (users.dat `age` codes); ml-100k raw ages are bucketed onto these. */
export const AGE_GROUPS: ReadonlyArray<{ code: number; label: string; minAge: number }> = [
  { code: 1, label: 'Under 18', minAge: 0 },
  { code: 18, label: '18-24', minAge: 18 },
  { code: 25, label: '25-34', minAge: 25 },
  { code: 35, label: '35-44', minAge: 35 },
  { code: 45, label: '45-49', minAge: 45 },
  { code: 50, label: '50-55', minAge: 50 },
  { code: 56, label: '56+', minAge: 56 },
];

/** ml-1m occupation codes (users.dat) -> names; ml-100k writes names directly. */
export const ML1M_OCCUPATIONS: ReadonlyArray<string> = [
  'other',
  'academic/educator',
  'artist',
  'clerical/admin',
  'college/grad student',
  'customer service',
  'doctor/health care',
  'executive/managerial',
  'farmer',
  'homemaker',
  'K-12 student',
  'lawyer',
  'programmer',
  'retired',
  'sales/marketing',
  'scientist',
  'self-employed',
  'technician/engineer',
  'tradesman/craftsman',
  'unemployed',
  'writer',
];

/** Map a raw age in years (ml-100k) to its ml-1m age-group code. */
export function ageBucket(years: number): number {
  let code = AGE_GROUPS[0].code;
  for (const g of AGE_GROUPS) if (years >= g.minAge) code = g.code;
  return code;
}

/** Check that a name is a known release; throws a DataError listing the known ones otherwise. */
export function releaseSpec(name: string): ReleaseSpec {
  const spec = (RELEASES as Record<string, ReleaseSpec | undefined>)[name];
  if (!spec) throw new DataError(`unknown MovieLens release "${name}"; known: ${RELEASE_NAMES.join(', ')}`);
  return spec;
}

/** True when `dir` holds every file the release needs. */
export function hasReleaseFiles(dir: string, spec: ReleaseSpec): boolean {
  const files = [spec.ratings, spec.movies, spec.users, spec.genreFile].filter((f): f is FileSpec => !!f);
  return files.every((f) => fs.existsSync(path.join(dir, f.name)));
}

/**
 * Detect the release stored in `dir` from its files: u.data -> ml-100k; ratings.dat with users.dat -> ml-1m;
 * ratings.dat alone -> ml-10m; ratings.csv -> the CSV release named like the folder, else 'ml-latest'
 * (all CSV releases share one format). Throws a DataError naming the folder when nothing matches.
 */
export function detectRelease(dir: string): ReleaseName {
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  if (has('u.data')) return 'ml-100k';
  if (has('ratings.dat')) return has('users.dat') ? 'ml-1m' : 'ml-10m';
  if (has('ratings.csv')) {
    const base = path.basename(path.resolve(dir)) as ReleaseName;
    return RELEASES[base]?.format === 'csv' ? base : 'ml-latest';
  }
  throw new DataError(
    `no MovieLens files found in ${dir} (looked for u.data, ratings.dat, ratings.csv); ` +
      `download a release from ${BASE_URL} and unzip it there, or call ensureDataset()`,
  );
}
