/**
 * History-aware rating baselines: they see, for each target, the same visible history as the BST (the user's
 * ratings before the target position in their time-ordered run, whatever split those ratings belong to; see
 * lib/data/samples.ts), so they show how much of the BST's accuracy a sequence-free use of that history gives.
 *
 * - `HistoryBlend`: (1 - w) (mu + b_u + b_i) + w * (mean of the visible history ratings), over the last
 *   `window` ratings (the BST's L-1) or the whole visible history (`window` 0).
 * - `ItemKnn`: b_ui + sum_{j in N_k(i; u)} s_ij (r_uj - b_uj) / sum |s_ij|, s_ij a shrunk Pearson-baseline
 *   similarity from the training ratings only, N_k the k history items most similar to the target.
 *
 * Both need the target's position (`RatingData.position`), so `predict` takes a third argument; both fit their
 * parameters (biases, similarities) on the training ratings only. Unknown items (index 0) and empty histories
 * fall back to the bias model's prediction. Predictions are clipped to the training rating range.
 */
import type { Interactions } from '../data/types';
import { ConfigError } from '../util/errors';
import { RatingData, RatingModel, UserItemBias, UserItemBiasOptions } from './baselines';

function requirePositions(
  positions: ArrayLike<number> | undefined,
  n: number,
  who: string,
  N: number,
): ArrayLike<number> {
  if (!positions)
    throw new ConfigError(`${who}.predict: target positions are required (RatingData.position; use gatherRatings)`);
  if (positions.length !== n) throw new ConfigError(`${who}.predict: ${n} users but ${positions.length} positions`);
  for (let k = 0; k < n; k++) {
    const p = positions[k];
    if (!(Number.isInteger(p) && p >= 0 && p < N))
      throw new ConfigError(`${who}.predict: position ${p} (entry ${k}) is outside 0..${N - 1}`);
  }
  return positions;
}

function checkPairs(
  users: ArrayLike<number>,
  items: ArrayLike<number>,
  positions: ArrayLike<number>,
  it: Interactions,
  who: string,
): void {
  for (let k = 0; k < users.length; k++) {
    const p = positions[k];
    if (it.user[p] !== users[k] || it.item[p] !== items[k]) {
      throw new ConfigError(
        `${who}.predict: entry ${k} is (user ${users[k]}, item ${items[k]}) but position ${p} holds (user ${it.user[p]}, item ${it.item[p]})`,
      );
    }
  }
}

function clip(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}

/** Training rating range (min, max) for clipping. */
function ratingRange(train: RatingData): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < train.rating.length; k++) {
    const r = train.rating[k];
    if (r < min) min = r;
    if (r > max) max = r;
  }
  return { min, max };
}

/** Start of the visible history of the target at position p: its run start, or p - window when window > 0. */
export function historyStart(it: Interactions, p: number, window: number): number {
  const runStart = it.userOffsets[it.user[p]];
  return window > 0 ? Math.max(runStart, p - window) : runStart;
}

// ---------------------------------------------------------------------------------------------------------------

/** Options of `HistoryBlend`. */
export interface HistoryBlendOptions {
  /** the ratings (same Interactions as the split's positions) whose histories are read */
  interactions: Interactions;
  /** weight w of the history mean, in [0, 1] (default 0.3) */
  weight: number;
  /** history ratings averaged: the last `window` before the target (the BST's L-1), 0 = all visible (default 0) */
  window: number;
  /** L2 penalty of the bias model (default USER_ITEM_BIAS_DEFAULTS.reg) */
  reg?: number;
  /** a bias model already fitted on the same training ratings (fit then reuses it instead of refitting) */
  base?: UserItemBias;
}

/**
 * r(u, i) = (1 - w) bias(u, i) + w * mean(visible history ratings of u before the target), with bias(u, i) the
 * regularised `UserItemBias` prediction; an empty history gives bias(u, i). See the module comment.
 */
export class HistoryBlend implements RatingModel {
  readonly name = 'history-blend';
  readonly opts: HistoryBlendOptions;
  private base?: UserItemBias;
  private range = { min: -Infinity, max: Infinity };
  private cum = new Float64Array(0); // [N + 1] prefix sums of interactions.rating

  constructor(opts: Partial<HistoryBlendOptions> & { interactions: Interactions }) {
    this.opts = { weight: 0.3, window: 0, ...opts };
    const { weight, window } = this.opts;
    if (!(weight >= 0 && weight <= 1)) throw new ConfigError(`HistoryBlend: weight must be in [0, 1], got ${weight}`);
    if (!(Number.isInteger(window) && window >= 0))
      throw new ConfigError(`HistoryBlend: window must be an integer >= 0 (0 = whole history), got ${window}`);
    this.base = opts.base;
  }

  /** Fit the bias model on the training ratings (unless a fitted `base` was given); index the history sums. */
  fit(train: RatingData): HistoryBlend {
    if (!this.base) {
      const bo: Partial<UserItemBiasOptions> = this.opts.reg === undefined ? {} : { reg: this.opts.reg };
      this.base = new UserItemBias(bo).fit(train);
    }
    this.range = ratingRange(train);
    this.cum = prefixSums(this.opts.interactions.rating);
    return this;
  }

