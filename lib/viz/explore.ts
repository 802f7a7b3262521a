/**
 * Summaries of a loaded MovieLens `Dataset` for display (notebook 01): sizes, rating distribution, activity
 * per user and per movie, genre popularity, activity over time, demographics. Pure functions returning plain
 * row objects; nothing here feeds the model.
 */
import type { Dataset, Table } from '../data/load';
import { AGE_GROUPS } from '../data/formats';

/** One labelled count. */
export interface CountRow {
  label: string;
  count: number;
}

function num(t: Table, name: string): ArrayLike<number> {
  return t.array(name) as ArrayLike<number>;
}

function str(t: Table, name: string): ArrayLike<string> {
  return t.array(name) as ArrayLike<string>;
}

/** Sizes at a glance: ratings, users, movies, density, date range, rating scale. */
export function datasetOverview(ds: Dataset): Array<{ what: string; value: string | number }> {
  const userId = num(ds.ratings, 'userId');
  const movieId = num(ds.ratings, 'movieId');
  const ts = num(ds.ratings, 'timestamp');
  const rating = num(ds.ratings, 'rating');
  const users = new Set<number>();
  const movies = new Set<number>();
  let tMin = Infinity;
  let tMax = -Infinity;
  let rMin = Infinity;
  let rMax = -Infinity;
  let sum = 0;
  for (let i = 0; i < userId.length; i++) {
    users.add(userId[i]);
    movies.add(movieId[i]);
    if (ts[i] < tMin) tMin = ts[i];
    if (ts[i] > tMax) tMax = ts[i];
    if (rating[i] < rMin) rMin = rating[i];
    if (rating[i] > rMax) rMax = rating[i];
    sum += rating[i];
  }
  const n = userId.length;
  const day = (t: number) => (Number.isFinite(t) ? new Date(t * 1000).toISOString().slice(0, 10) : '-');
  return [
    { what: 'release', value: ds.release },
    { what: 'ratings', value: n },
    { what: 'users who rated', value: users.size },
    { what: 'movies rated', value: movies.size },
    { what: 'movies in the catalogue', value: ds.movies.numRows() },
    { what: 'users in the users file', value: ds.users ? ds.users.numRows() : '(no demographics in this release)' },
    {
      what: 'density (ratings / users x movies)',
      value: n ? Number((n / (users.size * movies.size)).toPrecision(3)) : 0,
    },
    { what: 'mean rating', value: n ? Number((sum / n).toFixed(3)) : 0 },
    { what: 'rating range', value: `${rMin} .. ${rMax}` },
    { what: 'first rating', value: day(tMin) },
    { what: 'last rating', value: day(tMax) },
  ];
}

/** Number of ratings per rating value, ascending. */
export function ratingDistribution(ds: Dataset): Array<{ rating: number; count: number; share: number }> {
  const r = num(ds.ratings, 'rating');
  const m = new Map<number, number>();
  for (let i = 0; i < r.length; i++) m.set(r[i], (m.get(r[i]) ?? 0) + 1);
  return [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([rating, count]) => ({ rating, count, share: count / r.length }));
}

/** Ratings per distinct value of a ratings column ('userId' or 'movieId'), as counts sorted descending. */
export function ratingsPer(ds: Dataset, key: 'userId' | 'movieId'): number[] {
  const ids = num(ds.ratings, key);
  const m = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) m.set(ids[i], (m.get(ids[i]) ?? 0) + 1);
  return [...m.values()].sort((a, b) => b - a);
}

/** Quantiles (0..1) of values (linear interpolation). */
export function quantiles(values: ArrayLike<number>, qs: number[]): number[] {
  const s = Float64Array.from(values).sort();
  return qs.map((q) => {
    if (s.length === 0) return NaN;
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  });
}

/**
 * Log-spaced histogram of positive counts: `binsPerDecade` bins per factor of 10, from the smallest to the
 * largest value. Returns edges (one more than counts) for `binnedFigure(..., { logX: true })`.
 */
export function logHistogram(values: ArrayLike<number>, binsPerDecade = 5): { edges: number[]; counts: number[] } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > 0 && v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { edges: [1, 10], counts: [0] };
  const bin = (v: number) => Math.floor(Math.log10(v) * binsPerDecade + 1e-9);
  const a = bin(lo);
  const b = bin(hi) + 1;
  const edges: number[] = [];
  for (let k = a; k <= b; k++) edges.push(Math.pow(10, k / binsPerDecade));
  const counts = new Array(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > 0)) continue;
    counts[bin(v) - a]++;
  }
  return { edges, counts };
}

