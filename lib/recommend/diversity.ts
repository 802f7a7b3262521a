/**
 * Diversity of recommendation lists (intra-list genre diversity, catalogue coverage, popularity share) and
 * maximal marginal relevance (MMR) re-ranking, which trades a little score for genre diversity.
 */
import { ConfigError } from '../util/errors';
import { RankedItems, topK } from './score';

/** Genre vectors of items: [numItems * numGenres] multi-hot rows (FeatureTables.itemGenres). */
export interface GenreTable {
  itemGenres: Float32Array;
  numGenres: number;
}

/** Cosine similarity of two items' genre multi-hots (0 when either has no genre). */
export function genreCosine(t: GenreTable, a: number, b: number): number {
  const G = t.numGenres;
  const g = t.itemGenres;
  let dot = 0,
    na = 0,
    nb = 0;
  for (let k = 0; k < G; k++) {
    const x = g[a * G + k],
      y = g[b * G + k];
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** Intra-list diversity: mean over item pairs of (1 - genre cosine). 0 for lists shorter than 2. */
export function intraListDiversity(list: ArrayLike<number>, t: GenreTable): number {
  const n = list.length;
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sum += 1 - genreCosine(t, list[i], list[j]);
  return sum / ((n * (n - 1)) / 2);
}

/** Catalogue coverage: distinct items over all lists / (numItems - 1) real items. */
export function catalogueCoverage(lists: ArrayLike<number>[], numItems: number): number {
  const seen = new Uint8Array(numItems);
  let distinct = 0;
  for (const l of lists) {
    for (let t = 0; t < l.length; t++) {
      const i = l[t];
      if (!(i >= 1 && i < numItems))
        throw new ConfigError(`catalogueCoverage: item ${i} is outside 1..${numItems - 1}`);
      if (!seen[i]) ((seen[i] = 1), distinct++);
    }
  }
  return numItems > 1 ? distinct / (numItems - 1) : 0;
}

/**
 * Marks the "short head": the ceil(topFraction * (numItems - 1)) most popular real items (ties: smaller index).
 * `popularity` is [numItems] (e.g. training rating counts; index 0 is ignored).
 */
export function shortHead(popularity: ArrayLike<number>, topFraction: number): Uint8Array {
  if (!(topFraction > 0 && topFraction <= 1))
    throw new ConfigError(`topFraction must be in (0, 1], got ${topFraction}`);
  const n = popularity.length;
  const items = Int32Array.from({ length: n - 1 }, (_, i) => i + 1);
  const pop = Float64Array.from(items, (i) => popularity[i]);
  const head = topK(items, pop, Math.ceil(topFraction * (n - 1)));
  const mask = new Uint8Array(n);
  for (const i of head.items) mask[i] = 1;
  return mask;
}

/** Share of recommended items (over all lists, with repeats) that lie in the popularity short head. */
export function popularityShare(lists: ArrayLike<number>[], head: Uint8Array): number {
  let inHead = 0,
    total = 0;
  for (const l of lists) for (let t = 0; t < l.length; t++) ((inHead += head[l[t]]), total++);
  return total > 0 ? inHead / total : 0;
}

/** Diversity summary of a set of lists (one per user). */
export interface DiversityReport {
  lists: number;
  /** mean intra-list genre diversity (0 = every item has the same genres, 1 = no genre shared) */
  intraListDiversity: number;
  /** distinct recommended items / catalogue size */
  coverage: number;
  /** share of recommendations in the top `topFraction` most popular items */
  popularityShare: number;
  topFraction: number;
}

/** Intra-list diversity, coverage and popularity share of `lists` (defaults: short head = top 10%). */
export function diversityReport(o: {
  lists: ArrayLike<number>[];
  genres: GenreTable;
  popularity: ArrayLike<number>;
  topFraction?: number;
}): DiversityReport {
  const topFraction = o.topFraction ?? 0.1;
  const n = o.lists.length;
  let ild = 0;
  for (const l of o.lists) ild += intraListDiversity(l, o.genres);
  return {
    lists: n,
    intraListDiversity: n > 0 ? ild / n : 0,
    coverage: catalogueCoverage(o.lists, o.popularity.length),
    popularityShare: popularityShare(o.lists, shortHead(o.popularity, topFraction)),
    topFraction,
  };
}

/** Options of `mmrRerank`. */
export interface MmrOptions {
  items: ArrayLike<number>;
  scores: ArrayLike<number>;
  /** list length */
  k: number;
  /** weight of relevance, in [0, 1]: 1 = plain top-k by score, smaller = more genre diversity */
  lambda: number;
  genres: GenreTable;
  /** re-rank only the best `pool` items by score (default max(5k, 50)) */
  pool?: number;
}

/**
 * Maximal marginal relevance: take the top `pool` items, scale their scores to [0, 1] (min-max), then pick
 * greedily the item maximising lambda * score - (1 - lambda) * max genre cosine to the items already picked.
 * Ties go to the better-scored item. Deterministic; lambda = 1 gives exactly topK.
 */
export function mmrRerank(o: MmrOptions): RankedItems {
  const { k, lambda } = o;
  if (!(lambda >= 0 && lambda <= 1)) throw new ConfigError(`mmrRerank: lambda must be in [0, 1], got ${lambda}`);
  const pool = topK(o.items, o.scores, o.pool ?? Math.max(5 * k, 50));
  const n = pool.items.length;
  const m = Math.min(k, n);
  let lo = Infinity,
    hi = -Infinity;
  for (let t = 0; t < n; t++) ((lo = Math.min(lo, pool.scores[t])), (hi = Math.max(hi, pool.scores[t])));
  const rel = Float64Array.from(pool.scores, (s) => (hi > lo ? (s - lo) / (hi - lo) : 1));
  const maxSim = new Float64Array(n); // max cosine to the picked items
  const taken = new Uint8Array(n);
  const out: RankedItems = { items: new Int32Array(m), scores: new Float32Array(m) };
  for (let r = 0; r < m; r++) {
    let best = -1,
      bestV = -Infinity;
    for (let t = 0; t < n; t++) {
      if (taken[t]) continue;
      const v = lambda * rel[t] - (1 - lambda) * (r === 0 ? 0 : maxSim[t]);
      if (v > bestV) ((bestV = v), (best = t));
    }
    taken[best] = 1;
    out.items[r] = pool.items[best];
    out.scores[r] = pool.scores[best];
    for (let t = 0; t < n; t++)
      if (!taken[t]) maxSim[t] = Math.max(maxSim[t], genreCosine(o.genres, pool.items[t], pool.items[best]));
  }
  return out;
}
