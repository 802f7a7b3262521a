/**
 * Item-KNN as a ranking baseline on the recommender protocol of notebook 06 (lib/recommend/ranking.ts): item
 * similarities from the training targets (lib/eval/next-item-baselines `fitItemKnn`), each user's candidates
 * scored by their summed similarity to the user's last rated movies before the held-out rating.
 */
import type { PreparedData } from '../data/index';
import { fitItemKnn, ItemKnnModel } from '../eval/next-item-baselines';
import type { SequenceSet } from '../eval/next-item';
import type { ItemScorer } from '../eval/ranking';
import { ConfigError } from '../util/errors';
import { heldOutPositions } from './ranking';

/** Options of `itemKnnRankingScorer`. */
export interface ItemKnnRankingOptions {
  /** neighbours kept per item (default 50) */
  neighbours?: number;
  /** score from the user's last this many movies before the held-out rating (default 3, the README's item-KNN) */
  lastItems?: number;
}

/** The training targets of each user run, in time order, as item sequences (fitItemKnn's input). */
export function trainSequences(data: PreparedData): SequenceSet {
  const it = data.interactions;
  const train = Int32Array.from(data.split.train).sort();
  const byUser = new Map<number, { items: number[]; times: number[] }>();
  for (const p of train) {
    const u = it.user[p];
    let s = byUser.get(u);
    if (!s) byUser.set(u, (s = { items: [], times: [] }));
    s.items.push(it.item[p]);
    s.times.push(it.timestamp[p]);
  }
  const users = [...byUser.keys()];
  return {
    users: Int32Array.from(users),
    items: users.map((u) => Int32Array.from(byUser.get(u)!.items)),
    times: users.map((u) => Float64Array.from(byUser.get(u)!.times)),
  };
}

/**
 * An ItemScorer for evaluateLists / evaluateRecommender: item-KNN fitted on the training targets; user run u's
 * candidates get the summed similarity to u's last `lastItems` movies before the held-out rating.
 */
export function itemKnnRankingScorer(data: PreparedData, o: ItemKnnRankingOptions = {}): ItemScorer {
  const lastItems = o.lastItems ?? 3;
  if (!(Number.isInteger(lastItems) && lastItems >= 1))
    throw new ConfigError(`itemKnnRankingScorer: lastItems must be an integer >= 1, got ${lastItems}`);
  const model: ItemKnnModel = fitItemKnn(trainSequences(data), data.sizes.numItems, o.neighbours ?? 50);
  const it = data.interactions;
  const held = new Map<number, number>();
  for (const p of heldOutPositions(data)) held.set(it.user[p], p);
  return (user, items) => {
    const p = held.get(user);
    if (p === undefined) throw new ConfigError(`itemKnnRankingScorer: user run ${user} has no held-out test rating`);
    const scores = new Float32Array(model.numItems); // [V] summed similarity to the recent history
    for (let q = Math.max(it.userOffsets[user], p - lastItems); q < p; q++) {
      const h = it.item[q];
      const nb = model.nbrs[h];
      const sm = model.sims[h];
      if (!nb) continue;
      for (let t = 0; t < nb.length; t++) scores[nb[t]] += sm[t];
    }
    const out = new Float32Array(items.length);
    for (let t = 0; t < items.length; t++) out[t] = scores[items[t]];
    return out;
  };
}
