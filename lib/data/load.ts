/**
 * Loaders for every MovieLens release. Whatever the release, the output is arquero tables with the same
 * columns: ratings (userId, movieId, rating, timestamp), movies (movieId, title, year, genres) and, where the
 * release has demographics, users (userId, gender, age, occupation, zip).
 *
 * Rules for bad values (never dropped silently):
 * - a value the release cannot contain -- an id outside 1..2^31-1, a rating off the release's scale (ml-100k/ml-1m:
 *   whole stars 1..5; ml-10m and later: 0.5..5 in halves), a timestamp that is not a whole number or is cut off,
 *   a header whose columns do not match -- throws a ParseError/DataError naming the file, line, field and value;
 * - a duplicate (userId, movieId) pair keeps the latest rating (largest timestamp; on equal timestamps the later
 *   line) and drops the others, counted in `duplicates` with examples;
 * - a rating for a movie missing from the movies file is kept (the movie has no title, year or genres) and
 *   counted in `unknownMovies`; likewise a rating by a user missing from the users file (`unknownUsers`).
 * The `LoadReport` holds these counts; `loadSummary` formats it as one line, which `loadMovieLens` prints through
 * its `log` option.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as aq from 'arquero';
import { DataError } from '../util/errors';
import { ML1M_OCCUPATIONS, ReleaseName, ReleaseSpec, ageBucket, detectRelease, releaseSpec } from './formats';
import { RatingColumns, idField, intField, parseRatingsFile, readText, splitCsvLine, textLines } from './parse';

/** An arquero table (the type of `aq.table(...)`). */
export type Table = ReturnType<typeof aq.table>;

/** What loading found and which rules it applied. */
export interface LoadReport {
  release: ReleaseName;
  dir: string;
  /** data lines in the ratings file */
  ratingsRead: number;
  /** blank lines skipped in the ratings file */
  blankLines: number;
  /** rows in the returned ratings table */
  ratingsKept: number;
  moviesRead: number;
  usersRead: number;
  /**
   * dropped: ratings off the scale. Always 0 since such a rating throws a ParseError (kept so readers of older
   * reports keep working); `examples` are "file:line: value" strings (at most 5)
   */
  outOfRange: { count: number; rule: string; examples: string[] };
  /** dropped: earlier ratings of a repeated (userId, movieId) pair; `examples` are "file:line: ..." strings */
  duplicates: { count: number; rule: string; examples: string[] };
  /** kept: ratings whose movieId is missing from the movies file */
  unknownMovies: { count: number; distinct: number; rule: string; examples: string[] };
  /** kept: ratings whose userId is missing from the users file (releases with users only) */
  unknownUsers: { count: number; distinct: number; rule: string; examples: string[] };
}

/** A loaded release: tables with the common columns plus the load report. */
export interface Dataset {
  release: ReleaseName;
  dir: string;
  /** userId:int32, movieId:int32, rating:float32, timestamp:float64 (seconds) */
  ratings: Table;
  /** movieId:int32, title:string, year:int32 (0 when the title has none), genres:string ('|'-joined, '' = none) */
  movies: Table;
  /** userId:int32, gender:string, age:int32 (ml-1m age-group code), occupation:string, zip:string */
  users?: Table;
  report: LoadReport;
}

/** Options of `loadMovieLens`. */
export interface LoadOptions {
  /** folder holding the release's files */
  dir: string;
  /** release name; detected from the folder's files when omitted */
  release?: ReleaseName;
  /** Where the one-line load summary (loadSummary) goes. Default: nowhere; pass console.log to print it. */
  log?: ((line: string) => void) | null;
}

/** Split a genres cell ('Action|Comedy') into its list; '' and '(no genres listed)' give []. */
export function genreList(genres: string): string[] {
  if (!genres || genres === '(no genres listed)') return [];
  return genres.split('|').filter((g) => g !== '');
}

/** Release year parsed from a title ending in "(1995)" (or "(2006-2007)"); 0 when absent. */
export function parseYear(title: string): number {
  const m = /\((\d{4})(?:\s*[-\u2013]\s*\d{4})?\)\s*$/.exec(title);
  return m ? Number(m[1]) : 0;
}

