/**
 * In-batch sampled softmax with the log-q sampling-bias correction (Yi et al. 2019, "Sampling-bias-corrected
 * neural modeling for large corpus item recommendations").
 *
 * A batch's candidates are the distinct items among its positives (plus optional uniform extra negatives). An
 * item enters that set with probability q_j, so popular items are negatives far more often than under the full
 * softmax; uncorrected, the model learns s_ij ~ true logit - log q_j and under-ranks popular items. Subtracting
 * log q_j from each candidate's logit makes the sampled softmax a consistent estimate of the full one:
 *
 *   logit_ij = u_i . v_j / temperature - log q_j
 *
 * q_j is estimated from training frequency: with p_j = item j's share of all training positives, N positives per
 * batch and K uniform extras over the V - 1 real items, q_j = 1 - (1 - p_j)^N (1 - 1/(V - 1))^K.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../util/errors';
import { softmaxCrossEntropy } from '../seqrec/train';

/** Floor of q_j, so an item never seen in training does not get an unbounded boost. */
const MIN_Q = 1e-9;

/**
 * log q_j per item index [numItems]: the log-probability that item j is among a batch's candidates, for
 * `positives` positives per batch drawn with probabilities `itemProb` [numItems] and `extra` uniform negatives.
 */
export function candidateLogQ(itemProb: ArrayLike<number>, positives: number, extra = 0): Float32Array {
  const V = itemProb.length;
  if (!(positives >= 1)) throw new ConfigError(`candidateLogQ: positives must be >= 1, got ${positives}`);
  const missExtra = V > 1 ? Math.pow(1 - 1 / (V - 1), extra) : 1;
  const out = new Float32Array(V);
  for (let j = 0; j < V; j++) {
    const p = itemProb[j];
    if (!(p >= 0 && p <= 1)) throw new ConfigError(`candidateLogQ: itemProb[${j}] must be in [0, 1], got ${p}`);
    const miss = Math.exp(positives * Math.log1p(-Math.min(p, 1 - 1e-12))) * missExtra;
    out[j] = Math.log(Math.max(MIN_Q, 1 - miss));
  }
  return out;
}

/** A batch's candidate set: distinct positives (first-appearance order) then extras; labels index into it. */
export interface BatchCandidates {
  /** item indices [C] */
  items: Int32Array;
  /** per positive, its column in `items` [N] */
  labels: Int32Array;
}

/** Distinct positives plus the `extra` items (duplicates of positives are dropped). */
export function batchCandidates(positives: ArrayLike<number>, extra: ArrayLike<number> = []): BatchCandidates {
  const col = new Map<number, number>();
  const labels = new Int32Array(positives.length);
  for (let i = 0; i < positives.length; i++) {
    let c = col.get(positives[i]);
    if (c === undefined) col.set(positives[i], (c = col.size));
    labels[i] = c;
  }
  for (let i = 0; i < extra.length; i++) if (!col.has(extra[i])) col.set(extra[i], col.size);
  return { items: Int32Array.from(col.keys()), labels };
}

/** Options of sampledSoftmaxLoss. */
export interface SampledSoftmaxOptions {
  temperature: number;
  /** log q of each candidate column [C]; omit for no correction */
  logQ?: Float32Array;
}

/**
 * Mean sampled-softmax cross-entropy of inner products `scores` [N, C] (row i: positive i against the batch's
 * candidates) with `labels` [N] (the positive's column): logits = scores / temperature - logQ.
 */
export function sampledSoftmaxLoss(scores: tf.Tensor2D, labels: Int32Array, o: SampledSoftmaxOptions): tf.Scalar {
  const [N, C] = scores.shape;
  if (labels.length !== N) throw new ConfigError(`sampledSoftmaxLoss: ${labels.length} labels for ${N} rows`);
  if (o.logQ && o.logQ.length !== C)
    throw new ConfigError(`sampledSoftmaxLoss: logQ has ${o.logQ.length} entries for ${C} candidates`);
  let logits = tf.div(scores, o.temperature) as tf.Tensor2D; // [N, C]
  if (o.logQ) logits = tf.sub(logits, tf.tensor2d(o.logQ, [1, C])) as tf.Tensor2D; // [N, C] the log-q correction
  return softmaxCrossEntropy(logits, labels);
}