/** Per genre: ratings received, movies in the catalogue and mean rating; sorted by ratings, descending. */
export function genrePopularity(
  ds: Dataset,
): Array<{ genre: string; ratings: number; movies: number; meanRating: number }> {
  const mid = num(ds.movies, 'movieId');
  const gen = str(ds.movies, 'genres');
  const genresOf = new Map<number, string[]>();
  const movies = new Map<string, number>();
  for (let i = 0; i < mid.length; i++) {
    const gs = gen[i]
      ? String(gen[i])
          .split('|')
          .filter((g) => g)
      : [];
    genresOf.set(mid[i], gs);
    for (const g of gs) movies.set(g, (movies.get(g) ?? 0) + 1);
  }
  const count = new Map<string, number>();
  const sum = new Map<string, number>();
  const rm = num(ds.ratings, 'movieId');
  const rr = num(ds.ratings, 'rating');
  for (let i = 0; i < rm.length; i++) {
    for (const g of genresOf.get(rm[i]) ?? []) {
      count.set(g, (count.get(g) ?? 0) + 1);
      sum.set(g, (sum.get(g) ?? 0) + rr[i]);
    }
  }
  return [...movies.keys()]
    .map((genre) => ({
      genre,
      ratings: count.get(genre) ?? 0,
      movies: movies.get(genre) ?? 0,
      meanRating: (sum.get(genre) ?? 0) / Math.max(1, count.get(genre) ?? 0),
    }))
    .sort((a, b) => b.ratings - a.ratings || a.genre.localeCompare(b.genre));
}

/** Ratings and active users per calendar month (UTC 'YYYY-MM'), in time order; months without ratings included. */
export function activityByMonth(
  ds: Dataset,
): Array<{ month: string; ratings: number; activeUsers: number; newUsers: number }> {
  const ts = num(ds.ratings, 'timestamp');
  const uid = num(ds.ratings, 'userId');
  const per = new Map<number, { ratings: number; users: Set<number> }>();
  const firstMonth = new Map<number, number>();
  const key = (t: number) => {
    const d = new Date(t * 1000);
    return d.getUTCFullYear() * 12 + d.getUTCMonth();
  };
  for (let i = 0; i < ts.length; i++) {
    const k = key(ts[i]);
    let e = per.get(k);
    if (!e) per.set(k, (e = { ratings: 0, users: new Set() }));
    e.ratings++;
    e.users.add(uid[i]);
    const f = firstMonth.get(uid[i]);
    if (f === undefined || k < f) firstMonth.set(uid[i], k);
  }
  if (per.size === 0) return [];
  const newUsers = new Map<number, number>();
  for (const k of firstMonth.values()) newUsers.set(k, (newUsers.get(k) ?? 0) + 1);
  const ks = [...per.keys()];
  const lo = Math.min(...ks);
  const hi = Math.max(...ks);
  const out = [];
  for (let k = lo; k <= hi; k++) {
    const e = per.get(k);
    const month = `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}`;
    out.push({ month, ratings: e?.ratings ?? 0, activeUsers: e?.users.size ?? 0, newUsers: newUsers.get(k) ?? 0 });
  }
  return out;
}

/** Counts of users per value of a users-table column; age codes get their group labels. [] without users. */
export function demographicCounts(ds: Dataset, column: 'gender' | 'age' | 'occupation'): CountRow[] {
  if (!ds.users) return [];
  const vals = ds.users.array(column) as ArrayLike<string | number>;
  const m = new Map<string | number, number>();
  for (let i = 0; i < vals.length; i++) m.set(vals[i], (m.get(vals[i]) ?? 0) + 1);
  if (column === 'age') {
    return AGE_GROUPS.filter((g) => m.has(g.code)).map((g) => ({ label: g.label, count: m.get(g.code) ?? 0 }));
  }
  return [...m.entries()].map(([label, count]) => ({ label: String(label), count })).sort((a, b) => b.count - a.count);
}

/** The most rated movies with their mean rating (title joined from the movies table). */
export function topMovies(ds: Dataset, n = 10): Array<{ title: string; ratings: number; meanRating: number }> {
  const rm = num(ds.ratings, 'movieId');
  const rr = num(ds.ratings, 'rating');
  const cnt = new Map<number, number>();
  const sum = new Map<number, number>();
  for (let i = 0; i < rm.length; i++) {
    cnt.set(rm[i], (cnt.get(rm[i]) ?? 0) + 1);
    sum.set(rm[i], (sum.get(rm[i]) ?? 0) + rr[i]);
  }
  const titles = movieTitles(ds);
  return [...cnt.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, n)
    .map(([id, c]) => ({ title: titles.get(id) ?? `movie ${id}`, ratings: c, meanRating: (sum.get(id) ?? 0) / c }));
}

/** movieId -> title. */
export function movieTitles(ds: Dataset): Map<number, string> {
  const ids = num(ds.movies, 'movieId');
  const t = str(ds.movies, 'title');
  const m = new Map<number, string>();
  for (let i = 0; i < ids.length; i++) m.set(ids[i], String(t[i]));
  return m;
}

/**
 * Rank-frequency curve of descending counts (long-tail plot on log-log axes), thinned to at most `maxPoints`
 * log-spaced ranks so large releases stay light. Ranks are 1-based.
 */
export function rankCurve(sortedDesc: ArrayLike<number>, maxPoints = 300): { rank: number[]; count: number[] } {
  const n = sortedDesc.length;
  const rank: number[] = [];
  const count: number[] = [];
  if (n === 0) return { rank, count };
  let last = -1;
  for (let k = 0; k < maxPoints; k++) {
    const i = maxPoints === 1 ? 0 : Math.round(Math.exp((Math.log(n) * k) / (maxPoints - 1))) - 1;
    const j = Math.min(n - 1, Math.max(0, i));
    if (j === last) continue;
    last = j;
    rank.push(j + 1);
    count.push(sortedDesc[j]);
  }
  if (last !== n - 1) (rank.push(n), count.push(sortedDesc[n - 1]));
  return { rank, count };
}