function need(dir: string, spec: ReleaseSpec, name: string): string {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    throw new DataError(
      `missing file ${name} of release ${spec.name} in ${dir}; download ${spec.url}, unzip it and put its files ` +
        `in this folder (or call ensureDataset({ release: '${spec.name}' }))`,
      file,
    );
  }
  return file;
}

interface MovieCols {
  movieId: number[];
  title: string[];
  year: number[];
  genres: string[];
}

function loadMovies(dir: string, spec: ReleaseSpec): MovieCols {
  const fspec = spec.movies;
  const file = need(dir, spec, fspec.name);
  const lines = textLines(readText(file, fspec.encoding));
  const out: MovieCols = { movieId: [], title: [], year: [], genres: [] };
  const seen = new Set<number>();
  const push = (id: number, title: string, genres: string[], line: number, content: string, yearFallback = 0) => {
    if (seen.has(id)) throw new DataError(`duplicate movieId ${id}`, file, line, content);
    seen.add(id);
    out.movieId.push(id);
    out.title.push(title);
    out.year.push(parseYear(title) || yearFallback);
    out.genres.push(genreList(genres.join('|')).join('|'));
  };
  if (spec.format === 'ml-100k') {
    const gfile = need(dir, spec, spec.genreFile!.name);
    const genreNames: string[] = [];
    for (const { line, text } of textLines(readText(gfile, spec.genreFile!.encoding))) {
      const [name, idx] = text.split('|');
      const i = intField(idx, 'genre index', gfile, line, text);
      genreNames[i] = name;
    }
    const nFixed = fspec.columns.length;
    for (const { line, text } of lines) {
      const f = text.split('|');
      if (f.length !== nFixed + genreNames.length) {
        throw new DataError(
          `expected ${nFixed + genreNames.length} '|'-separated fields, found ${f.length}`,
          file,
          line,
          text,
        );
      }
      const id = idField(f[0], 'movieId', file, line, text);
      const gs: string[] = [];
      for (let g = 0; g < genreNames.length; g++) {
        const flag = f[nFixed + g];
        if (flag === '1') gs.push(genreNames[g]);
        else if (flag !== '0')
          throw new DataError(`genre flag ${g + 1} is not 0/1: ${JSON.stringify(flag)}`, file, line, text);
      }
      const dateYear = /(\d{4})\s*$/.exec(f[2]);
      push(id, f[1], gs, line, text, dateYear ? Number(dateYear[1]) : 0);
    }
  } else if (spec.format === 'csv') {
    let first = true;
    for (const { line, text } of lines) {
      if (first) {
        first = false;
        if (!/^\s*movieId/i.test(text))
          throw new DataError('expected a header row "movieId,title,genres"', file, line, text);
        continue;
      }
      const f = splitCsvLine(text, file, line);
      if (f.length !== 3)
        throw new DataError(
          `expected 3 comma-separated fields (quote titles containing commas), found ${f.length}`,
          file,
          line,
          text,
        );
      push(idField(f[0], 'movieId', file, line, text), f[1], [f[2]], line, text);
    }
  } else {
    for (const { line, text } of lines) {
      const a = text.indexOf('::');
      const b = text.lastIndexOf('::');
      if (a < 0 || b <= a)
        throw new DataError("expected 3 '::'-separated fields movieId::title::genres", file, line, text);
      push(
        idField(text.slice(0, a), 'movieId', file, line, text),
        text.slice(a + 2, b),
        [text.slice(b + 2)],
        line,
        text,
      );
    }
  }
  return out;
}

interface UserCols {
  userId: number[];
  gender: string[];
  age: number[];
  occupation: string[];
  zip: string[];
}

