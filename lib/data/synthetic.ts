/**
 * Seeded synthetic MovieLens generator: writes real MovieLens-format files (ml-1m style `::` files with
 * latin-1 titles and users.dat, or CSV-release style with a header, quoted titles containing commas and
 * half-star ratings) of any size, for offline demos, tests and scale benchmarks.
 *
 * Structure a sequence model can learn: each user has genre tastes and a current focus genre that drifts over
 * time (the focus moves to another genre now and then, and taste follows it); movies are picked mostly from the
 * focus genre, by popularity; a rating = user taste for the movie's genres + the movie's quality + a pull toward
 * the user's recent ratings + noise.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../util/rng';
import { ConfigError } from '../util/errors';

/** Genre names used by the generator (those of ml-1m). */
export const SYNTHETIC_GENRES = [
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** Options of `generateSynthetic`. */
export interface SyntheticOptions {
  /** output folder (created; replaced atomically when it exists) */
  dir: string;
  /** 'ml-1m': ratings.dat/movies.dat/users.dat; 'csv': ratings.csv/movies.csv (ml-20m style) */
  format: 'ml-1m' | 'csv';
  numRatings: number;
  /** default: numRatings / 165 (ml-1m's ratio), at least 10 */
  numUsers?: number;
  /** default: 4 * sqrt(numRatings), between 20 and 60,000 */
  numMovies?: number;
  seed?: number;
  /** probability per rating that a user's focus genre moves (default 0.03) */
  drift?: number;
  /** a planted rule "users who rated movie A highly rate movie B highly" (default none; see `PlantedRule`) */
  plantedRule?: PlantedRule;
  /** a planted order-dependent signal: ratings that repeat the rating `lag` steps earlier (default none; see `Echo`) */
  echo?: Echo;
}

/**
 * A planted order-dependent signal, for studying attention at scale: per user in time order (ties by movie id, as
 * the loaders sort), each rating from position `lag` on is replaced, with probability `probability`, by the
 * user's rating `lag` steps earlier (after that one's own replacement). Only a model that can single out the
 * history slot `lag` back can use it. Drawn from its own seeded stream: the movies, users, times and the other
 * ratings are those written without it.
 */
export interface Echo {
  /** chance per rating (in [0, 1]) */
  probability: number;
  /** how many steps back (integer >= 1; default 3) */
  lag?: number;
}

/**
 * A planted pairwise rule, for testing explanations: movies `ifMovie` (A) and `thenMovie` (B) are never picked by
 * the usual process; instead a `share` of the users (seeded) rate A, then B as their very next rating, at a
 * random point of their sequence. A user's rating of A is 5 or 1 (even odds); their rating of B equals it. So B's
 * rating is fully determined by the rating of A just before it, and by nothing else.
 */
export interface PlantedRule {
  /** MovieLens id of A (1..numMovies) */
  ifMovie: number;
  /** MovieLens id of B (1..numMovies, not A) */
  thenMovie: number;
  /** fraction of users with the pair (default 0.5); users with fewer than 2 ratings never get it */
  share?: number;
}

/** What was written. */
export interface SyntheticResult {
  dir: string;
  format: 'ml-1m' | 'csv';
  numRatings: number;
  numUsers: number;
  numMovies: number;
}

class Writer {
  private parts: string[] = [];
  private size = 0;
  private fd: number;
  constructor(
    file: string,
    private encoding: 'latin1' | 'utf8',
  ) {
    this.fd = fs.openSync(file, 'w');
  }
  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (this.parts.length) fs.writeSync(this.fd, Buffer.from(this.parts.join(''), this.encoding));
    this.parts = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }
}

