import * as tf from '@tensorflow/tfjs';
import { LayerArgs, Shape, Kwargs, one, embeddingInit } from './common';
import type { EmbeddingInit } from '../config';

/** Arguments of LearnedPositionEmbedding. */
export interface LearnedPositionEmbeddingArgs extends LayerArgs {
  /** Embedding width P. */
  outputDim: number;
  /** Initialiser seed. Default 0. */
  seed?: number;
  /** Table initialiser (see EmbeddingInit). Default 'keras-uniform'. */
  init?: EmbeddingInit;
}

/**
 * One learned vector per sequence index. Input: any [B, L] tensor (only its shape is used, e.g. itemSeq).
 * Output [B, L, P]. The table size L comes from the input shape; broadcast by addition (no tile).
 */
export class LearnedPositionEmbedding extends tf.layers.Layer {
  static readonly className = 'LearnedPositionEmbedding';
  readonly outputDim: number;
  readonly seed: number;
  readonly init: EmbeddingInit;
  private table!: tf.LayerVariable;

  constructor(args: LearnedPositionEmbeddingArgs) {
    super(args);
    this.outputDim = args.outputDim;
    this.seed = args.seed ?? 0;
    this.init = args.init ?? 'keras-uniform';
  }

  build(inputShape: Shape | Shape[]): void {
    const L = (inputShape as Shape)[1] as number;
    this.table = this.addWeight('positions', [L, this.outputDim], 'float32', embeddingInit(this.seed, 1, this.init));
    this.built = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [B, L] = one(inputs).shape;
      return tf.add(tf.zeros([B, L, this.outputDim]), this.table.read()); // [B, L, P]
    });
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], s[1], this.outputDim];
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputDim: this.outputDim, seed: this.seed, init: this.init };
  }
}
tf.serialization.registerClass(LearnedPositionEmbedding);

/** The fixed sinusoidal table [L, P] of Vaswani et al.: sin on even, cos on odd columns. */
export function sinusoidTable(L: number, P: number, maxWavelength = 10000): Float32Array {
  const out = new Float32Array(L * P);
  for (let p = 0; p < L; p++) {
    for (let i = 0; i < P; i++) {
      const angle = p / Math.pow(maxWavelength, (2 * Math.floor(i / 2)) / P);
      out[p * P + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
  return out;
}

/** Arguments of SinusoidalPositionEncoding. */
export interface SinusoidalPositionEncodingArgs extends LayerArgs {
  /** Encoding width P. */
  outputDim: number;
  /** Longest wavelength. Default 10000. */
  maxWavelength?: number;
}

/** Fixed sinusoidal position encodings (no weights). Input any [B, L] tensor; output [B, L, P]. */
export class SinusoidalPositionEncoding extends tf.layers.Layer {
  static readonly className = 'SinusoidalPositionEncoding';
  readonly outputDim: number;
  readonly maxWavelength: number;

  constructor(args: SinusoidalPositionEncodingArgs) {
    super(args);
    this.outputDim = args.outputDim;
    this.maxWavelength = args.maxWavelength ?? 10000;
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [B, L] = one(inputs).shape;
      const table = tf.tensor2d(sinusoidTable(L, this.outputDim, this.maxWavelength), [L, this.outputDim]); // [L, P]
      return tf.add(tf.zeros([B, L, this.outputDim]), table); // [B, L, P]
    });
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], s[1], this.outputDim];
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), outputDim: this.outputDim, maxWavelength: this.maxWavelength };
  }
}
tf.serialization.registerClass(SinusoidalPositionEncoding);

/**
 * Log-scale bucket of a time gap in seconds: 0 for no gap (the target slot and padding), 1 for gaps up to
 * minSeconds, then log-spaced up to maxSeconds; longer gaps share the last bucket (numBuckets - 1).
 */
export function timeBucket(seconds: number, numBuckets: number, maxSeconds: number, minSeconds = 60): number {
  if (!(seconds > 0)) return 0;
  const r = Math.log(Math.max(seconds, minSeconds) / minSeconds) / Math.log(maxSeconds / minSeconds);
  return 1 + Math.min(numBuckets - 2, Math.max(0, Math.floor((numBuckets - 1) * r)));
}

/** Arguments of TimeDeltaEmbedding. */
export interface TimeDeltaEmbeddingArgs extends LayerArgs {
  /** Number of buckets (bucket 0 = no gap). */
  numBuckets: number;
  /** Gap (seconds) where the last bucket starts. */
  maxSeconds: number;
  /** Gaps up to this many seconds share bucket 1. Default 60. */
  minSeconds?: number;
  /** Embedding width P. */
  outputDim: number;
  /** Initialiser seed. Default 0. */
  seed?: number;
  /** Table initialiser (see EmbeddingInit). Default 'keras-uniform'. */
  init?: EmbeddingInit;
}

/**
 * The paper's time feature: the gap between each history item and the target, bucketed on a log scale
 * (timeBucket) and embedded. Input timeDelta [B, L] seconds; output [B, L, P].
 */
export class TimeDeltaEmbedding extends tf.layers.Layer {
  static readonly className = 'TimeDeltaEmbedding';
  readonly numBuckets: number;
  readonly maxSeconds: number;
  readonly minSeconds: number;
  readonly outputDim: number;
  readonly seed: number;
  readonly init: EmbeddingInit;
  private table!: tf.LayerVariable;

  constructor(args: TimeDeltaEmbeddingArgs) {
    super(args);
    this.numBuckets = args.numBuckets;
    this.maxSeconds = args.maxSeconds;
    this.minSeconds = args.minSeconds ?? 60;
    this.outputDim = args.outputDim;
    this.seed = args.seed ?? 0;
    this.init = args.init ?? 'keras-uniform';
  }

  build(_inputShape: Shape | Shape[]): void {
    this.table = this.addWeight(
      'buckets',
      [this.numBuckets, this.outputDim],
      'float32',
      embeddingInit(this.seed, 1, this.init),
    );
    this.built = true;
  }

  /** Bucket indices [B, L] (int32) of gaps [B, L] in seconds; same rule as timeBucket(). */
  buckets(delta: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const d = tf.cast(delta, 'float32'); // [B, L]
      const r = tf.div(
        tf.log(tf.div(tf.maximum(d, this.minSeconds), this.minSeconds)),
        Math.log(this.maxSeconds / this.minSeconds),
      ); // [B, L]
      const b = tf.add(tf.clipByValue(tf.floor(tf.mul(r, this.numBuckets - 1)), 0, this.numBuckets - 2), 1); // [B, L] in 1..nb-1
      return tf.cast(tf.where(tf.greater(d, 0), b, tf.zerosLike(b)), 'int32'); // [B, L]
    });
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => tf.gather(this.table.read(), this.buckets(one(inputs)))); // [B, L, P]
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = inputShape as Shape;
    return [s[0], s[1], this.outputDim];
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numBuckets: this.numBuckets,
      maxSeconds: this.maxSeconds,
      minSeconds: this.minSeconds,
      outputDim: this.outputDim,
      seed: this.seed,
      init: this.init,
    };
  }
}
tf.serialization.registerClass(TimeDeltaEmbedding);
