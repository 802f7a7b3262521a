/**
 * Rating metrics, each named for what it computes, and mean / standard deviation over seeds.
 *
 * Inputs are parallel arrays of predictions and true ratings (Float32Array, number[] or any ArrayLike).
 * Empty inputs and length mismatches throw a ConfigError naming both lengths.
 */
import { ConfigError } from '../util/errors';
import type { EvalMetrics } from './metrics';

/** A read-only numeric array: Float32Array, Float64Array, Int32Array or number[]. */
export type Numbers = ArrayLike<number>;

/** Default "liked" threshold: a rating >= 4 counts as liked (as in the BST data contract's `liked` label). */
export const LIKED_THRESHOLD = 4;

/** Default tolerance of `within`: a prediction within 0.5 of the true rating. */
export const WITHIN_TOLERANCE = 0.5;

function checkPair(pred: Numbers, truth: Numbers, fn: string): void {
  if (pred.length !== truth.length) {
    throw new ConfigError(`${fn}: predictions have length ${pred.length} but truths have length ${truth.length}`);
  }
  if (pred.length === 0) throw new ConfigError(`${fn}: empty input (0 predictions)`);
}

/** Mean squared error: mean of (pred - truth)^2. */
export function mse(pred: Numbers, truth: Numbers): number {
  checkPair(pred, truth, 'mse');
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = pred[i] - truth[i];
    s += d * d;
  }
  return s / pred.length;
}

/** Root mean squared error: sqrt(mse). */
export function rmse(pred: Numbers, truth: Numbers): number {
  return Math.sqrt(mse(pred, truth));
}

/** Mean absolute error: mean of |pred - truth|. */
export function mae(pred: Numbers, truth: Numbers): number {
  checkPair(pred, truth, 'mae');
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += Math.abs(pred[i] - truth[i]);
  return s / pred.length;
}

/**
 * Share of predictions within `tol` of the truth: mean of [|pred - truth| <= tol] (the bound is inclusive).
 * With the default tol = 0.5 this is "the share within half a star".
 */
export function within(pred: Numbers, truth: Numbers, tol: number = WITHIN_TOLERANCE): number {
  checkPair(pred, truth, 'within');
  if (!(tol >= 0)) throw new ConfigError(`within: tolerance must be >= 0, got ${tol}`);
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (Math.abs(pred[i] - truth[i]) <= tol) c++;
  return c / pred.length;
}

/**
 * Exact AUC of "liked" (truth >= threshold) scored by the predictions: the probability that a random liked
 * sample gets a higher prediction than a random not-liked one, ties counting one half (Mann-Whitney U with
 * average ranks). O(n log n). Returns NaN when all samples are liked or none is (AUC is undefined then).
 */
export function aucLiked(pred: Numbers, truth: Numbers, threshold: number = LIKED_THRESHOLD): number {
  checkPair(pred, truth, 'aucLiked');
  const n = pred.length;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(pred[i])) throw new ConfigError(`aucLiked: prediction ${i} is NaN`);
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => pred[a] - pred[b]);
  let nPos = 0;
  let rankSumPos = 0; // sum of 1-based average ranks of the liked samples
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && pred[order[j + 1]] === pred[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1; // ranks i+1 .. j+1 share their mean
    for (let k = i; k <= j; k++) {
      if (truth[order[k]] >= threshold) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The rating metrics (n, mae, rmse, aucLiked, within05) of predictions against truths, as an EvalMetrics. */
export function ratingMetrics(pred: Numbers, truth: Numbers): EvalMetrics {
  return {
    n: pred.length,
    mae: mae(pred, truth),
    rmse: rmse(pred, truth),
    aucLiked: aucLiked(pred, truth),
    within05: within(pred, truth, WITHIN_TOLERANCE),
  };
}

/** Mean and sample standard deviation of a list of values. */
export interface MeanStd {
  mean: number;
  /** sample standard deviation (divides by n - 1); NaN when n = 1 */
  std: number;
  n: number;
}

/** Mean and sample standard deviation (n - 1 in the denominator; NaN for a single value). Throws on empty input. */
export function meanStd(values: Numbers): MeanStd {
  const n = values.length;
  if (n === 0) throw new ConfigError('meanStd: empty input (0 values)');
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = s / n;
  if (n === 1) return { mean, std: NaN, n };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

/**
 * Summarise runs over seeds: for every numeric field shared by all runs, its mean and sample std.
 * Every run must have the same numeric fields (a ConfigError names the first field that differs);
 * non-numeric fields are ignored.
 */
export function summariseSeeds<T extends object>(runs: T[]): Record<string, MeanStd> {
  if (runs.length === 0) throw new ConfigError('summariseSeeds: no runs');
  const numericKeys = (r: T) =>
    Object.keys(r)
      .filter((k) => typeof (r as Record<string, unknown>)[k] === 'number')
      .sort();
  const keys = numericKeys(runs[0]);
  runs.forEach((r, idx) => {
    const k = numericKeys(r);
    if (k.join(',') !== keys.join(',')) {
      throw new ConfigError(`summariseSeeds: run ${idx} has numeric fields [${k}] but run 0 has [${keys}]`);
    }
  });
  const out: Record<string, MeanStd> = {};
  for (const k of keys) out[k] = meanStd(runs.map((r) => (r as Record<string, number>)[k]));
  return out;
}
