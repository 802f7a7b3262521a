/**
 * The training objective shared by trainStep (train.ts) and the data-parallel workers (lib/train/parallel): task
 * loss + L2 penalty, and the dropout step of the seeded layers. Kept out of train.ts so lib/train/parallel can use
 * it without an import cycle (tslab's module loader recurses forever on cycles).
 */
import * as tf from '@tensorflow/tfjs';
import { Samples } from '../data/types';
import { BstModel } from './build';
import { samplesToInputs, samplesToLabels } from './inputs';
import { LearnedPositionEmbedding, RatingEmbedding, TimeDeltaEmbedding, isSeededStep } from './layers/index';
import { taskLoss } from './predict';

/** Set the dropout step of every seeded layer (so masks depend only on seed and step). */
export function setDropoutStep(model: BstModel, step: number): void {
  for (const l of model.net.layers) if (isSeededStep(l)) l.setDropoutStep(step);
}

/** Dense / attention / feed-forward kernels (rank-2 weights outside embedding tables), for the L2 penalty. */
function l2Weights(model: BstModel): tf.Variable[] {
  const out: tf.Variable[] = [];
  for (const layer of model.net.layers) {
    const isTable =
      layer instanceof LearnedPositionEmbedding ||
      layer instanceof TimeDeltaEmbedding ||
      layer instanceof RatingEmbedding ||
      layer.getClassName() === 'Embedding';
    if (isTable) continue;
    for (const w of layer.trainableWeights) if (w.shape.length === 2) out.push(w.read() as tf.Variable);
  }
  return out;
}

/**
 * The training objective of a batch as a function of the model's variables: the task loss (mean over the
 * batch, dropout on) plus the L2 penalty. For optimizer.minimize and tf.variableGrads; trainStep and the
 * data-parallel workers (lib/train/parallel) both use it. Call inside tf.tidy (the input tensors it creates are
 * the tidy's to dispose).
 */
export function lossFunction(model: BstModel, samples: Samples): () => tf.Scalar {
  const c = model.config;
  const decay = c.l2 > 0 ? l2Weights(model) : [];
  const xs = samplesToInputs(samples, model.sizes, c);
  const y = samplesToLabels(samples, c); // [n, 1]
  return () => {
    const pred = model.net.apply(xs, { training: true }) as tf.Tensor; // [n, 1]
    let l = taskLoss(c, y, pred);
    if (decay.length) l = tf.add(l, tf.mul(c.l2, tf.addN(decay.map((w) => tf.sum(tf.square(w)))))) as tf.Scalar;
    return l;
  };
}