  /** Blend of the bias prediction and the history mean for each target position (required). */
  predict(users: ArrayLike<number>, items: ArrayLike<number>, positions?: ArrayLike<number>): Float32Array {
    if (users.length !== items.length)
      throw new ConfigError(`HistoryBlend.predict: ${users.length} users but ${items.length} items`);
    const base =
      this.base ??
      (() => {
        throw new ConfigError('HistoryBlend: predict called before fit');
      })();
    if (this.cum.length === 0) throw new ConfigError('HistoryBlend: predict called before fit');
    const it = this.opts.interactions;
    const pos = requirePositions(positions, users.length, 'HistoryBlend', it.rating.length);
    checkPairs(users, items, pos, it, 'HistoryBlend');
    const b = base.predict(users, items);
    const { weight: w, window } = this.opts;
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      const p = pos[k];
      const a = historyStart(it, p, window);
      const x = p > a ? (1 - w) * b[k] + (w * (this.cum[p] - this.cum[a])) / (p - a) : b[k];
      out[k] = clip(x, this.range.min, this.range.max);
    }
    return out;
  }

  /** { weight, window (0 = whole history), reg } */
  params(): Record<string, number> {
    return { weight: this.opts.weight, window: this.opts.window, reg: this.base ? this.base.opts.reg : NaN };
  }
}

function prefixSums(x: Float32Array): Float64Array {
  const cum = new Float64Array(x.length + 1);
  for (let k = 0; k < x.length; k++) cum[k + 1] = cum[k] + x[k];
  return cum;
}

// ---------------------------------------------------------------------------------------------------------------

/** Default `ItemSimilarity` item limit: the dense tables take 12 bytes per item pair (ML-1M's 3,707 items: 165 MB). */
export const ITEM_KNN_MAX_ITEMS = 4000;

/**
 * Co-rating statistics of the training ratings on baseline residuals e_ui = r_ui - b_ui, over the users who
 * rated both items: dot(i, j) = sum e_ui e_uj, sq(i, j) = sum e_ui^2, count(i, j) = number of such users. The
 * shrunk Pearson-baseline similarity is
 *   s_ij = dot(i, j) / sqrt(sq(i, j) sq(j, i)) * count(i, j) / (count(i, j) + shrink).
 * Dense [numItems, numItems] tables; item 0 (unknown) has no statistics.
 */
export class ItemSimilarity {
  readonly numItems: number;
  private dot: Float32Array; // [M, M] symmetric
  private sq: Float32Array; // [M, M] sq[i * M + j] = sum over co-raters of e_ui^2
  private count: Int32Array; // [M, M] symmetric

  /** Accumulate the statistics of `train` under the fitted bias model `base`. */
  constructor(train: RatingData, base: UserItemBias, opts: { maxItems?: number } = {}) {
    let M = 1;
    for (let k = 0; k < train.item.length; k++) if (train.item[k] + 1 > M) M = train.item[k] + 1;
    const maxItems = opts.maxItems ?? ITEM_KNN_MAX_ITEMS;
    if (M > maxItems)
      throw new ConfigError(
        `ItemSimilarity: ${M} items exceed maxItems ${maxItems} (dense tables of ${((12 * M * M) / 1e6).toFixed(0)} MB)`,
      );
    this.numItems = M;
    this.dot = new Float32Array(M * M);
    this.sq = new Float32Array(M * M);
    this.count = new Int32Array(M * M);
    const pred = base.predict(train.user, train.item);
    // group training ratings by user
    const order = Array.from({ length: train.user.length }, (_, k) => k).sort((a, b) => train.user[a] - train.user[b]);
    const items: number[] = [];
    const res: number[] = [];
    const flush = () => {
      for (let x = 0; x < items.length; x++) {
        const i = items[x];
        const ei = res[x];
        const row = i * M;
        for (let y = 0; y < items.length; y++) {
          if (y === x) continue;
          const j = items[y];
          this.dot[row + j] += ei * res[y];
          this.sq[row + j] += ei * ei;
          this.count[row + j]++;
        }
      }
      items.length = 0;
      res.length = 0;
    };
    let cur = -1;
    for (const k of order) {
      if (train.user[k] !== cur) {
        flush();
        cur = train.user[k];
      }
      if (train.item[k] === 0 || train.user[k] === 0) continue;
      items.push(train.item[k]);
      res.push(train.rating[k] - pred[k]);
    }
    flush();
  }

  /** s_ij with shrinkage `shrink` (0 for unknown items, for i === j, or without co-raters). */
  similarity(i: number, j: number, shrink: number): number {
    const M = this.numItems;
    if (!(i > 0 && i < M && j > 0 && j < M) || i === j) return 0;
    const n = this.count[i * M + j];
    if (n === 0) return 0;
    const den = Math.sqrt(this.sq[i * M + j] * this.sq[j * M + i]);
    return den > 0 ? (this.dot[i * M + j] / den) * (n / (n + shrink)) : 0;
  }

