/** Small helpers shared by the custom layers. */
import * as tf from '@tensorflow/tfjs';
import type { DenseInit, EmbeddingInit } from '../config';

/** tfjs-layers' LayerArgs (not exported by name from @tensorflow/tfjs). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
/** A layer's input/output shape (null = any size, e.g. the batch). */
export type Shape = (number | null)[];
/** Keyword arguments passed to Layer.call (e.g. { training: true }). */
export type Kwargs = { [key: string]: any };

/** Glorot-uniform initialiser with a seed derived from the layer's seed and a per-weight salt. */
export function glorot(seed: number, salt: number): ReturnType<typeof tf.initializers.zeros> {
  return tf.initializers.glorotUniform({ seed: seed * 101 + salt });
}

/** A tfjs weight initialiser. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/**
 * Kernel initialiser of a dense weight (see DenseInit), seeded from the layer's seed and a per-weight salt
 * ('glorot-uniform' draws exactly what glorot() draws).
 */
export function kernelInit(kind: DenseInit, seed: number, salt: number): Initializer {
  const s = seed * 101 + salt;
  switch (kind) {
    case 'torch-uniform':
      return tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: s }); // U(±1/√fan_in)
    case 'glorot-uniform':
      return tf.initializers.glorotUniform({ seed: s });
    case 'glorot-normal':
      return tf.initializers.glorotNormal({ seed: s });
    case 'he-normal':
      return tf.initializers.heNormal({ seed: s });
    default:
      throw new Error(`unknown dense initialiser ${JSON.stringify(kind)}`);
  }
}

/**
 * Bias initialiser of a dense weight with `fanIn` inputs: U(±1/√fan_in) for 'torch-uniform' (as PyTorch's
 * nn.Linear), zeros for the Keras-style kinds.
 */
export function biasInit(kind: DenseInit, fanIn: number, seed: number, salt: number): Initializer {
  if (kind !== 'torch-uniform') return tf.initializers.zeros();
  const bound = 1 / Math.sqrt(fanIn);
  return tf.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seed * 101 + salt });
}

/**
 * Embedding initialiser with a derived seed: 'keras-uniform' = U(±0.05) (Keras' default range, the default),
 * 'torch-normal' = N(0, 1) (PyTorch's nn.Embedding).
 */
export function embeddingInit(seed: number, salt: number, kind: EmbeddingInit = 'keras-uniform'): Initializer {
  switch (kind) {
    case 'keras-uniform':
      return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed * 101 + salt });
    case 'torch-normal':
      return tf.initializers.randomNormal({ mean: 0, stddev: 1, seed: seed * 101 + salt });
    default:
      throw new Error(`unknown embedding initialiser ${JSON.stringify(kind)}`);
  }
}

/** The single tensor of a call's inputs (layers with one input). */
export function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/** Layers with seeded dropout implement this: the training loop sets the step so runs and resumes repeat. */
export interface SeededStep {
  /** Set the dropout step counter (the next training call uses this step's masks). */
  setDropoutStep(step: number): void;
}

/** True when `layer` has seeded dropout. */
export function isSeededStep(layer: unknown): layer is SeededStep {
  return typeof (layer as any)?.setDropoutStep === 'function';
}