function loadUsers(dir: string, spec: ReleaseSpec): UserCols | undefined {
  if (!spec.users) return undefined;
  const fspec = spec.users;
  const file = need(dir, spec, fspec.name);
  const out: UserCols = { userId: [], gender: [], age: [], occupation: [], zip: [] };
  const seen = new Set<number>();
  for (const { line, text } of textLines(readText(file, fspec.encoding))) {
    const f = text.split(fspec.sep);
    if (f.length !== 5)
      throw new DataError(
        `expected 5 ${JSON.stringify(fspec.sep)}-separated fields, found ${f.length}`,
        file,
        line,
        text,
      );
    let id: number, gender: string, age: number, occupation: string, zip: string;
    if (spec.format === 'ml-100k') {
      id = idField(f[0], 'userId', file, line, text);
      age = ageBucket(intField(f[1], 'age', file, line, text));
      gender = f[2];
      occupation = f[3];
      zip = f[4];
    } else {
      id = idField(f[0], 'userId', file, line, text);
      gender = f[1];
      age = intField(f[2], 'age', file, line, text);
      const occ = intField(f[3], 'occupation', file, line, text);
      occupation = ML1M_OCCUPATIONS[occ] ?? String(occ);
      zip = f[4];
    }
    if (gender !== 'M' && gender !== 'F')
      throw new DataError(`gender is not M/F: ${JSON.stringify(gender)}`, file, line, text);
    if (seen.has(id)) throw new DataError(`duplicate userId ${id}`, file, line, text);
    seen.add(id);
    out.userId.push(id);
    out.gender.push(gender);
    out.age.push(age);
    out.occupation.push(occupation);
    out.zip.push(zip.trim());
  }
  return out;
}

function maxOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

/**
 * Dense indices 0..count-1 for ids (which may be as large as MAX_ID): the ids themselves when they are small,
 * else a Map-based renumbering, so no array is sized by a hostile id. `known` ids (from the movies/users file)
 * are numbered too.
 */
function denseIds(ids: Int32Array, known: number[]): { idx: (id: number) => number; count: number; rows: Int32Array } {
  const max = Math.max(maxOf(ids), maxOf(known));
  if (max <= 4 * (ids.length + known.length) + 1024) return { idx: (id) => id, count: max + 1, rows: ids };
  const map = new Map<number, number>();
  const number = (id: number) => {
    let k = map.get(id);
    if (k === undefined) map.set(id, (k = map.size));
    return k;
  };
  const rows = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) rows[i] = number(ids[i]);
  for (const id of known) number(id);
  return { idx: (id) => map.get(id) ?? -1, count: map.size, rows };
}

/**
 * Apply the documented rules to parsed ratings: keep the latest of duplicate (user, movie) pairs, count unknown
 * movies/users. Returns the kept rows (file order) and fills `report`. (Off-scale ratings and bad ids were
 * already refused by the parser.)
 */