/** Generate a synthetic release (seeded: the same options write the same bytes). */
export function generateSynthetic(opts: SyntheticOptions): SyntheticResult {
  const R = Math.floor(opts.numRatings);
  if (!(R >= 1)) throw new ConfigError(`numRatings must be >= 1, got ${opts.numRatings}`);
  const U = Math.floor(opts.numUsers ?? Math.max(10, Math.round(R / 165)));
  const M = Math.floor(opts.numMovies ?? Math.min(60000, Math.max(20, Math.round(4 * Math.sqrt(R)))));
  if (!(U >= 1) || !(M >= 2)) throw new ConfigError(`numUsers must be >= 1 and numMovies >= 2, got ${U}, ${M}`);
  if (R > U * M)
    throw new ConfigError(`numRatings ${R} exceeds numUsers * numMovies = ${U * M} (one rating per user and movie)`);
  const drift = opts.drift ?? 0.03;
  const rule = opts.plantedRule;
  if (rule) {
    const share = rule.share ?? 0.5;
    for (const [k, v] of [
      ['ifMovie', rule.ifMovie],
      ['thenMovie', rule.thenMovie],
    ] as const) {
      if (!(Number.isInteger(v) && v >= 1 && v <= M))
        throw new ConfigError(`plantedRule.${k} must be a movie id in 1..${M}, got ${v}`);
    }
    if (rule.ifMovie === rule.thenMovie)
      throw new ConfigError(`plantedRule: ifMovie and thenMovie must differ, both are ${rule.ifMovie}`);
    if (!(share >= 0 && share <= 1)) throw new ConfigError(`plantedRule.share must be in [0, 1], got ${share}`);
    if (M < 4) throw new ConfigError(`plantedRule needs numMovies >= 4, got ${M}`);
  }
  const echo = opts.echo;
  const lag = echo?.lag ?? 3;
  if (echo) {
    if (!(echo.probability >= 0 && echo.probability <= 1))
      throw new ConfigError(`echo.probability must be in [0, 1], got ${echo.probability}`);
    if (!(Number.isInteger(lag) && lag >= 1)) throw new ConfigError(`echo.lag must be an integer >= 1, got ${lag}`);
  }
  const rng = new Rng(opts.seed ?? 1);
  const echoRng = new Rng(((opts.seed ?? 1) * 7919 + 17) >>> 0); // its own stream: the rest is unchanged by echo
  const G = SYNTHETIC_GENRES.length;
  const csv = opts.format === 'csv';
  if (opts.format !== 'csv' && opts.format !== 'ml-1m')
    throw new ConfigError(`unknown synthetic format "${opts.format as string}"; use 'ml-1m' or 'csv'`);

  // movies: 1-3 genres, quality, popularity (Zipf over a random rank), year
  const movieGenres: number[][] = [];
  const quality = new Float64Array(M);
  const pop = new Float64Array(M);
  const year = new Int32Array(M);
  const ranks = rng.shuffle(Int32Array.from({ length: M }, (_, i) => i));
  for (let m = 0; m < M; m++) {
    const primary = Math.min(G - 1, Math.floor(G * Math.pow(rng.next(), 1.6)));
    const gs = [primary];
    const extra = rng.next() < 0.5 ? (rng.next() < 0.3 ? 2 : 1) : 0;
    for (let e = 0; e < extra; e++) {
      const g = rng.int(G);
      if (!gs.includes(g)) gs.push(g);
    }
    movieGenres.push(gs.sort((a, b) => a - b));
    quality[m] = 0.45 * rng.normal();
    pop[m] = 1 / Math.pow(ranks[m] + 10, 0.9);
    year[m] = 1995 - Math.floor(75 * Math.pow(rng.next(), 2.5));
  }
  // per-genre movie lists with cumulative popularity for sampling
  const byGenre: Int32Array[] = [];
  const cum: Float64Array[] = [];
  for (let g = 0; g < G; g++) {
    const ms: number[] = [];
    for (let m = 0; m < M; m++) if (movieGenres[m].includes(g)) ms.push(m);
    if (ms.length === 0) ms.push(rng.int(M));
    byGenre.push(Int32Array.from(ms));
    const c = new Float64Array(ms.length);
    let acc = 0;
    for (let i = 0; i < ms.length; i++) c[i] = acc += pop[ms[i]];
    cum.push(c);
  }
  const pickInGenre = (g: number): number => {
    const c = cum[g];
    const x = rng.next() * c[c.length - 1];
    let lo = 0,
      hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return byGenre[g][lo];
  };

  // ratings per user: a minimum plus a heavy-tailed share of the rest, capped at numMovies
  const minPer = Math.max(1, Math.min(20, Math.floor(R / U)));
  const counts = new Int32Array(U).fill(minPer);
  let rest = R - minPer * U;
  if (rest < 0) {
    counts.fill(0);
    for (let i = 0; i < R; i++) counts[i % U]++;
    rest = 0;
  }
  const w = Float64Array.from({ length: U }, () => Math.exp(1.1 * rng.normal()));
  let wsum = w.reduce((a, b) => a + b, 0);
  while (rest > 0) {
    let given = 0;
    for (let u = 0; u < U && rest - given > 0; u++) {
      const add = Math.min(M - counts[u], Math.floor((rest * w[u]) / wsum), rest - given);
      counts[u] += add;
      given += add;
    }
    if (given === 0) {
      for (let u = 0; u < U && given < rest; u++) {
        if (counts[u] < M) {
          counts[u]++;
          given++;
        }
      }
    }
    rest -= given;
    wsum = 0;
    for (let u = 0; u < U; u++) wsum += counts[u] < M ? w[u] : 0;
    for (let u = 0; u < U; u++) if (counts[u] >= M) w[u] = 0;
    if (wsum === 0) wsum = 1;
  }

  if (rule) {
    const most = counts.reduce((a, b) => Math.max(a, b), 0);
    if (most > M - 2)
      throw new ConfigError(
        `plantedRule: a user gets ${most} ratings but at most numMovies - 2 = ${M - 2} fit beside A and B; use more movies`,
      );
  }

  const tmp = `${path.resolve(opts.dir)}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  const enc = csv ? 'utf8' : 'latin1';
  try {
    // movies
    const mw = new Writer(path.join(tmp, csv ? 'movies.csv' : 'movies.dat'), enc);
    if (csv) mw.write('movieId,title,genres\n');
    for (let m = 0; m < M; m++) {
      const id = m + 1;
      let title =
        id % 11 === 0
          ? `Café Synthétique ${id} (${year[m]})`
          : id % 7 === 0
            ? `Movie ${id}, The (${year[m]})`
            : `Synthetic Movie ${id} (${year[m]})`;
      const genres = movieGenres[m].map((g) => SYNTHETIC_GENRES[g]).join('|');
      if (csv) {
        if (title.includes(',') || title.includes('"')) title = `"${title.replace(/"/g, '""')}"`;
        mw.write(`${id},${title},${genres}\n`);
      } else {
        mw.write(`${id}::${title}::${genres}\n`);
      }
    }
    mw.close();
    // users
    if (!csv) {
      const uw = new Writer(path.join(tmp, 'users.dat'), enc);
      const ages = [1, 18, 25, 35, 45, 50, 56];
      for (let u = 0; u < U; u++) {
        const zip = String(10000 + rng.int(89999));
        uw.write(
          `${u + 1}::${rng.next() < 0.72 ? 'M' : 'F'}::${ages[Math.min(6, Math.floor(rng.next() * rng.next() * 8))]}::${rng.int(21)}::${zip}\n`,
        );
      }
      uw.close();
    }
    // ratings
    const rw = new Writer(path.join(tmp, csv ? 'ratings.csv' : 'ratings.dat'), 'latin1');
    if (csv) rw.write('userId,movieId,rating,timestamp\n');
    const stamp = new Int32Array(M).fill(-1);
    const taste = new Float64Array(G);
    const t0 = 956703932;
    const span = 3 * 365 * 86400;
    const rowM = new Int32Array(M);
    const rowR = new Float64Array(M);
    const rowT = new Float64Array(M);
    const idx = new Int32Array(M);
    for (let u = 0; u < U; u++) {
      const n = counts[u];
      for (let g = 0; g < G; g++) taste[g] = 0.35 * rng.normal();
      const favs = 1 + rng.int(3);
      for (let f = 0; f < favs; f++) taste[rng.int(G)] += 1;
      let focus = rng.int(G);
      let t = t0 + Math.floor(rng.next() * span * 0.7);
      let recent = 3.5;
      // planted rule: A at slot ruleAt, B at ruleAt + 1; -1 when this user has no pair
      const ruleAt = rule && n >= 2 && rng.next() < (rule.share ?? 0.5) ? rng.int(n - 1) : -1;
      const ruleRating = ruleAt >= 0 ? (rng.next() < 0.5 ? 5 : 1) : 0;
      if (rule) stamp[rule.ifMovie - 1] = stamp[rule.thenMovie - 1] = u; // never picked by the usual process
      for (let j = 0; j < n; j++) {
        if (rng.next() < drift) {
          focus = rng.int(G);
          for (let g = 0; g < G; g++) taste[g] *= 0.9;
          taste[focus] += 0.6;
        }
        let g = focus;
        if (rng.next() > 0.6) {
          g = rng.int(G);
          if (taste[g] < 0 && rng.next() < 0.6) g = focus;
        }
        let m: number;
        let r: number;
        const planted = rule !== undefined && ruleAt >= 0 && (j === ruleAt || j === ruleAt + 1); // (ruleAt -1: no pair; j = 0 is then not B)
        if (planted && rule) {
          m = (j === ruleAt ? rule.ifMovie : rule.thenMovie) - 1;
          r = ruleRating;
        } else {
          m = pickInGenre(g);
          for (let tries = 0; stamp[m] === u && tries < 20; tries++) m = tries < 10 ? pickInGenre(g) : rng.int(M);
          while (stamp[m] === u) m = (m + 1) % M;
          stamp[m] = u;
          let aff = 0;
          for (const mg of movieGenres[m]) aff += taste[mg];
          aff /= movieGenres[m].length;
          const score = 3.3 + 0.8 * aff + quality[m] + 0.35 * (recent - 3.5) + 0.55 * rng.normal();
          r = csv ? Math.min(5, Math.max(0.5, Math.round(score * 2) / 2)) : Math.min(5, Math.max(1, Math.round(score)));
        }
        recent = 0.7 * recent + 0.3 * r;
        const gapKind = rng.next();
        if (gapKind < 0.05 && !planted) {
          // same second: a tie broken by movieId (never at a planted A or B: B must directly follow A)
        } else if (gapKind < 0.85) t += 1 + Math.floor(Math.exp(3.5 + 1.2 * rng.normal()));
        else t += Math.floor(Math.exp(11 + 1.5 * rng.normal()));
        rowM[j] = m + 1;
        rowR[j] = r;
        rowT[j] = t;
        idx[j] = j;
      }
      if (echo) {
        // time order as the loaders see it (ties by movie id); the planted pair A, B is left as it is
        const seq = Int32Array.from(idx.subarray(0, n)).sort((a, b) => rowT[a] - rowT[b] || rowM[a] - rowM[b]);
        const pair = (j: number) => ruleAt >= 0 && (j === ruleAt || j === ruleAt + 1);
        for (let q = lag; q < n; q++) {
          const hit = echoRng.next() < echo.probability;
          if (hit && !pair(seq[q]) && !pair(seq[q - lag])) rowR[seq[q]] = rowR[seq[q - lag]];
        }
      }
      // file order within a user: by movieId for CSV releases (as GroupLens writes them), shuffled for ml-1m
      const ord = idx.subarray(0, n);
      if (csv) ord.sort((a, b) => rowM[a] - rowM[b]);
      else rng.shuffle(ord);
      const sep = csv ? ',' : '::';
      for (let j = 0; j < n; j++) {
        const k = ord[j];
        rw.write(`${u + 1}${sep}${rowM[k]}${sep}${rowR[k]}${sep}${rowT[k]}\n`);
      }
    }
    rw.close();
    const dir = path.resolve(opts.dir);
    if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { dir: path.resolve(opts.dir), format: opts.format, numRatings: R, numUsers: U, numMovies: M };
}
