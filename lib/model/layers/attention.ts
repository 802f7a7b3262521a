import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../util/errors';
import { LayerArgs, Shape, Kwargs, SeededStep, biasInit, kernelInit } from './common';
import type { DenseInit } from '../config';
import {
  AttentionWeights,
  attentionProbs,
  dense3d,
  dense3dLeakyRelu,
  layerNorm,
  multiHeadSelfAttention,
  seededDropout,
} from './ops';

/** Arguments of MultiHeadSelfAttention. */
export interface MultiHeadSelfAttentionArgs extends LayerArgs {
  /** Number of heads; must divide the input width. */
  numHeads: number;
  /** Seed of the weight initialisers. Default 0. */
  seed?: number;
  /** Initialiser of the dense weights (see DenseInit). Default 'glorot-uniform'. */
  init?: DenseInit;
}

type WeightSet = { [K in keyof AttentionWeights]: tf.LayerVariable };

function addAttentionWeights(layer: tf.layers.Layer, d: number, seed: number, init: DenseInit): WeightSet {
  const add = (name: string, shape: number[], salt: number) =>
    (layer as any).addWeight(name, shape, 'float32', kernelInit(init, seed, salt)) as tf.LayerVariable;
  const bias = (name: string, salt: number) =>
    (layer as any).addWeight(name, [d], 'float32', biasInit(init, d, seed, salt)) as tf.LayerVariable; // fan_in d
  return {
    wq: add('wq', [d, d], 1),
    bq: bias('bq', 11),
    wk: add('wk', [d, d], 2),
    bk: bias('bk', 12),
    wv: add('wv', [d, d], 3),
    bv: bias('bv', 13),
    wo: add('wo', [d, d], 4),
    bo: bias('bo', 14),
  };
}

/**
 * The attention weights as tensors; `scale` multiplies the query projection (and so every logit): 1 = as
 * stored, 0 = all logits 0, i.e. uniform weights over the real positions (a masked mean).
 */
function readWeights(w: WeightSet, scale = 1): AttentionWeights {
  const out: any = {};
  for (const k of Object.keys(w) as (keyof AttentionWeights)[]) out[k] = w[k].read();
  if (scale !== 1) {
    out.wq = tf.mul(out.wq, scale); // [D, D]
    out.bq = tf.mul(out.bq, scale); // [D]
  }
  return out as AttentionWeights;
}

function checkHeads(layer: string, d: number, numHeads: number): void {
  if (!Number.isInteger(numHeads) || numHeads < 1 || d % numHeads !== 0) {
    throw new ConfigError(`${layer}: numHeads=${numHeads} must divide the input width ${d}`);
  }
}

/**
 * Multi-head self-attention over the sequence axis with a key padding mask.
 * Inputs: [x [B, L, D], mask [B, L] (1 = real position, 0 = padding)]. Output [B, L, D].
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  static readonly className = 'MultiHeadSelfAttention';
  readonly numHeads: number;
  readonly seed: number;
  readonly init: DenseInit;
  private w!: WeightSet;

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    this.numHeads = args.numHeads;
    this.seed = args.seed ?? 0;
    this.init = args.init ?? 'glorot-uniform';
  }

  build(inputShape: Shape | Shape[]): void {
    const d = (inputShape as Shape[])[0][2] as number;
    checkHeads(this.name, d, this.numHeads);
    this.w = addAttentionWeights(this, d, this.seed, this.init);
    this.built = true;
  }

  call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputs as tf.Tensor[]; // [B, L, D], [B, L]
      return multiHeadSelfAttention(x, mask, readWeights(this.w), this.numHeads); // [B, L, D]
    });
  }

  /** Attention probabilities [B, H, L, L] for inputs x [B, L, D] and mask [B, L]. */
  attentionWeights(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => attentionProbs(x, mask, readWeights(this.w), this.numHeads).probs);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads, seed: this.seed, init: this.init };
  }
}
tf.serialization.registerClass(MultiHeadSelfAttention);

/** Arguments of TransformerBlock. */
export interface TransformerBlockArgs extends LayerArgs {
  /** Number of attention heads; must divide the input width. */
  numHeads: number;
  /** Feed-forward inner width = ffnMult x input width. Default 4. */
  ffnMult?: number;
  /** Dropout rate on the attention and feed-forward outputs (training only). Default 0.2. */
  dropout?: number;
  /** LeakyReLU slope of the feed-forward network. Default 0.1. */
  leakyAlpha?: number;
  /** Layer-norm epsilon. Default 1e-6. */
  epsilon?: number;
  /** Seed of the weight initialisers and dropout masks. Default 0. */
  seed?: number;
  /** Multiplier of the attention logits (0 = masked mean; see BstConfig.attentionScale). Default 1. */
  attentionScale?: number;
  /** Initialiser of the attention and feed-forward weights (see DenseInit). Default 'glorot-uniform'. */
  init?: DenseInit;
}