function cleanRatings(
  r: RatingColumns,
  file: string,
  movieIds: number[],
  userIds: number[] | undefined,
  report: LoadReport,
): RatingColumns {
  const n = r.n;
  const keep = new Uint8Array(n).fill(1);
  const ex = (i: number, what: string) => `${file}:${r.line[i]}: ${what}`;
  const users = denseIds(r.userId, userIds ?? []);
  const movies = denseIds(r.movieId, movieIds);
  // duplicates: group rows by user (counting sort), then a per-movie stamp finds repeats within a user
  const U = users.count;
  const start = new Int32Array(U + 1);
  for (let i = 0; i < n; i++) start[users.rows[i] + 1]++;
  for (let u = 0; u < U; u++) start[u + 1] += start[u];
  const order = new Int32Array(n);
  const fill = start.slice(0, U);
  for (let i = 0; i < n; i++) order[fill[users.rows[i]]++] = i;
  const stampUser = new Int32Array(movies.count).fill(-1);
  const stampRow = new Int32Array(movies.count);
  for (let u = 0; u < U; u++) {
    for (let j = start[u]; j < start[u + 1]; j++) {
      const i = order[j];
      const m = movies.rows[i];
      if (stampUser[m] === u) {
        const prev = stampRow[m];
        // keep the later rating: larger timestamp, or the later line on equal timestamps
        const loser = r.timestamp[i] >= r.timestamp[prev] ? prev : i;
        keep[loser] = 0;
        if (loser === prev) stampRow[m] = i;
        report.duplicates.count++;
        if (report.duplicates.examples.length < 5) {
          report.duplicates.examples.push(
            ex(
              loser,
              `user ${r.userId[i]} movie ${r.movieId[i]} rated ${r.rating[loser]} (line ${r.line[loser === prev ? i : prev]} kept)`,
            ),
          );
        }
      } else {
        stampUser[m] = u;
        stampRow[m] = i;
      }
    }
  }
  // unknown movies / users (kept)
  const knownMovie = new Uint8Array(movies.count);
  for (const m of movieIds) knownMovie[movies.idx(m)] = 1;
  const unknownM = new Set<number>();
  const unknownU = new Set<number>();
  let knownUser: Uint8Array | undefined;
  if (userIds) {
    knownUser = new Uint8Array(U);
    for (const u of userIds) knownUser[users.idx(u)] = 1;
  }
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    kept++;
    if (!knownMovie[movies.rows[i]]) {
      report.unknownMovies.count++;
      unknownM.add(r.movieId[i]);
      if (report.unknownMovies.examples.length < 5)
        report.unknownMovies.examples.push(ex(i, `movieId ${r.movieId[i]}`));
    }
    if (knownUser && !knownUser[users.rows[i]]) {
      report.unknownUsers.count++;
      unknownU.add(r.userId[i]);
      if (report.unknownUsers.examples.length < 5) report.unknownUsers.examples.push(ex(i, `userId ${r.userId[i]}`));
    }
  }
  report.unknownMovies.distinct = unknownM.size;
  report.unknownUsers.distinct = unknownU.size;
  report.ratingsKept = kept;
  if (kept === n) return r;
  const out: RatingColumns = {
    n: kept,
    userId: new Int32Array(kept),
    movieId: new Int32Array(kept),
    rating: new Float32Array(kept),
    timestamp: new Float64Array(kept),
    line: new Int32Array(kept),
  };
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    out.userId[j] = r.userId[i];
    out.movieId[j] = r.movieId[i];
    out.rating[j] = r.rating[i];
    out.timestamp[j] = r.timestamp[i];
    out.line[j] = r.line[i];
    j++;
  }
  return out;
}

/**
 * Load a MovieLens release from `dir` (release detected from its files when not named) into arquero tables
 * with the common column names, applying the documented rules for bad values (see the module comment).
 */
export function loadMovieLens(opts: LoadOptions): Dataset {
  const dir = opts.dir;
  if (!fs.existsSync(dir)) {
    throw new DataError(
      `data folder ${dir} does not exist` +
        (opts.release ? `; download ${releaseSpec(opts.release).url} and unzip it there, or call ensureDataset()` : ''),
    );
  }
  const release = opts.release ?? detectRelease(dir);
  const spec = releaseSpec(release);
  const movies = loadMovies(dir, spec);
  const users = loadUsers(dir, spec);
  const rfile = need(dir, spec, spec.ratings.name);
  const parsed = parseRatingsFile(rfile, {
    sep: spec.ratings.sep,
    header: spec.ratings.header,
    scale: spec.ratingScale,
  });
  const report: LoadReport = {
    release,
    dir,
    ratingsRead: parsed.n,
    blankLines: parsed.blankLines ?? 0,
    ratingsKept: parsed.n,
    moviesRead: movies.movieId.length,
    usersRead: users ? users.userId.length : 0,
    outOfRange: {
      count: 0,
      rule: `refused (ParseError): rating outside ${spec.ratingScale.min}..${spec.ratingScale.max} in steps of ${spec.ratingScale.step}`,
      examples: [],
    },
    duplicates: {
      count: 0,
      rule: 'dropped: earlier rating of a repeated (userId, movieId); the latest (timestamp, then line) is kept',
      examples: [],
    },
    unknownMovies: {
      count: 0,
      distinct: 0,
      rule: 'kept: movie missing from the movies file has no title, year or genres',
      examples: [],
    },
    unknownUsers: {
      count: 0,
      distinct: 0,
      rule: 'kept: user missing from the users file has unknown demographics',
      examples: [],
    },
  };
  const r = cleanRatings(parsed, rfile, movies.movieId, users?.userId, report);
  const ratings = aq.table({ userId: r.userId, movieId: r.movieId, rating: r.rating, timestamp: r.timestamp });
  const moviesTable = aq.table({
    movieId: Int32Array.from(movies.movieId),
    title: movies.title,
    year: Int32Array.from(movies.year),
    genres: movies.genres,
  });
  const usersTable = users
    ? aq.table({
        userId: Int32Array.from(users.userId),
        gender: users.gender,
        age: Int32Array.from(users.age),
        occupation: users.occupation,
        zip: users.zip,
      })
    : undefined;
  opts.log?.(loadSummary(report));
  return { release, dir, ratings, movies: moviesTable, users: usersTable, report };
}

