/**
 * Ranking metrics for next-item evaluation: HR@k and NDCG@k of each user's held-out last item, ranked
 * against (a) uniformly sampled, seeded negatives or (b) the full catalogue.
 *
 * Tie rule (pessimistic): a candidate whose score equals the positive's ranks above it, so rank =
 * 1 + #{candidates c != positive : score(c) >= score(positive)}. A model that scores everything alike
 * therefore gets the worst rank, never a lucky one.
 *
 * Candidate rule: negatives are items 1..numItems-1 the user never rated (in any split); index 0 (unknown)
 * is never a candidate. A held-out item that is unknown to the vocabulary (item 0) counts as a miss.
 */
import type { Interactions, SplitIndex } from '../data/types';
import { ConfigError } from '../util/errors';
import { Rng } from '../util/rng';
import type { Numbers } from '../model/rating-metrics';

/**
 * 1-based pessimistic rank of candidate `positive` among `scores`: 1 + the number of other candidates whose
 * score is >= the positive's. Indices listed in `exclude` are not candidates (the positive itself may not be
 * excluded). Throws on a NaN score.
 */
export function rankOfPositive(scores: Numbers, positive: number, exclude?: ArrayLike<number>): number {
  const n = scores.length;
  if (!(Number.isInteger(positive) && positive >= 0 && positive < n)) {
    throw new ConfigError(`rankOfPositive: positive index ${positive} is outside 0..${n - 1}`);
  }
  const s = scores[positive];
  if (Number.isNaN(s)) throw new ConfigError(`rankOfPositive: the positive's score (index ${positive}) is NaN`);
  let above = 0;
  for (let j = 0; j < n; j++) {
    const x = scores[j];
    if (Number.isNaN(x)) throw new ConfigError(`rankOfPositive: score ${j} is NaN`);
    if (j !== positive && x >= s) above++;
  }
  if (exclude && exclude.length > 0) {
    const seen = new Set<number>();
    for (let t = 0; t < exclude.length; t++) {
      const j = exclude[t];
      if (j === positive) throw new ConfigError(`rankOfPositive: the positive (index ${positive}) is in exclude`);
      if (!(j >= 0 && j < n)) throw new ConfigError(`rankOfPositive: exclude index ${j} is outside 0..${n - 1}`);
      if (seen.has(j)) continue;
      seen.add(j);
      if (scores[j] >= s) above--;
    }
  }
  return above + 1;
}

/** 1-based pessimistic rank of a positive scored `positiveScore` against negatives: 1 + #{neg >= positive}. */
export function rankAgainst(positiveScore: number, negativeScores: Numbers): number {
  if (Number.isNaN(positiveScore)) throw new ConfigError('rankAgainst: the positive score is NaN');
  let above = 0;
  for (let j = 0; j < negativeScores.length; j++) {
    const x = negativeScores[j];
    if (Number.isNaN(x)) throw new ConfigError(`rankAgainst: negative score ${j} is NaN`);
    if (x >= positiveScore) above++;
  }
  return above + 1;
}

