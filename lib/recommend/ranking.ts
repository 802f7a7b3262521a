/**
 * Next-item ranking evaluation of recommenders, the SASRec / BERT4Rec protocol: each user's held-out last
 * rating is ranked against 100 seeded uniform negatives ('sampled') or every unrated movie ('full'); HR@k
 * and NDCG@k. The BST scores every candidate from the history that ends right before the held-out rating,
 * at that rating's time (see `heldOutCut`). List-based evaluation adds re-ranking (MMR) and list diversity.
 */
import { PreparedData } from '../data/index';
import {
  evaluateRanking,
  ItemScorer,
  lastTestPositions,
  ndcgAtK,
  popularityScorer,
  popularityScores,
  rankingCandidates,
  RankingResult,
} from '../eval/ranking';
import { BstModel } from '../model/index';
import { ConfigError } from '../util/errors';
import { heldOutCut } from './candidates';
import { diversityReport, DiversityReport } from './diversity';
import { DEFAULT_CHUNK, RankedItems, scoreItems, topK } from './score';

/** Each user's held-out last rating position (lastTestPositions), optionally only users 1..maxUsers. */
export function heldOutPositions(data: PreparedData, maxUsers?: number): Int32Array {
  const all = lastTestPositions(data.interactions, data.split);
  if (maxUsers === undefined) return all;
  if (!(Number.isInteger(maxUsers) && maxUsers >= 1))
    throw new ConfigError(`maxUsers must be an integer >= 1, got ${maxUsers}`);
  return all.filter((p) => data.interactions.user[p] <= maxUsers);
}

/**
 * An ItemScorer ranking with a BST: user run u's candidates are scored from the history before u's held-out
 * last rating, at its time. Throws for a user without a held-out rating.
 */
export function bstRankingScorer(model: BstModel, data: PreparedData, chunkSize = DEFAULT_CHUNK): ItemScorer {
  const pos = new Map<number, number>();
  for (const p of heldOutPositions(data)) pos.set(data.interactions.user[p], p);
  return (user, items) => {
    const p = pos.get(user);
    if (p === undefined) throw new ConfigError(`bstRankingScorer: user run ${user} has no held-out test rating`);
    return scoreItems(model, data, heldOutCut(data, p), items, chunkSize);
  };
}

/** The popularity baseline's ItemScorer (training rating counts), on the same protocol. */
export function popularityRankingScorer(data: PreparedData): ItemScorer {
  return popularityScorer(
    popularityScores({ interactions: data.interactions, positions: data.split.train, numItems: data.sizes.numItems }),
  );
}

/** Options of `evaluateRecommender`. */
export interface RecommenderEvalOptions {
  data: PreparedData;
  scorer: ItemScorer;
  mode: 'sampled' | 'full';
  /** sampled mode: negatives per user (default 100) */
  numNegatives?: number;
  /** cut-off (default 10) */
  k?: number;
  /** negatives seed (default 0) */
  seed?: number;
  /** only users 1..maxUsers (quick runs); default all */
  maxUsers?: number;
}

/** HR@k / NDCG@k of a scorer on the held-out last ratings (lib/eval evaluateRanking on this data). */
export function evaluateRecommender(o: RecommenderEvalOptions): RankingResult {
  const test = o.maxUsers === undefined ? o.data.split.test : heldOutPositions(o.data, o.maxUsers);
  return evaluateRanking({
    interactions: o.data.interactions,
    split: { ...o.data.split, test },
    numItems: o.data.sizes.numItems,
    scorer: o.scorer,
    mode: o.mode,
    numNegatives: o.numNegatives,
    k: o.k,
    seed: o.seed,
  });
}

/** Turns candidates and their scores into a ranked list of length k. */
export type Lister = (items: Int32Array, scores: Float64Array, k: number) => RankedItems;

/** The plain top-k lister. */
export const topKLister: Lister = (items, scores, k) => topK(items, scores, k);

/** Per lister: metrics of its lists and their diversity. */
export interface ListEvalResult {
  name: string;
  n: number;
  k: number;
  hitRate: number;
  ndcg: number;
  /** diversity of the lists (meaningful in 'full' mode, where lists come from the whole unrated catalogue) */
  diversity: DiversityReport;
  /** the lists, in the order of heldOutPositions (empty for an unknown held-out item) */
  lists: Int32Array[];
}

/**
 * Evaluate ranked lists: per user, the same candidates as `evaluateRecommender` (same seeds), one scoring
 * pass, then each lister builds a list of k; a hit is the held-out item in the list, NDCG uses its place.
 * Ties follow the pessimistic rule of lib/eval: the held-out item's score is nudged below equal scores
 * (by 2^-40 of its value, far less than the float32 spacing), so plain top-k gives evaluateRecommender's numbers.
 */
export function evaluateLists(
  o: RecommenderEvalOptions & {
    listers: Record<string, Lister>;
    popularity?: ArrayLike<number>;
    /** called after each user with the users done and the total (progress displays) */
    onProgress?: (done: number, total: number) => void;
  },
): ListEvalResult[] {
  const { data, scorer, mode } = o;
  const k = o.k ?? 10;
  const numNegatives = o.numNegatives ?? 100;
  const seed = o.seed ?? 0;
  const numItems = data.sizes.numItems;
  const it = data.interactions;
  const positions = heldOutPositions(data, o.maxUsers);
  if (positions.length === 0) throw new ConfigError('evaluateLists: no held-out test ratings');
  const names = Object.keys(o.listers);
  const acc = names.map(() => ({ hr: 0, nd: 0, lists: [] as Int32Array[] }));
  for (let t = 0; t < positions.length; t++) {
    const p = positions[t];
    const u = it.user[p];
    const target = it.item[p];
    if (target === 0) {
      acc.forEach((a) => a.lists.push(new Int32Array(0)));
      o.onProgress?.(t + 1, positions.length);
      continue;
    }
    const candidates = rankingCandidates({ interactions: it, user: u, target, numItems, mode, numNegatives, seed });
    const raw = scorer(u, candidates);
    if (raw.length !== candidates.length)
      throw new ConfigError(
        `evaluateLists: scorer returned ${raw.length} scores for ${candidates.length} candidates (user ${u})`,
      );
    const scores = Float64Array.from(raw);
    scores[0] -= Math.abs(scores[0]) * 2 ** -40 + 1e-300; // pessimistic ties
    names.forEach((name, j) => {
      const list = o.listers[name](candidates, scores, k).items;
      const at = list.indexOf(target);
      if (at >= 0) {
        acc[j].hr += 1;
        acc[j].nd += ndcgAtK(at + 1, k);
      }
      acc[j].lists.push(list);
    });
    o.onProgress?.(t + 1, positions.length);
  }
  const popularity =
    o.popularity ??
    popularityScores({ interactions: it, positions: data.split.train, numItems }).map((x) =>
      Number.isFinite(x) ? x : 0,
    );
  const genres = { itemGenres: data.features.itemGenres, numGenres: data.sizes.numGenres };
  return names.map((name, j) => ({
    name,
    n: positions.length,
    k,
    hitRate: acc[j].hr / positions.length,
    ndcg: acc[j].nd / positions.length,
    diversity: diversityReport({ lists: acc[j].lists.filter((l) => l.length > 0), genres, popularity }),
    lists: acc[j].lists,
  }));
}