/**
 * The load report as one line: rows read and kept, rows dropped with their reason, blank lines, unknown ids, e.g.
 * "ml-1m: 1000209 ratings read, 1000209 kept, 0 dropped (0 duplicate (user, movie) pairs), 0 blank lines;
 * unknown ids (kept): 0 movies in 0 ratings, 0 users in 0 ratings; 3883 movies, 6040 users".
 */
export function loadSummary(r: LoadReport): string {
  const dropped = r.ratingsRead - r.ratingsKept;
  const dupEx = r.duplicates.count > 0 ? `, e.g. ${r.duplicates.examples[0]}` : '';
  return (
    `${r.release}: ${r.ratingsRead} ratings read, ${r.ratingsKept} kept, ${dropped} dropped ` +
    `(${r.duplicates.count} duplicate (user, movie) pairs, latest kept${dupEx}), ${r.blankLines} blank lines; ` +
    `unknown ids (kept): ${r.unknownMovies.distinct} movies in ${r.unknownMovies.count} ratings, ` +
    `${r.unknownUsers.distinct} users in ${r.unknownUsers.count} ratings; ${r.moviesRead} movies, ${r.usersRead} users`
  );
}

/** Format a LoadReport as a few human-readable lines. */
export function formatLoadReport(r: LoadReport): string {
  const lines = [
    `${r.release} from ${r.dir}: ${r.ratingsKept} ratings kept of ${r.ratingsRead} read, ${r.moviesRead} movies, ${r.usersRead} users`,
  ];
  for (const [name, v] of [
    ['out of range', r.outOfRange],
    ['duplicates', r.duplicates],
    ['unknown movies', r.unknownMovies],
    ['unknown users', r.unknownUsers],
  ] as const) {
    if (v.count > 0) lines.push(`  ${name}: ${v.count} (${v.rule}); e.g. ${v.examples.join('; ')}`);
  }
  return lines.join('\n');
}

/**
 * The dataset restricted to its `maxUsers` users with the smallest ids: their ratings and `users` rows; movies and
 * the load report stay as loaded. `maxUsers` 0 (or at least the number of users) returns `ds` itself. For quick
 * studies on a large release: ML-1M's first 1,000 users hold about 160,000 of its ratings.
 */
export function firstUsers(ds: Dataset, maxUsers: number): Dataset {
  if (!(Number.isInteger(maxUsers) && maxUsers >= 0))
    throw new DataError(`firstUsers: maxUsers must be an integer >= 0, got ${maxUsers}`);
  const userId = ds.ratings.array('userId') as ArrayLike<number>;
  const ids = Array.from(new Set(Array.from(userId))).sort((a, b) => a - b);
  if (maxUsers === 0 || maxUsers >= ids.length) return ds;
  const cut = ids[maxUsers - 1];
  const keep: number[] = [];
  for (let i = 0; i < userId.length; i++) if (userId[i] <= cut) keep.push(i);
  const pick = <T extends Int32Array | Float32Array | Float64Array>(col: string, Ctor: { from(a: number[]): T }) => {
    const a = ds.ratings.array(col) as ArrayLike<number>;
    return Ctor.from(keep.map((i) => a[i]));
  };
  const ratings = aq.table({
    userId: pick('userId', Int32Array),
    movieId: pick('movieId', Int32Array),
    rating: pick('rating', Float32Array),
    timestamp: pick('timestamp', Float64Array),
  });
  const users = ds.users?.params({ cut }).filter((d: { userId: number }, $: { cut: number }) => d.userId <= $.cut);
  return { ...ds, ratings, users: users?.reify() };
}
