/** Inference: batched predictions, evaluation, attention weights; and the training loss. */
import * as tf from '@tensorflow/tfjs';
import { Samples } from '../data/types';
import { ConfigError } from '../util/errors';
import { BstConfig } from './config';
import { BstModel } from './build';
import { labelsOf, samplesToInputs } from './inputs';
import { TransformerBlock } from './layers/index';
import { classificationMetrics, EvalMetrics, regressionMetrics } from './metrics';

/** Forward pass of one batch: predictions [n, 1] (rating, or like probability). Call inside tf.tidy. */
export function forward(model: BstModel, samples: Samples, training = false): tf.Tensor2D {
  const xs = samplesToInputs(samples, model.sizes, model.config);
  return model.net.apply(xs, { training }) as tf.Tensor2D; // [n, 1]
}

/** |e| with the gradient sign(e) (0 at e = 0, as PyTorch's; tf.abs's gradient is -1 there). */
const absSignGrad = tf.customGrad(((e: tf.Tensor, save: tf.GradSaveFunc) => {
  save([e]);
  return { value: tf.abs(e), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sign(saved[0])) };
}) as any) as (e: tf.Tensor) => tf.Tensor;

/**
 * The training loss of a task: for 'rating' the config's objective (`loss`: mean squared error, mean absolute
 * error, or mean Huber loss with threshold huberDelta); for 'like' binary cross-entropy on probabilities.
 */
export function taskLoss(config: BstConfig, yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    if (config.task === 'rating') {
      switch (config.loss) {
        case 'mse':
          return tf.mean(tf.squaredDifference(yPred, yTrue)) as tf.Scalar;
        case 'mae':
          return tf.mean(absSignGrad(tf.sub(yPred, yTrue))) as tf.Scalar;
        case 'huber': {
          const d = config.huberDelta;
          const a = tf.abs(tf.sub(yPred, yTrue)); // [n, 1]
          const q = tf.minimum(a, d); // [n, 1] quadratic part
          return tf.mean(tf.add(tf.mul(0.5, tf.square(q)), tf.mul(d, tf.sub(a, q)))) as tf.Scalar; // e²/2 inside, d(|e| - d/2) outside
        }
        default:
          throw new ConfigError(`config loss=${JSON.stringify((config as any).loss)}: unknown rating loss`);
      }
    }
    const p = tf.clipByValue(yPred, 1e-7, 1 - 1e-7); // [n, 1]
    const ll = tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p)))); // [n, 1]
    return tf.neg(tf.mean(ll)) as tf.Scalar;
  });
}

/** Predictions for every sample of every batch, in order (ratings, or like probabilities). */
export function predict(model: BstModel, batches: Iterable<Samples>): Float32Array {
  const chunks: Float32Array[] = [];
  let total = 0;
  for (const b of batches) {
    if (b.n === 0) continue;
    const out = tf.tidy(() => forward(model, b, false).dataSync() as Float32Array);
    chunks.push(out);
    total += out.length;
  }
  const all = new Float32Array(total);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return all;
}

/**
 * A seed ensemble's predictions: the mean over `models` of each model's predictions (predict()), per sample,
 * in batch order. The batches are read once and reused for every model (a generator is fine). Every model must
 * take the same inputs (same seqLen and vocabularies); an empty list throws a ConfigError.
 */
export function ensemblePredict(models: BstModel[], batches: Iterable<Samples>): Float32Array {
  if (models.length === 0) throw new ConfigError('ensemblePredict: no models (models=[])');
  const list = Array.from(batches);
  const sum = new Float64Array(list.reduce((a, b) => a + b.n, 0));
  for (const m of models) {
    const p = predict(m, list);
    for (let i = 0; i < p.length; i++) sum[i] += p[i];
  }
  return meanOf(sum, models.length);
}

/**
 * The mean of N prediction vectors of equal length (e.g. one per seed, from predict()); a length mismatch
 * throws a ConfigError naming both lengths.
 */
export function meanPredictions(predictions: Float32Array[]): Float32Array {
  if (predictions.length === 0) throw new ConfigError('meanPredictions: no prediction vectors');
  const n = predictions[0].length;
  const sum = new Float64Array(n);
  predictions.forEach((p, j) => {
    if (p.length !== n)
      throw new ConfigError(`meanPredictions: vector ${j} has ${p.length} predictions, vector 0 has ${n}`);
    for (let i = 0; i < n; i++) sum[i] += p[i];
  });
  return meanOf(sum, predictions.length);
}

