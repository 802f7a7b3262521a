/**
 * Rating baselines for the BST: global mean, user + item bias, biased matrix factorisation (SGD, as Surprise's
 * SVD), and the history-aware HistoryBlend and ItemKnn (history-baselines.ts). They fit on exactly the BST's
 * training targets (split.train positions), choose hyperparameters on split.val only, and are scored on split.test.
 *
 * Unknown-index rule (all models): index 0 of a vocabulary means "unknown"; an index that is 0, outside the
 * fitted range, or never seen in the training ratings has no learned parameters. Its bias and factors are 0,
 * so the prediction falls back to the remaining terms: an unknown item gets mu + b_u, an unknown user
 * mu + b_i, both unknown mu (the global training mean). Training rows that carry index 0 still count for
 * the global mean and for the other side's parameters. Every prediction is clipped to the [min, max] of the
 * training ratings.
 */
import type { Interactions } from '../data/types';
import { ConfigError, TrainingError } from '../util/errors';
import { Rng } from '../util/rng';
import { EvalMetrics } from '../model/metrics';
import { ratingMetrics } from '../model/rating-metrics';

/** Parallel arrays of (user, item, rating) triples. */
export interface RatingData {
  user: Int32Array; // [n]
  item: Int32Array; // [n]
  rating: Float32Array; // [n]
  /** target positions in the Interactions the triples came from (gatherRatings sets it; history-aware models need it) */
  position?: Int32Array; // [n]
}

/** Options passed to `RatingModel.fit`. */
export interface FitOptions {
  /** validation ratings, used only by models that stop early (BiasedMF); never used to fit parameters */
  val?: RatingData;
}

/** A model that predicts ratings from (user, item) index pairs. */
export interface RatingModel {
  /** short stable id, e.g. 'global-mean' */
  readonly name: string;
  /** Fit on training ratings; returns the model. */
  fit(train: RatingData, opts?: FitOptions): RatingModel;
  /**
   * Predicted ratings, clipped to the training rating range. `positions` (the targets' positions in the
   * Interactions) is read only by history-aware models (lib/eval/history-baselines.ts), which require it.
   */
  predict(users: ArrayLike<number>, items: ArrayLike<number>, positions?: ArrayLike<number>): Float32Array; // [n]
  /** Hyperparameters and fitted summary numbers worth reporting. */
  params(): Record<string, number>;
}

/** The (user, item, rating) triples at the given positions of `interactions` (e.g. split.train). */
export function gatherRatings(interactions: Interactions, positions: Int32Array): RatingData {
  const n = positions.length;
  const N = interactions.rating.length;
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const rating = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const p = positions[k];
    if (!(p >= 0 && p < N)) throw new ConfigError(`gatherRatings: position ${p} (entry ${k}) is outside 0..${N - 1}`);
    user[k] = interactions.user[p];
    item[k] = interactions.item[p];
    rating[k] = interactions.rating[p];
  }
  return { user, item, rating, position: Int32Array.from(positions) };
}

/** Predictions of `model` for every triple of `data`. */
export function predictData(model: RatingModel, data: RatingData): Float32Array {
  return model.predict(data.user, data.item, data.position);
}

/** Metrics (MAE, RMSE, AUC of liked, within 0.5) of `model` on `data`. */
export function evaluateModel(model: RatingModel, data: RatingData): EvalMetrics {
  return ratingMetrics(predictData(model, data), data.rating);
}

/** Summary statistics of training ratings shared by every baseline. */
interface TrainStats {
  mean: number;
  min: number;
  max: number;
  numUsers: number; // max user index + 1
  numItems: number; // max item index + 1
  userCount: Int32Array; // [numUsers] training ratings per user (0 at index 0)
  itemCount: Int32Array; // [numItems]
}

