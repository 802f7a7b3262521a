/**
 * What every rank (the main thread and each worker) does in a data-parallel step: compute and publish its
 * shard's gradients, then apply the average with its own copy of the optimizer. The copies (class, config,
 * state) must start equal and stay equal, so the optimizer is replicated exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { Samples } from '../../data/types';
import { BstModel } from '../../model/build';
import { lossFunction, setDropoutStep } from '../../model/loss';
import { ConfigError } from '../../util/errors';
import { FusedAdamOptimizer } from '../../kernels/fused';
import { adamPowers, setAdamPowers } from '../../model/checkpoint';
import { ExchangeBuffers, OptimizerSpec, readNow } from './protocol';

/** What a worker needs to rebuild `optimizer` exactly: its registered class, config and state. */
export async function optimizerSpec(optimizer: tf.Optimizer): Promise<OptimizerSpec> {
  const className = optimizer.getClassName();
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!registered) {
    throw new ConfigError(
      `data-parallel training: optimizer class ${className} is not registered with ` +
        `tf.serialization.registerClass, so the workers cannot rebuild it`,
    );
  }
  const named = await optimizer.getWeights();
  const state = named.map((w) => ({
    name: w.name,
    shape: w.tensor.shape.slice(),
    values: Float32Array.from(w.tensor.dataSync() as Float32Array),
  }));
  return { className, config: optimizer.getConfig(), state, ...adamPowers(optimizer) };
}

/** The optimizer a spec describes, with its state (in a worker). */
export async function buildOptimizer(spec: OptimizerSpec): Promise<tf.Optimizer> {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (!registered) throw new ConfigError(`optimizer class ${spec.className} is not registered in this thread`);
  const [cls, fromConfig] = registered;
  const optimizer = fromConfig(cls, spec.config) as unknown as tf.Optimizer;
  if (spec.state.length) {
    await optimizer.setWeights(
      spec.state.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, 'float32') })),
    );
  }
  setAdamPowers(optimizer, spec);
  return optimizer;
}

/**
 * This rank's part of step seq: the gradients of `shard`'s loss (lossFunction, the one trainStep minimises)
 * with respect to `vars`, with dropout step `dropoutStep`, published in the exchange. Returns the loss and the
 * gradients, kept for applyAverage (which reads them where they are); the caller disposes them. On an error
 * nothing stays kept.
 */
export function shardGradients(
  model: BstModel,
  vars: tf.Variable[],
  shard: Samples,
  dropoutStep: number,
  exchange: ExchangeBuffers,
  seq: number,
  rank: number,
): { loss: number; grads: (tf.Tensor | undefined)[] } {
  let grads: (tf.Tensor | undefined)[] = [];
  try {
    setDropoutStep(model, dropoutStep);
    const loss = tf.tidy(() => {
      const r = tf.variableGrads(lossFunction(model, shard), vars);
      grads = vars.map((v) => (r.grads[v.name] ? tf.keep(r.grads[v.name]) : undefined));
      exchange.publish(
        seq,
        rank,
        grads.map((g) => (g ? readNow(g) : undefined)),
      ); // views, used at once
      return r.value.dataSync()[0];
    });
    return { loss, grads };
  } catch (e) {
    tf.dispose(grads.filter((g): g is tf.Tensor => !!g));
    throw e;
  }
}

/**
 * Apply the average of step seq's gradients (sum over ranks, in rank order, of weights[r] * rank r's gradients)
 * with `optimizer`. Every rank computes the same values with the same kernels in the same order, so the
 * average, and so every rank's update, is bit-identical. With FusedAdamOptimizer and at most two ranks with
 * rows, the sum happens inside the C Adam kernel, in place, reading this rank's own gradients (`own`) where
 * they are and the other rank's from the exchange; otherwise as tfjs ops on the packed gradients.
 */
export function applyAverage(
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  exchange: ExchangeBuffers,
  seq: number,
  weights: number[],
  own?: { rank: number; grads: (tf.Tensor | undefined)[] },
): void {
  const has = exchange.hasAny(seq, weights);
  const ranks: number[] = [];
  for (let r = 0; r < exchange.ranks; r++) if (weights[r]) ranks.push(r); // a rank without rows: its buffer holds an older step
  if (!ranks.length) return;
  if (optimizer instanceof FusedAdamOptimizer && ranks.length <= 2) {
    // this rank's own gradients are used where they are (same values as its published copy)
    const ownUsable = !!own && has.every((h, i) => !h || !!own.grads[i]);
    const sources = ranks.map((r) => (ownUsable && own && r === own.rank ? own.grads : exchange.flat(seq, r)));
    optimizer.applyPacked(
      vars.map((v) => v.name),
      exchange.layout.offsets,
      has,
      sources,
      ranks.map((r) => weights[r]),
    );
    return;
  }
  tf.tidy(() => {
    let sum: tf.Tensor | undefined;
    for (const r of ranks) {
      const g = tf.mul(tf.tensor1d(exchange.flat(seq, r), 'float32'), tf.scalar(weights[r], 'float32')); // [total]
      sum = sum ? tf.add(sum, g) : g;
    }
    const avg = (sum as tf.Tensor).dataSync() as Float32Array; // one copy; tf.split / tf.slice of 1-d tensors crawl on wasm 4.22
    const named: tf.NamedTensorMap = {};
    vars.forEach((v, i) => {
      const off = exchange.layout.offsets[i];
      if (has[i]) named[v.name] = tf.tensor(avg.subarray(off, off + v.size), v.shape, 'float32');
    });
    optimizer.applyGradients(named);
  });
}