function meanOf(s: Float64Array, count: number): Float32Array {
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] / count;
  return out;
}

/**
 * The rating objective of predictions `p` against labels `y` (the mean of what taskLoss averages), in plain
 * numbers: MSE, MAE or Huber per config.loss.
 */
export function ratingObjective(config: BstConfig, p: Float32Array, y: Float32Array): number {
  let sum = 0;
  const d = config.huberDelta;
  for (let i = 0; i < p.length; i++) {
    const a = Math.abs(p[i] - y[i]);
    sum += config.loss === 'mse' ? a * a : config.loss === 'mae' ? a : a <= d ? 0.5 * a * a : d * (a - 0.5 * d);
  }
  return p.length ? sum / p.length : NaN;
}

/**
 * Evaluate on batches: 'rating' -> { mse, mae, rmse, within05 } of the raw predictions;
 * 'like' -> { auc, logLoss, accuracy }. `loss` is the task's training loss (config.loss for 'rating': early
 * stopping watches the objective the model is trained on).
 */
export function evaluate(model: BstModel, batches: Iterable<Samples>): EvalMetrics & { loss: number } {
  const preds: Float32Array[] = [];
  const labels: Float32Array[] = [];
  const wrapped: Samples[] = [];
  for (const b of batches) {
    wrapped.length = 0;
    wrapped.push(b);
    preds.push(predict(model, wrapped));
    labels.push(labelsOf(b, model.config));
  }
  const n = preds.reduce((a, p) => a + p.length, 0);
  const p = new Float32Array(n),
    y = new Float32Array(n);
  let o = 0;
  preds.forEach((chunk, i) => {
    p.set(chunk, o);
    y.set(labels[i], o);
    o += chunk.length;
  });
  return evaluatePredictions(model.config, p, y);
}

/** The metrics of evaluate() for given predictions `p` and labels `y` (e.g. a seed ensemble's mean predictions). */
export function evaluatePredictions(
  config: BstConfig,
  p: Float32Array,
  y: Float32Array,
): EvalMetrics & { loss: number } {
  if (config.task === 'rating') {
    const m = regressionMetrics(p, y);
    return { ...m, loss: config.loss === 'mse' ? (m.mse as number) : ratingObjective(config, p, y) };
  }
  const m = classificationMetrics(p, y);
  return { ...m, loss: m.logLoss as number };
}

/** The transformer blocks of a model, in order. */
export function transformerBlocks(model: BstModel): TransformerBlock[] {
  return model.net.layers.filter((l): l is TransformerBlock => l instanceof TransformerBlock);
}

/** Per-head attention probabilities of one block for a batch. */
export interface AttentionMap {
  /** [n, H, L, L]: query position i attends to key position j with weight data[((b*H + h)*L + i)*L + j] */
  shape: [number, number, number, number];
  data: Float32Array;
}

const blockInputModels = new WeakMap<tf.LayersModel, Map<number, tf.LayersModel>>();

/**
 * Attention weights [n, H, L, L] of transformer block `block` (default 0) for a batch (inference mode).
 * Rows sum to 1 over the real (non-padded) positions; the last row is what the target attends to.
 */
export function attentionWeights(model: BstModel, samples: Samples, block = 0): AttentionMap {
  const blocks = transformerBlocks(model);
  if (!(block >= 0 && block < blocks.length))
    throw new ConfigError(`attentionWeights: block=${block} but the model has ${blocks.length} transformer block(s)`);
  const layer = blocks[block];
  let cache = blockInputModels.get(model.net);
  if (!cache) {
    cache = new Map();
    blockInputModels.set(model.net, cache);
  }
  let sub = cache.get(block);
  if (!sub) {
    sub = tf.model({ inputs: model.net.inputs, outputs: layer.input as tf.SymbolicTensor[] });
    cache.set(block, sub);
  }
  const subModel = sub;
  return tf.tidy(() => {
    const xs = samplesToInputs(samples, model.sizes, model.config);
    const [x, mask] = subModel.apply(xs, { training: false }) as tf.Tensor[]; // [n, L, D], [n, L]
    const w = layer.attentionWeights(x, mask); // [n, H, L, L]
    return { shape: w.shape as [number, number, number, number], data: w.dataSync() as Float32Array };
  });
}