function checkRankK(rank: number, k: number, fn: string): void {
  if (!(rank >= 1)) throw new ConfigError(`${fn}: rank must be >= 1 (1 = best), got ${rank}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`${fn}: k must be an integer >= 1, got ${k}`);
}

/** Hit rate at k of one held-out item: 1 if rank <= k else 0. A rank of Infinity is a miss. */
export function hitRateAtK(rank: number, k: number): number {
  checkRankK(rank, k, 'hitRateAtK');
  return rank <= k ? 1 : 0;
}

/**
 * NDCG at k of one held-out item (one relevant item, so the ideal DCG is 1): 1 / log2(rank + 1) if
 * rank <= k, else 0. Rank 1 gives 1, rank 2 gives 0.631, rank 3 gives 0.5.
 */
export function ndcgAtK(rank: number, k: number): number {
  checkRankK(rank, k, 'ndcgAtK');
  return rank <= k ? 1 / Math.log2(rank + 1) : 0;
}

/** Mean ranking metrics over users. */
export interface RankingMetrics {
  /** number of users (held-out items) */
  n: number;
  k: number;
  /** mean HR@k */
  hitRate: number;
  /** mean NDCG@k */
  ndcg: number;
}

/** Mean HR@k and NDCG@k over a list of 1-based ranks (one per user). Throws on empty input. */
export function rankingMetrics(ranks: Numbers, k: number): RankingMetrics {
  if (ranks.length === 0) throw new ConfigError('rankingMetrics: empty input (0 ranks)');
  let hr = 0;
  let nd = 0;
  for (let t = 0; t < ranks.length; t++) {
    hr += hitRateAtK(ranks[t], k);
    nd += ndcgAtK(ranks[t], k);
  }
  return { n: ranks.length, k, hitRate: hr / ranks.length, ndcg: nd / ranks.length };
}

/** A 32-bit seed mixed from a base seed and a stream id (murmur3 finaliser), for per-user generators. */
export function mixSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (stream >>> 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * `count` distinct items drawn uniformly without replacement from 1..numItems-1 minus `exclude` (the user's
 * rated items). Deterministic for a given Rng state. When fewer than `count` remain: all of them with `upTo`
 * (training negatives: a user who rated nearly the whole catalogue gets fewer), else a ConfigError.
 */
export function sampleNegatives(opts: {
  rng: Rng;
  numItems: number;
  exclude: ArrayLike<number>;
  count: number;
  upTo?: boolean;
}): Int32Array {
  const { rng, numItems, exclude } = opts;
  let count = opts.count;
  if (!(Number.isInteger(count) && count >= 0))
    throw new ConfigError(`sampleNegatives: count must be an integer >= 0, got ${count}`);
  const banned = new Uint8Array(numItems);
  banned[0] = 1;
  let nBanned = 1;
  for (let t = 0; t < exclude.length; t++) {
    const i = exclude[t];
    if (i >= 0 && i < numItems && !banned[i]) {
      banned[i] = 1;
      nBanned++;
    }
  }
  const available = numItems - nBanned;
  if (opts.upTo && available < count) count = available;
  if (available < count) {
    throw new ConfigError(
      `sampleNegatives: ${count} negatives requested but only ${available} of ${numItems - 1} items are unrated`,
    );
  }
  const out = new Int32Array(count);
  if (count * 2 <= available) {
    // rejection sampling: expected < 2 draws per negative
    for (let t = 0; t < count;) {
      const i = 1 + rng.int(numItems - 1);
      if (banned[i]) continue;
      banned[i] = 1;
      out[t++] = i;
    }
  } else {
    // dense case: partial Fisher-Yates over the explicit list of allowed items
    const pool = new Int32Array(available);
    for (let i = 1, t = 0; i < numItems; i++) if (!banned[i]) pool[t++] = i;
    for (let t = 0; t < count; t++) {
      const j = t + rng.int(available - t);
      const x = pool[j];
      pool[j] = pool[t];
      pool[t] = x;
      out[t] = x;
    }
  }
  return out;
}

/** The distinct items user `u` rated anywhere in `interactions` (all splits), ascending. */
export function userRatedItems(interactions: Interactions, u: number): Int32Array {
  const a = interactions.userOffsets[u];
  const b = interactions.userOffsets[u + 1];
  return Int32Array.from(new Set(interactions.item.subarray(a, b))).sort();
}

/**
 * Popularity of every item: the number of ratings at `positions` (use split.train, so no held-out rating
 * leaks in). Returns [numItems] counts; item 0 (unknown) gets -Infinity so it never outranks a real item.
 */
export function popularityScores(opts: {
  interactions: Interactions;
  positions: Int32Array;
  numItems: number;
}): Float32Array {
  const { interactions, positions, numItems } = opts;
  const counts = new Float32Array(numItems); // [numItems]
  for (let t = 0; t < positions.length; t++) {
    const i = interactions.item[positions[t]];
    if (!(i >= 0 && i < numItems))
      throw new ConfigError(`popularityScores: item ${i} at position ${positions[t]} is outside 0..${numItems - 1}`);
    counts[i]++;
  }
  counts[0] = -Infinity;
  return counts;
}

/** Scores `items` for `user` (higher = more likely next). Must return one finite score per item. */
export type ItemScorer = (user: number, items: Int32Array) => ArrayLike<number>;

/** A scorer ranking by training popularity, the same for every user (see `popularityScores`). */
export function popularityScorer(scores: Float32Array): ItemScorer {
  return (_user, items) => {
    const out = new Float32Array(items.length);
    for (let t = 0; t < items.length; t++) out[t] = scores[items[t]];
    return out;
  };
}

/** The position of each user's held-out last item: the latest of the user's test targets (by position, i.e. time). */
export function lastTestPositions(interactions: Interactions, split: SplitIndex): Int32Array {
  const numUsers = interactions.userOffsets.length - 1;
  const last = new Int32Array(numUsers).fill(-1);
  for (let t = 0; t < split.test.length; t++) {
    const p = split.test[t];
    const u = interactions.user[p];
    if (p > last[u]) last[u] = p;
  }
  return last.filter((p) => p >= 0);
}

/** Outcome of `evaluateRanking`. */
export interface RankingResult extends RankingMetrics {
  mode: 'sampled' | 'full';
  /** negatives per user (sampled mode) or the mean candidate count minus 1 (full mode) */
  negatives: number;
  /** held-out items unknown to the vocabulary (item 0), counted as misses */
  unknownTargets: number;
  /** per-user ranks in the order of `lastTestPositions` (Infinity for an unknown target) */
  ranks: Float64Array;
}

/**
 * The candidates a held-out target is ranked among, target first: (sampled) `numNegatives` uniform items the
 * user never rated, from Rng(mixSeed(seed, user)); (full) every item the user never rated, in index order.
 * Item 0 (unknown) is never a candidate.
 */
export function rankingCandidates(o: {
  interactions: Interactions;
  user: number;
  target: number;
  numItems: number;
  mode: 'sampled' | 'full';
  numNegatives: number;
  seed: number;
}): Int32Array {
  const { interactions, user, target, numItems, mode } = o;
  const rated = userRatedItems(interactions, user);
  if (mode === 'sampled') {
    const neg = sampleNegatives({
      rng: new Rng(mixSeed(o.seed, user)),
      numItems,
      exclude: rated,
      count: o.numNegatives,
    });
    const candidates = new Int32Array(neg.length + 1);
    candidates[0] = target;
    candidates.set(neg, 1);
    return candidates;
  }
  if (mode !== 'full') throw new ConfigError(`unknown ranking mode ${JSON.stringify(mode)}; use 'sampled' or 'full'`);
  const banned = new Uint8Array(numItems);
  for (let j = 0; j < rated.length; j++) banned[rated[j]] = 1;
  banned[0] = 1;
  banned[target] = 1;
  const list = [target];
  for (let i = 1; i < numItems; i++) if (!banned[i]) list.push(i);
  return Int32Array.from(list);
}

/**
 * HR@k and NDCG@k of each user's held-out last item (see `lastTestPositions`), ranked by `scorer` against
 * `numNegatives` seeded uniform negatives ('sampled'; default 100) or every unrated item ('full').
 * Negatives of user u come from Rng(mixSeed(seed, u)), so they do not depend on which other users are scored.
 */
export function evaluateRanking(opts: {
  interactions: Interactions;
  split: SplitIndex;
  numItems: number;
  scorer: ItemScorer;
  mode: 'sampled' | 'full';
  numNegatives?: number;
  k?: number;
  seed?: number;
}): RankingResult {
  const { interactions, split, numItems, scorer, mode } = opts;
  const k = opts.k ?? 10;
  const numNegatives = opts.numNegatives ?? 100;
  const seed = opts.seed ?? 0;
  if (mode !== 'sampled' && mode !== 'full')
    throw new ConfigError(`evaluateRanking: unknown mode ${JSON.stringify(mode)}`);
  const positions = lastTestPositions(interactions, split);
  if (positions.length === 0) throw new ConfigError('evaluateRanking: split has no test targets');
  const ranks = new Float64Array(positions.length);
  let unknownTargets = 0;
  let candidatesTotal = 0;
  for (let t = 0; t < positions.length; t++) {
    const p = positions[t];
    const u = interactions.user[p];
    const target = interactions.item[p];
    if (!(target >= 0 && target < numItems))
      throw new ConfigError(`evaluateRanking: item ${target} at position ${p} is outside 0..${numItems - 1}`);
    if (target === 0) {
      ranks[t] = Infinity;
      unknownTargets++;
      continue;
    }
    const candidates = rankingCandidates({ interactions, user: u, target, numItems, mode, numNegatives, seed });
    candidatesTotal += candidates.length - 1;
    const scores = scorer(u, candidates);
    if (scores.length !== candidates.length) {
      throw new ConfigError(
        `evaluateRanking: scorer returned ${scores.length} scores for ${candidates.length} candidates (user ${u})`,
      );
    }
    ranks[t] = rankOfPositive(scores, 0);
  }
  const scored = positions.length - unknownTargets;
  return {
    ...rankingMetrics(ranks, k),
    mode,
    negatives: mode === 'sampled' ? numNegatives : scored > 0 ? candidatesTotal / scored : 0,
    unknownTargets,
    ranks,
  };
}