  /** Number of training users who rated both i and j. */
  coRaters(i: number, j: number): number {
    const M = this.numItems;
    return i > 0 && i < M && j > 0 && j < M && i !== j ? this.count[i * M + j] : 0;
  }
}

/** Options of `ItemKnn`. */
export interface ItemKnnOptions {
  interactions: Interactions;
  /** neighbours: the k visible history items most similar to the target (default 40) */
  k: number;
  /** shrinkage of the similarity toward 0 for few co-raters (default 100) */
  shrink: number;
  /** L2 penalty of the bias model (default USER_ITEM_BIAS_DEFAULTS.reg) */
  reg?: number;
  /** a bias model already fitted on the same training ratings */
  base?: UserItemBias;
  /** similarity statistics already computed from the same training ratings and `base` */
  similarity?: ItemSimilarity;
  /** passed to ItemSimilarity */
  maxItems?: number;
}

/**
 * Item-based KNN on baseline residuals (Koren 2010, "Factor in the neighbors", without learned weights):
 *   r(u, i) = b_ui + sum_{j in N} s_ij (r_uj - b_uj) / sum_{j in N} |s_ij|
 * with b the fitted `UserItemBias`, N the (at most) k items of u's visible history before the target with the
 * largest positive s_ij (ties: the more recent), and r_uj the rating u gave j in that history. Similarities come
 * from the training ratings only; the history may hold earlier validation/test ratings, as the BST's does.
 */
export class ItemKnn implements RatingModel {
  readonly name = 'item-knn';
  readonly opts: ItemKnnOptions;
  private base?: UserItemBias;
  private sim?: ItemSimilarity;
  private range = { min: -Infinity, max: Infinity };

  constructor(opts: Partial<ItemKnnOptions> & { interactions: Interactions }) {
    this.opts = { k: 40, shrink: 100, ...opts };
    if (!(Number.isInteger(this.opts.k) && this.opts.k >= 1))
      throw new ConfigError(`ItemKnn: k must be an integer >= 1, got ${this.opts.k}`);
    if (!(this.opts.shrink >= 0)) throw new ConfigError(`ItemKnn: shrink must be >= 0, got ${this.opts.shrink}`);
    this.base = opts.base;
    this.sim = opts.similarity;
  }

  /** Fit the bias model and the similarity statistics on training ratings (reusing those given). */
  fit(train: RatingData): ItemKnn {
    if (!this.base) {
      const bo: Partial<UserItemBiasOptions> = this.opts.reg === undefined ? {} : { reg: this.opts.reg };
      this.base = new UserItemBias(bo).fit(train);
    }
    if (!this.sim) this.sim = new ItemSimilarity(train, this.base, { maxItems: this.opts.maxItems });
    this.range = ratingRange(train);
    return this;
  }

  /** The fitted bias model and similarity statistics (to share across a grid). */
  fitted(): { base: UserItemBias; similarity: ItemSimilarity } {
    if (!this.base || !this.sim) throw new ConfigError('ItemKnn: fitted() called before fit');
    return { base: this.base, similarity: this.sim };
  }

  /** KNN prediction for each target position (required). */
  predict(users: ArrayLike<number>, items: ArrayLike<number>, positions?: ArrayLike<number>): Float32Array {
    if (users.length !== items.length)
      throw new ConfigError(`ItemKnn.predict: ${users.length} users but ${items.length} items`);
    const { base, similarity: sim } = this.fitted();
    const it = this.opts.interactions;
    const pos = requirePositions(positions, users.length, 'ItemKnn', it.rating.length);
    checkPairs(users, items, pos, it, 'ItemKnn');
    const { k: K, shrink } = this.opts;
    const mu = base.params().mean;
    const out = new Float32Array(users.length);
    const sims: number[] = [];
    const resid: number[] = [];
    const idx: number[] = [];
    for (let n = 0; n < users.length; n++) {
      const p = pos[n];
      const u = users[n];
      const i = items[n];
      const bu = base.userBias(u);
      let x = mu + bu + base.itemBias(i);
      if (i > 0) {
        sims.length = 0;
        resid.length = 0;
        for (let q = historyStart(it, p, 0); q < p; q++) {
          const j = it.item[q];
          const s = sim.similarity(i, j, shrink);
          if (s > 0) {
            sims.push(s);
            resid.push(it.rating[q] - (mu + bu + base.itemBias(j)));
          }
        }
        if (sims.length > 0) {
          idx.length = 0;
          for (let t = 0; t < sims.length; t++) idx.push(t);
          idx.sort((a, b) => sims[b] - sims[a] || b - a);
          let num = 0;
          let den = 0;
          for (let t = 0; t < Math.min(K, idx.length); t++) {
            num += sims[idx[t]] * resid[idx[t]];
            den += Math.abs(sims[idx[t]]);
          }
          x += num / den;
        }
      }
      out[n] = clip(x, this.range.min, this.range.max);
    }
    return out;
  }

  /** { k, shrink, reg } */
  params(): Record<string, number> {
    return { k: this.opts.k, shrink: this.opts.shrink, reg: this.base ? this.base.opts.reg : NaN };
  }
}