function trainStats(train: RatingData, who: string): TrainStats {
  const n = train.rating.length;
  if (n === 0) throw new ConfigError(`${who}: no training ratings`);
  if (train.user.length !== n || train.item.length !== n) {
    throw new ConfigError(`${who}: user/item/rating lengths differ (${train.user.length}/${train.item.length}/${n})`);
  }
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  let maxU = 0;
  let maxI = 0;
  for (let k = 0; k < n; k++) {
    const r = train.rating[k];
    if (!Number.isFinite(r)) throw new ConfigError(`${who}: training rating ${k} is ${r}`);
    const u = train.user[k];
    const i = train.item[k];
    if (u < 0 || i < 0) throw new ConfigError(`${who}: negative index at training rating ${k} (user ${u}, item ${i})`);
    s += r;
    if (r < min) min = r;
    if (r > max) max = r;
    if (u > maxU) maxU = u;
    if (i > maxI) maxI = i;
  }
  const userCount = new Int32Array(maxU + 1);
  const itemCount = new Int32Array(maxI + 1);
  for (let k = 0; k < n; k++) {
    if (train.user[k] !== 0) userCount[train.user[k]]++;
    if (train.item[k] !== 0) itemCount[train.item[k]]++;
  }
  return { mean: s / n, min, max, numUsers: maxU + 1, numItems: maxI + 1, userCount, itemCount };
}

function notFitted(who: string): never {
  throw new ConfigError(`${who}: predict called before fit`);
}

function checkPredictArgs(users: ArrayLike<number>, items: ArrayLike<number>, who: string): void {
  if (users.length !== items.length) {
    throw new ConfigError(`${who}.predict: ${users.length} users but ${items.length} items`);
  }
}

/** Index into a fitted table, or -1 when the index is unknown (0 or out of range). */
function known(idx: number, size: number): number {
  return idx > 0 && idx < size ? idx : -1;
}

function clip(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}

// ---------------------------------------------------------------------------------------------------------------

/** The bias at index i, 0 when i is unknown (0, out of range, or never seen in training). */
function biasAt(b: ArrayLike<number>, i: number): number {
  const k = known(i, b.length);
  return k < 0 ? 0 : b[k];
}

/** Predicts the mean of the training ratings for every pair. */
export class GlobalMean implements RatingModel {
  readonly name = 'global-mean';
  private stats?: TrainStats;

  /** Fit: the global mean of the training ratings. */
  fit(train: RatingData): GlobalMean {
    this.stats = trainStats(train, 'GlobalMean');
    return this;
  }

  /** The training mean for every pair. */
  predict(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    checkPredictArgs(users, items, 'GlobalMean');
    const st = this.stats ?? notFitted('GlobalMean');
    return new Float32Array(users.length).fill(st.mean);
  }

