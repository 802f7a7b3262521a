import * as tf from '@tensorflow/tfjs';
import { LayerArgs, Shape, Kwargs, SeededStep, one, embeddingInit } from './common';
import type { EmbeddingInit } from '../config';
import { seededDropout } from './ops';

/**
 * Key padding mask from the item sequence: 1 where itemSeq != 0, 0 at padding; the last slot (the target)
 * is always 1. Input itemSeq [B, L]; output float32 [B, L].
 */
export class PaddingMask extends tf.layers.Layer {
  static readonly className = 'PaddingMask';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const items = one(inputs); // [B, L]
      const L = items.shape[1] as number;
      const real = tf.cast(tf.notEqual(items, 0), 'float32'); // [B, L]
      const targetSlot = new Float32Array(L);
      targetSlot[L - 1] = 1; // (tf.oneHot refuses depth 1, and L = 1 is the no-history model)
      // [L], not [1, L]: the wasm backend broadcasts a trailing-shape operand fast, a leading 1 ~20x slower
      const target = tf.tensor1d(targetSlot); // [L]
      return tf.maximum(real, target); // [B, L]
    });
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return inputShape as Shape;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
tf.serialization.registerClass(PaddingMask);

/** The last slot of a sequence (the BST's target slot). Input [B, L, D]; output [B, D]. */
export class LastSlot extends tf.layers.Layer {
  static readonly className = 'LastSlot';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs); // [B, L, D]
      const [B, L, D] = x.shape as number[];
      return tf.reshape(tf.slice(x, [0, L - 1, 0], [B, 1, D]), [B, D]); // [B, D]
    });
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], s[2]];
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
tf.serialization.registerClass(LastSlot);

/** Arguments of SeededDropout. */
export interface SeededDropoutArgs extends LayerArgs {
  /** Fraction of units dropped during training. */
  rate: number;
  /** Seed of the masks; each training call uses the next step's masks. Default 0. */
  seed?: number;
}

/**
 * Dropout whose masks depend only on (seed, step): seeded runs repeat exactly. (tf.layers.dropout with a
 * seed draws the same mask at every step.)
 */
export class SeededDropout extends tf.layers.Layer implements SeededStep {
  static readonly className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  private step = 0;

  constructor(args: SeededDropoutArgs) {
    super(args);
    this.rate = args.rate;
    this.seed = args.seed ?? 0;
  }

  /** Set the dropout step counter (see SeededStep). */
  setDropoutStep(step: number): void {
    this.step = step;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = one(inputs);
    if (kwargs?.training !== true || this.rate <= 0) return tf.clone(x);
    const step = this.step++;
    return tf.tidy(() => seededDropout(x, this.rate, `${this.seed}:0:${step}`));
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return inputShape as Shape;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/** Arguments of RatingEmbedding. */
export interface RatingEmbeddingArgs extends LayerArgs {
  /** Embedding width. */
  outputDim: number;
  /** Highest rating; ratings are embedded in half-star steps, index round(2 r) in 0..2 maxRating. Default 5. */
  maxRating?: number;
  /** Initialiser seed. Default 0. */
  seed?: number;
  /** Table initialiser (see EmbeddingInit). Default 'keras-uniform'. */
  init?: EmbeddingInit;
}

/**
 * Embeds the history ratings (0 = none: padding or the target slot; 0.5..maxRating in half stars).
 * Input ratingSeq [B, L] float; output [B, L, P].
 */
export class RatingEmbedding extends tf.layers.Layer {
  static readonly className = 'RatingEmbedding';
  readonly outputDim: number;
  readonly maxRating: number;
  readonly seed: number;
  readonly init: EmbeddingInit;
  private table!: tf.LayerVariable;

  constructor(args: RatingEmbeddingArgs) {
    super(args);
    this.outputDim = args.outputDim;
    this.maxRating = args.maxRating ?? 5;
    this.seed = args.seed ?? 0;
    this.init = args.init ?? 'keras-uniform';
  }

  build(_inputShape: Shape | Shape[]): void {
    const levels = 2 * this.maxRating + 1; // 0, 0.5, 1, ..., maxRating
    this.table = this.addWeight('ratings', [levels, this.outputDim], 'float32', embeddingInit(this.seed, 1, this.init));
    this.built = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const idx = tf.cast(tf.clipByValue(tf.round(tf.mul(one(inputs), 2)), 0, 2 * this.maxRating), 'int32'); // [B, L]
      return tf.gather(this.table.read(), idx); // [B, L, P]
    });
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], s[1], this.outputDim];
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      outputDim: this.outputDim,
      maxRating: this.maxRating,
      seed: this.seed,
      init: this.init,
    };
  }
}
tf.serialization.registerClass(RatingEmbedding);