/**
 * The BST paper's transformer block:
 *   S' = LayerNorm(S + Dropout(MultiHead(S)))
 *   F  = LayerNorm(S' + Dropout(LeakyReLU(S' W1 + b1) W2 + b2))
 * Inputs: [x [B, L, D], mask [B, L]]. Output [B, L, D], with padded positions set to 0 so that nothing
 * stored at a padded position reaches the layers after the block.
 */
export class TransformerBlock extends tf.layers.Layer implements SeededStep {
  static readonly className = 'TransformerBlock';
  readonly numHeads: number;
  readonly ffnMult: number;
  readonly dropout: number;
  readonly leakyAlpha: number;
  readonly epsilon: number;
  readonly seed: number;
  readonly attentionScale: number;
  readonly init: DenseInit;
  private step = 0;
  private att!: WeightSet;
  private ln1g!: tf.LayerVariable;
  private ln1b!: tf.LayerVariable;
  private w1!: tf.LayerVariable;
  private b1!: tf.LayerVariable;
  private w2!: tf.LayerVariable;
  private b2!: tf.LayerVariable;
  private ln2g!: tf.LayerVariable;
  private ln2b!: tf.LayerVariable;

  constructor(args: TransformerBlockArgs) {
    super(args);
    this.numHeads = args.numHeads;
    this.ffnMult = args.ffnMult ?? 4;
    this.dropout = args.dropout ?? 0.2;
    this.leakyAlpha = args.leakyAlpha ?? 0.1;
    this.epsilon = args.epsilon ?? 1e-6;
    this.seed = args.seed ?? 0;
    this.attentionScale = args.attentionScale ?? 1;
    this.init = args.init ?? 'glorot-uniform';
  }

  build(inputShape: Shape | Shape[]): void {
    const d = (inputShape as Shape[])[0][2] as number;
    checkHeads(this.name, d, this.numHeads);
    const f = d * this.ffnMult; // feed-forward inner width
    this.att = addAttentionWeights(this, d, this.seed, this.init);
    this.ln1g = this.addWeight('ln1_gamma', [d], 'float32', tf.initializers.ones());
    this.ln1b = this.addWeight('ln1_beta', [d], 'float32', tf.initializers.zeros());
    this.w1 = this.addWeight('ffn_w1', [d, f], 'float32', kernelInit(this.init, this.seed, 5));
    this.b1 = this.addWeight('ffn_b1', [f], 'float32', biasInit(this.init, d, this.seed, 15));
    this.w2 = this.addWeight('ffn_w2', [f, d], 'float32', kernelInit(this.init, this.seed, 6));
    this.b2 = this.addWeight('ffn_b2', [d], 'float32', biasInit(this.init, f, this.seed, 16));
    this.ln2g = this.addWeight('ln2_gamma', [d], 'float32', tf.initializers.ones());
    this.ln2b = this.addWeight('ln2_beta', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  /** Set the dropout step counter (see SeededStep). */
  setDropoutStep(step: number): void {
    this.step = step;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const training = kwargs?.training === true;
    const step = this.step;
    if (training) this.step++;
    return tf.tidy(() => {
      const [x, mask] = inputs as tf.Tensor[]; // [B, L, D], [B, L]
      const drop = (t: tf.Tensor, salt: number) =>
        training ? seededDropout(t, this.dropout, `${this.seed}:${salt}:${step}`) : t;
      const att = drop(multiHeadSelfAttention(x, mask, readWeights(this.att, this.attentionScale), this.numHeads), 1); // [B, L, D]
      const s1 = layerNorm(tf.add(x, att), this.ln1g.read(), this.ln1b.read(), this.epsilon); // [B, L, D]
      const h = dense3dLeakyRelu(s1, this.w1.read(), this.b1.read(), this.leakyAlpha); // [B, L, F]
      const ffn = drop(dense3d(h, this.w2.read(), this.b2.read()), 2); // [B, L, D]
      const out = layerNorm(tf.add(s1, ffn), this.ln2g.read(), this.ln2b.read(), this.epsilon); // [B, L, D]
      return tf.mul(out, tf.expandDims(mask, -1)); // [B, L, D] padded rows = 0
    });
  }

  /** Attention probabilities [B, H, L, L] of this block for its inputs x [B, L, D] and mask [B, L]. */
  attentionWeights(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => attentionProbs(x, mask, readWeights(this.att, this.attentionScale), this.numHeads).probs);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      attentionScale: this.attentionScale,
      numHeads: this.numHeads,
      ffnMult: this.ffnMult,
      dropout: this.dropout,
      leakyAlpha: this.leakyAlpha,
      epsilon: this.epsilon,
      seed: this.seed,
      init: this.init,
    };
  }
}
tf.serialization.registerClass(TransformerBlock);