  /** { mean } */
  params(): Record<string, number> {
    return { mean: this.stats ? this.stats.mean : NaN };
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Options of `UserItemBias`. */
export interface UserItemBiasOptions {
  /** L2 penalty lambda on every bias (default 5) */
  reg: number;
  /** maximum alternating sweeps (default 300) */
  maxIter: number;
  /** stop when no bias moves by more than this in one sweep (default 1e-6) */
  tol: number;
  /**
   * over-relaxation factor of each update, b <- b + relax (b_exact - b): 1 is plain alternating least squares;
   * any value in (0, 2) converges to the same minimum, 1.5 in about half the sweeps on MovieLens (default 1.5)
   */
  relax: number;
}

/** Default hyperparameters of `UserItemBias`. */
export const USER_ITEM_BIAS_DEFAULTS: UserItemBiasOptions = { reg: 5, maxIter: 300, tol: 1e-6, relax: 1.5 };

/**
 * r(u, i) = mu + b_u + b_i, with mu the training mean and the biases minimising
 *   sum (r - mu - b_u - b_i)^2 + reg * (sum b_u^2 + sum b_i^2)
 * by exact alternating least squares: b_i = sum_u (r - mu - b_u) / (reg + n_i), then
 * b_u = sum_i (r - mu - b_i) / (reg + n_u), repeated until no bias moves more than `tol`
 * (the objective is strictly convex for reg > 0, so the sweeps converge to its unique minimum), each update
 * over-relaxed by `relax` to converge faster.
 */
export class UserItemBias implements RatingModel {
  readonly name = 'user-item-bias';
  readonly opts: UserItemBiasOptions;
  private stats?: TrainStats;
  private bu = new Float64Array(0);
  private bi = new Float64Array(0);
  private sweeps = 0;

  constructor(opts: Partial<UserItemBiasOptions> = {}) {
    this.opts = { ...USER_ITEM_BIAS_DEFAULTS, ...opts };
    if (!(this.opts.reg >= 0)) throw new ConfigError(`UserItemBias: reg must be >= 0, got ${this.opts.reg}`);
    if (!(this.opts.relax > 0 && this.opts.relax < 2))
      throw new ConfigError(`UserItemBias: relax must be in (0, 2), got ${this.opts.relax}`);
    if (!(this.opts.maxIter >= 1))
      throw new ConfigError(`UserItemBias: maxIter must be >= 1, got ${this.opts.maxIter}`);
  }

  /** Fit the biases on training ratings. */
  fit(train: RatingData): UserItemBias {
    const st = (this.stats = trainStats(train, 'UserItemBias'));
    const { reg, maxIter, tol, relax } = this.opts;
    const n = train.rating.length;
    const bu = (this.bu = new Float64Array(st.numUsers));
    const bi = (this.bi = new Float64Array(st.numItems));
    const sumU = new Float64Array(st.numUsers);
    const sumI = new Float64Array(st.numItems);
    const { user, item, rating } = train;
    const mu = st.mean;
    let sweep = 0;
    for (; sweep < maxIter; sweep++) {
      let delta = 0;
      sumI.fill(0);
      for (let k = 0; k < n; k++) sumI[item[k]] += rating[k] - mu - bu[user[k]];
      for (let i = 1; i < st.numItems; i++) {
        const c = st.itemCount[i];
        const v = c > 0 ? bi[i] + relax * (sumI[i] / (reg + c) - bi[i]) : 0;
        if (Math.abs(v - bi[i]) > delta) delta = Math.abs(v - bi[i]);
        bi[i] = v;
      }
      sumU.fill(0);
      for (let k = 0; k < n; k++) sumU[user[k]] += rating[k] - mu - bi[item[k]];
      for (let u = 1; u < st.numUsers; u++) {
        const c = st.userCount[u];
        const v = c > 0 ? bu[u] + relax * (sumU[u] / (reg + c) - bu[u]) : 0;
        if (Math.abs(v - bu[u]) > delta) delta = Math.abs(v - bu[u]);
        bu[u] = v;
      }
      if (delta <= tol) {
        sweep++;
        break;
      }
    }
    this.sweeps = sweep;
    return this;
  }

  /** User bias b_u (0 for an unknown user). */
  userBias(u: number): number {
    return biasAt(this.bu, u);
  }

  /** Item bias b_i (0 for an unknown item). */
  itemBias(i: number): number {
    return biasAt(this.bi, i);
  }

  /** mu + b_u + b_i, clipped to the training rating range. */
  predict(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    checkPredictArgs(users, items, 'UserItemBias');
    const st = this.stats ?? notFitted('UserItemBias');
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      out[k] = clip(st.mean + this.userBias(users[k]) + this.itemBias(items[k]), st.min, st.max);
    }
    return out;
  }

  /** { reg, sweeps, mean } */
  params(): Record<string, number> {
    return { reg: this.opts.reg, sweeps: this.sweeps, mean: this.stats ? this.stats.mean : NaN };
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Options of `BiasedMF`. */
export interface BiasedMFOptions {
  /** latent dimensions (default 16) */
  factors: number;
  /** L2 penalty on biases and factors, applied at each SGD step as in Surprise's SVD (default 0.1) */
  reg: number;
  /** SGD learning rate (default 0.02) */
  lr: number;
  /** maximum epochs (default 50) */
  epochs: number;
  /** with validation data: stop after this many epochs without a lower validation RMSE and keep the best (default 3) */
  patience: number;
  /** standard deviation of the normal factor initialisation (default 0.1) */
  initStd: number;
  /** seed of the initialisation and of the per-epoch shuffles (default 0) */
  seed: number;
  /**
   * shuffle the training ratings once (seeded), then visit blocks of `shuffleBlock` of them in a new seeded
   * order each epoch (default true); false: data order, every epoch
   */
  shuffle: boolean;
  /** ratings per block of the per-epoch shuffle (default 256; 1 = a full shuffle of single ratings, slower) */
  shuffleBlock: number;
}

/** Default hyperparameters of `BiasedMF`. */
export const BIASED_MF_DEFAULTS: BiasedMFOptions = {
  factors: 16,
  reg: 0.1,
  lr: 0.02,
  epochs: 50,
  patience: 3,
  initStd: 0.1,
  seed: 0,
  shuffle: true,
  shuffleBlock: 256,
};

/**
 * One SGD pass over ratings from..to-1 (Surprise's SVD update, see BiasedMF); returns the sum of squared
 * errors before each step. Index 0 (unknown) never gets parameters. A standalone function so V8 optimises
 * the hot loop on its own.
 */
function sgdPass(a: {
  user: Int32Array;
  item: Int32Array;
  rating: Float32Array;
  from: number;
  to: number;
  bu: Float64Array;
  bi: Float64Array;
  P: Float64Array; // [numUsers, F]
  Q: Float64Array; // [numItems, F]
  F: number;
  mu: number;
  lr: number;
  reg: number;
}): number {
  const { user, item, rating, to, bu, bi, P, Q, F, mu, lr, reg } = a;
  let sse = 0;
  for (let k = a.from; k < to; k++) {
    const u = user[k];
    const i = item[k];
    const uk = u !== 0;
    const ik = i !== 0;
    const pu = u * F;
    const qi = i * F;
    let dot = 0;
    if (uk && ik) for (let f = 0; f < F; f++) dot += P[pu + f] * Q[qi + f];
    const e = rating[k] - (mu + bu[u] + bi[i] + dot);
    sse += e * e;
    if (uk) bu[u] += lr * (e - reg * bu[u]);
    if (ik) bi[i] += lr * (e - reg * bi[i]);
    if (uk && ik) {
      for (let f = 0; f < F; f++) {
        const p = P[pu + f];
        const q = Q[qi + f];
        P[pu + f] = p + lr * (e * q - reg * p);
        Q[qi + f] = q + lr * (e * p - reg * q);
      }
    }
  }
  return sse;
}

/**
 * Biased matrix factorisation r(u, i) = mu + b_u + b_i + p_u . q_i trained by SGD (Surprise's SVD update):
 *   e = r - pred;  b_u += lr (e - reg b_u);  b_i += lr (e - reg b_i);
 *   p_u += lr (e q_i - reg p_u);  q_i += lr (e p_u - reg q_i)
 * Biases start at 0, factors of users/items seen in training at N(0, initStd^2) from a seeded Rng; unknown
 * ones stay 0. The ratings are visited in a seeded block-shuffled order (see `shuffle`). With `opts.val` given
 * to fit, training stops early on validation RMSE and keeps the best epoch. Divergence throws a TrainingError.
 */
export class BiasedMF implements RatingModel {
  readonly name = 'biased-mf';
  readonly opts: BiasedMFOptions;
  private stats?: TrainStats;
  private bu = new Float64Array(0);
  private bi = new Float64Array(0);
  private P = new Float64Array(0); // [numUsers, factors]
  private Q = new Float64Array(0); // [numItems, factors]
  private bestEpoch = 0;
  private bestValRmse = NaN;

  constructor(opts: Partial<BiasedMFOptions> = {}) {
    const o = (this.opts = { ...BIASED_MF_DEFAULTS, ...opts });
    if (!(Number.isInteger(o.factors) && o.factors >= 0))
      throw new ConfigError(`BiasedMF: factors must be an integer >= 0, got ${o.factors}`);
    if (!(o.reg >= 0)) throw new ConfigError(`BiasedMF: reg must be >= 0, got ${o.reg}`);
    if (!(o.lr > 0)) throw new ConfigError(`BiasedMF: lr must be > 0, got ${o.lr}`);
    if (!(Number.isInteger(o.epochs) && o.epochs >= 1))
      throw new ConfigError(`BiasedMF: epochs must be an integer >= 1, got ${o.epochs}`);
    if (!(o.patience >= 1)) throw new ConfigError(`BiasedMF: patience must be >= 1, got ${o.patience}`);
    if (!(o.shuffleBlock >= 1)) throw new ConfigError(`BiasedMF: shuffleBlock must be >= 1, got ${o.shuffleBlock}`);
    if (!(o.initStd >= 0)) throw new ConfigError(`BiasedMF: initStd must be >= 0, got ${o.initStd}`);
  }

  /** Fit by SGD; with `opts.val`, early stopping on validation RMSE (the validation ratings are never fitted). */
  fit(train: RatingData, fitOpts: FitOptions = {}): BiasedMF {
    const st = (this.stats = trainStats(train, 'BiasedMF'));
    const { factors: F, reg, lr, epochs, patience, initStd, seed, shuffle, shuffleBlock } = this.opts;
    const rng = new Rng(seed);
    const bu = (this.bu = new Float64Array(st.numUsers));
    const bi = (this.bi = new Float64Array(st.numItems));
    const P = (this.P = new Float64Array(st.numUsers * F)); // [numUsers, F]
    const Q = (this.Q = new Float64Array(st.numItems * F)); // [numItems, F]
    for (let u = 1; u < st.numUsers; u++) {
      if (st.userCount[u] > 0) for (let f = 0; f < F; f++) P[u * F + f] = rng.normal() * initStd;
    }
    for (let i = 1; i < st.numItems; i++) {
      if (st.itemCount[i] > 0) for (let f = 0; f < F; f++) Q[i * F + f] = rng.normal() * initStd;
    }
    const n = train.rating.length;
    const mu = st.mean;
    // Shuffling: permute the data once (a contiguous copy), then visit it in a new seeded random order of
    // blocks of `shuffleBlock` ratings each epoch. Random single-rating access costs ~5x more time in cache
    // misses than this, and the samples are already in random order within a block.
    let user = train.user;
    let item = train.item;
    let rating = train.rating;
    const B = shuffle ? Math.max(1, Math.floor(shuffleBlock)) : n;
    const numBlocks = Math.ceil(n / B);
    const blocks = new Int32Array(numBlocks);
    for (let b = 0; b < numBlocks; b++) blocks[b] = b;
    if (shuffle) {
      const perm = rng.shuffle(Int32Array.from({ length: n }, (_, k) => k));
      user = new Int32Array(n);
      item = new Int32Array(n);
      rating = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        const j = perm[k];
        user[k] = train.user[j];
        item[k] = train.item[j];
        rating[k] = train.rating[j];
      }
    }

    const val = fitOpts.val;
    if (val && val.rating.length === 0) throw new ConfigError('BiasedMF: validation data is empty');
    let best: { bu: Float64Array; bi: Float64Array; P: Float64Array; Q: Float64Array } | undefined;
    this.bestValRmse = Infinity;
    this.bestEpoch = epochs;
    let sinceBest = 0;

    for (let epoch = 1; epoch <= epochs; epoch++) {
      if (shuffle) rng.shuffle(blocks);
      let sse = 0; // training squared error of this epoch, before each step
      for (let b = 0; b < numBlocks; b++) {
        const from = blocks[b] * B;
        sse += sgdPass({ user, item, rating, from, to: Math.min(n, from + B), bu, bi, P, Q, F, mu, lr, reg });
      }
      if (!Number.isFinite(sse)) {
        throw new TrainingError(`BiasedMF: SGD diverged at epoch ${epoch} (training loss ${sse}; lr ${lr} too large?)`);
      }
      if (val) {
        const pred = this.predict(val.user, val.item);
        let ss = 0;
        for (let k = 0; k < pred.length; k++) ss += (pred[k] - val.rating[k]) ** 2;
        const r = Math.sqrt(ss / pred.length);
        if (r < this.bestValRmse) {
          this.bestValRmse = r;
          this.bestEpoch = epoch;
          best = { bu: bu.slice(), bi: bi.slice(), P: P.slice(), Q: Q.slice() };
          sinceBest = 0;
        } else if (++sinceBest >= patience) {
          break;
        }
      }
    }
    if (best) {
      this.bu = best.bu;
      this.bi = best.bi;
      this.P = best.P;
      this.Q = best.Q;
    } else {
      this.bestValRmse = NaN;
    }
    return this;
  }

  /** User bias b_u (0 for an unknown user). */
  userBias(u: number): number {
    return biasAt(this.bu, u);
  }

  /** Item bias b_i (0 for an unknown item). */
  itemBias(i: number): number {
    return biasAt(this.bi, i);
  }

  /** mu + b_u + b_i + p_u . q_i, unknown terms 0, clipped to the training rating range. */
  predict(users: ArrayLike<number>, items: ArrayLike<number>): Float32Array {
    checkPredictArgs(users, items, 'BiasedMF');
    const st = this.stats ?? notFitted('BiasedMF');
    const F = this.opts.factors;
    const out = new Float32Array(users.length);
    for (let k = 0; k < users.length; k++) {
      const u = known(users[k], this.bu.length);
      const i = known(items[k], this.bi.length);
      let x = st.mean;
      if (u >= 0) x += this.bu[u];
      if (i >= 0) x += this.bi[i];
      if (u >= 0 && i >= 0) {
        const pu = u * F;
        const qi = i * F;
        for (let f = 0; f < F; f++) x += this.P[pu + f] * this.Q[qi + f];
      }
      out[k] = clip(x, st.min, st.max);
    }
    return out;
  }

  /** { factors, reg, lr, epochs (the epoch kept), valRmse (NaN without validation) } */
  params(): Record<string, number> {
    const o = this.opts;
    return { factors: o.factors, reg: o.reg, lr: o.lr, epochs: this.bestEpoch, valRmse: this.bestValRmse };
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** One grid point tried by `tuneOnValidation`. */
export interface Trial<P> {
  params: P;
  /** the fitted model's params() (e.g. the early-stopped epoch) */
  fitted: Record<string, number>;
  val: EvalMetrics;
  fitSeconds: number;
}

/** The outcome of `tuneOnValidation`. */
export interface Tuned<P> {
  model: RatingModel;
  params: P;
  val: EvalMetrics;
  /** seconds to fit the chosen grid point */
  fitSeconds: number;
  /** seconds for the whole grid */
  tuneSeconds: number;
  trials: Trial<P>[];
}

/**
 * Fit one model per grid point on `train` and keep the one with the lowest validation RMSE (`criterion`
 * 'mae' picks by MAE; the first grid point wins ties). Only `train` is fitted; `val` chooses.
 */
export function tuneOnValidation<P>(opts: {
  grid: P[];
  make: (params: P) => RatingModel;
  train: RatingData;
  val: RatingData;
  criterion?: 'rmse' | 'mae';
}): Tuned<P> {
  const { grid, make, train, val } = opts;
  const criterion = opts.criterion ?? 'rmse';
  if (grid.length === 0) throw new ConfigError('tuneOnValidation: empty grid');
  if (val.rating.length === 0) throw new ConfigError('tuneOnValidation: no validation ratings');
  const t0 = Date.now();
  const trials: Trial<P>[] = [];
  let bestIdx = 0;
  let bestModel: RatingModel | undefined;
  for (const params of grid) {
    const t = Date.now();
    const model = make(params).fit(train, { val });
    const fitSeconds = (Date.now() - t) / 1000;
    const m = evaluateModel(model, val);
    trials.push({ params, fitted: model.params(), val: m, fitSeconds });
    if (!bestModel || (m[criterion] ?? NaN) < (trials[bestIdx].val[criterion] ?? NaN)) {
      bestIdx = trials.length - 1;
      bestModel = model;
    }
  }
  const best = trials[bestIdx];
  return {
    model: bestModel!,
    params: best.params,
    val: best.val,
    fitSeconds: best.fitSeconds,
    tuneSeconds: (Date.now() - t0) / 1000,
    trials,
  };
}
