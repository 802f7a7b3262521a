/** Small helpers shared by the custom layers. */
import * as tf from '@tensorflow/tfjs';

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

/** Embedding initialiser: uniform(-0.05, 0.05) with a derived seed (Keras' default range). */
export function embeddingInit(seed: number, salt: number): ReturnType<typeof tf.initializers.zeros> {
  return tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed * 101 + salt });
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
