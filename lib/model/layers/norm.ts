import * as tf from '@tensorflow/tfjs';
import { LayerArgs, Shape, Kwargs, one } from './common';
import { layerNorm } from './ops';

/** Arguments of BroadcastLayerNorm. */
export interface BroadcastLayerNormArgs extends LayerArgs {
  /** Added to the variance. Default 1e-6. */
  epsilon?: number;
}

/**
 * Layer normalisation over the last axis written with broadcasting ops (mean / variance over the last axis,
 * gamma and beta broadcast). Replaces tf.layers.layerNormalization, whose tiling gradient runs thousands
 * of slice/add kernels per step.
 */
export class BroadcastLayerNorm extends tf.layers.Layer {
  static readonly className = 'BroadcastLayerNorm';
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;

  constructor(args: BroadcastLayerNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-6;
  }

  build(inputShape: Shape | Shape[]): void {
    const s = inputShape as Shape;
    const d = s[s.length - 1] as number;
    this.gamma = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => layerNorm(one(inputs), this.gamma.read(), this.beta.read(), this.epsilon)); // [..., D]
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return inputShape as Shape;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(BroadcastLayerNorm);
