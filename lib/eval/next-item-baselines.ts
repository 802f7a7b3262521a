/**
 * Classic next-item baselines as NextItemScorers (lib/eval/next-item): popularity, recent popularity and
 * item-to-item nearest neighbours. Each is fitted on a phase's `fit` sequences only.
 */
import { ConfigError } from '../util/errors';
import { NextItemScorer, SequenceSet, itemCounts } from './next-item';

/** The same scores for every input: training events per item. */
export function popularityNextItem(fit: SequenceSet, numItems: number): NextItemScorer {
  return sameForEveryInput(Float32Array.from(itemCounts(fit, numItems)));
}

/** A scorer that gives every input the same `scores` [numItems] (the popularity baselines). */
function sameForEveryInput(scores: Float32Array): NextItemScorer {
  const numItems = scores.length;
  return (inputs) => {
    const out = new Float32Array(inputs.length * numItems);
    for (let r = 0; r < inputs.length; r++) out.set(scores, r * numItems);
    return out;
  };
}

/** Options of recentPopularityNextItem. */
export interface RecentPopularityOptions {
  /** the phase's cut: only events in [cut - days, cut) count */
  cut: number;
  /** window length in days */
  days: number;
}

/**
 * Popularity over the last `days` days before the cut; equal recent counts are ordered by all-time training
 * popularity (added as a fraction below one).
 */
export function recentPopularityNextItem(
  fit: SequenceSet,
  numItems: number,
  o: RecentPopularityOptions,
): NextItemScorer {
  if (!(o.days > 0)) throw new ConfigError(`recentPopularityNextItem: days must be > 0, got ${o.days}`);
  const from = o.cut - o.days * 86400;
  const all = itemCounts(fit, numItems);
  let maxAll = 0;
  for (let j = 0; j < numItems; j++) maxAll = Math.max(maxAll, all[j]);
  const s = new Float64Array(numItems);
  fit.items.forEach((seq, u) => {
    const t = fit.times[u];
    for (let i = 0; i < seq.length; i++) if (t[i] >= from && t[i] < o.cut) s[seq[i]]++;
  });
  const scores = new Float32Array(numItems);
  for (let j = 0; j < numItems; j++) scores[j] = s[j] + all[j] / (maxAll + 1);
  return sameForEveryInput(scores);
}

/** Item-to-item cosine similarities, kept as each item's top neighbours. */
export interface ItemKnnModel {
  numItems: number;
  /** neighbour indices per item (at most `neighbours`, best first) */
  nbrs: Int32Array[];
  /** their cosine similarities */
  sims: Float32Array[];
}

/**
 * Fit item-KNN: cosine similarity of the items' binary user vectors (co-occurrence in the fit sequences:
 * |U_i and U_j| / sqrt(|U_i| |U_j|)), keeping each item's `neighbours` most similar items.
 */
export function fitItemKnn(fit: SequenceSet, numItems: number, neighbours: number): ItemKnnModel {
  if (!(Number.isInteger(neighbours) && neighbours >= 1))
    throw new ConfigError(`fitItemKnn: neighbours must be an integer >= 1, got ${neighbours}`);
  const V = numItems;
  const co = new Float32Array(V * V); // [V, V] co-occurrence counts
  const deg = new Float64Array(V);
  for (const seq of fit.items) {
    const uniq = Array.from(new Set(Array.from(seq)));
    for (const a of uniq) {
      deg[a]++;
      const rowA = a * V;
      for (const b of uniq) if (b !== a) co[rowA + b]++;
    }
  }
  const nbrs: Int32Array[] = [];
  const sims: Float32Array[] = [];
  const k = Math.min(neighbours, V - 1);
  for (let i = 0; i < V; i++) {
    const cand: Array<[number, number]> = [];
    if (deg[i] > 0) {
      for (let j = 1; j < V; j++) {
        const c = co[i * V + j];
        if (c > 0) cand.push([j, c / Math.sqrt(deg[i] * deg[j])]);
      }
    }
    cand.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const top = cand.slice(0, k);
    nbrs.push(Int32Array.from(top.map((t) => t[0])));
    sims.push(Float32Array.from(top.map((t) => t[1])));
  }
  return { numItems: V, nbrs, sims };
}

/** Options of itemKnnNextItem. */
export interface ItemKnnScoreOptions {
  /** score from the user's last this many items */
  lastItems: number;
  /** use each item's best this many neighbours (default: all the model kept) */
  neighbours?: number;
}

/** Scorer of an item-KNN model: the sum of similarities from the user's last `lastItems` items. */
export function itemKnnNextItem(model: ItemKnnModel, o: ItemKnnScoreOptions): NextItemScorer {
  const { lastItems } = o;
  const kMax = o.neighbours ?? Infinity;
  if (!(Number.isInteger(lastItems) && lastItems >= 1))
    throw new ConfigError(`itemKnnNextItem: lastItems must be an integer >= 1, got ${lastItems}`);
  if (!(kMax >= 1)) throw new ConfigError(`itemKnnNextItem: neighbours must be >= 1, got ${kMax}`);
  const V = model.numItems;
  return (inputs) => {
    const out = new Float32Array(inputs.length * V);
    inputs.forEach((seq, r) => {
      const base = r * V;
      for (let p = Math.max(0, seq.length - lastItems); p < seq.length; p++) {
        const h = seq[p];
        const nb = model.nbrs[h];
        const sm = model.sims[h];
        if (!nb) continue;
        const k = Math.min(nb.length, kMax);
        for (let t = 0; t < k; t++) out[base + nb[t]] += sm[t];
      }
    });
    return out;
  };
}
