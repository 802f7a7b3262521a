/** Pure builder: BstConfig + FeatureSizes -> the BST network (tf.LayersModel, functional API). */
import * as tf from '@tensorflow/tfjs';
import { FeatureSizes } from '../data/types';
import { Rng } from '../util/rng';
import { BstConfig, modelWidth, outputBiasOf, resolveConfig } from './config';
import { inputSpecs } from './inputs';
import { BST_LAYERS } from './parts';
import {
  LearnedPositionEmbedding,
  PaddingMask,
  RatingEmbedding,
  SeededDropout,
  SinusoidalPositionEncoding,
  TimeDeltaEmbedding,
  TransformerBlock,
  LastSlot,
  biasInit,
  embeddingInit,
  kernelInit,
} from './layers/index';

/** A built BST model: the tfjs network plus the config and vocabularies it was built from. */
export interface BstModel {
  net: tf.LayersModel;
  config: BstConfig;
  sizes: FeatureSizes;
}

type SymbolicTensor = tf.SymbolicTensor;

/**
 * Build the BST network. The target item sits in the last slot of the item sequence (as in the paper):
 * sequence = concat per position [item emb ; position or time emb ; history-rating emb] -> padding-masked
 * transformer blocks -> flatten [B, L*D] ; concat user / demographic / genre / year features -> MLP with
 * LeakyReLU + dropout -> rating (linear) or like probability (sigmoid). No batch size is baked in.
 */
export function buildBst(config: Partial<BstConfig> | BstConfig, sizes: FeatureSizes): BstModel {
  const c = resolveConfig(config);
  const rng = new Rng(c.seed);
  const seed = () => rng.int(2 ** 30);
  const specs = inputSpecs(c, sizes);
  const inputs = new Map<string, SymbolicTensor>();
  for (const s of specs) inputs.set(s.name, tf.input({ shape: s.shape, dtype: s.dtype, name: s.name }));
  const inp = (name: string) => inputs.get(name) as SymbolicTensor;
  /** A dense layer after the transformer (genre projection, MLP), initialised by c.headInit; fan_in from the input. */
  const headDense = (units: number, name: string, x: SymbolicTensor): SymbolicTensor => {
    const s = seed();
    const fanIn = x.shape[x.shape.length - 1] as number;
    return tf.layers
      .dense({
        units,
        kernelInitializer: kernelInit(c.headInit, s, 0),
        biasInitializer: biasInit(c.headInit, fanIn, s, 1),
        name,
      })
      .apply(x) as SymbolicTensor; // [B, units]
  };
  const embed = (name: string, vocab: number, dim: number) =>
    tf.layers.embedding({
      inputDim: vocab,
      outputDim: dim,
      embeddingsInitializer: embeddingInit(seed(), 0, c.embeddingInit),
      name,
    });

  // --- behaviour sequence, [B, L, D] ---
  const itemSeq = inp('itemSeq'); // [B, L]
  const parts: SymbolicTensor[] = [
    embed(BST_LAYERS.itemEmbedding, sizes.numItems, c.embedDim).apply(itemSeq) as SymbolicTensor,
  ]; // [B, L, E]
  switch (c.positionKind) {
    case 'learned':
      parts.push(
        new LearnedPositionEmbedding({
          outputDim: c.posDim,
          seed: seed(),
          init: c.embeddingInit,
          name: 'position_embedding',
        }).apply(itemSeq) as SymbolicTensor,
      ); // [B, L, P]
      break;
    case 'sinusoidal':
      parts.push(
        new SinusoidalPositionEncoding({ outputDim: c.posDim, name: 'position_encoding' }).apply(
          itemSeq,
        ) as SymbolicTensor,
      ); // [B, L, P]
      break;
    case 'time':
      parts.push(
        new TimeDeltaEmbedding({
          numBuckets: c.timeBuckets,
          maxSeconds: c.timeMaxSeconds,
          outputDim: c.posDim,
          seed: seed(),
          init: c.embeddingInit,
          name: 'time_embedding',
        }).apply(inp('timeDelta')) as SymbolicTensor,
      ); // [B, L, P]
      break;
    case 'none':
      break;
    default:
      throw new Error(`unknown positionKind ${String((c as any).positionKind)}`);
  }
  if (c.useHistoryRatings) {
    parts.push(
      new RatingEmbedding({
        outputDim: c.ratingDim,
        seed: seed(),
        init: c.embeddingInit,
        name: 'rating_embedding',
      }).apply(inp('ratingSeq')) as SymbolicTensor,
    ); // [B, L, R]
  }
  let seq =
    parts.length === 1
      ? parts[0]
      : (tf.layers.concatenate({ axis: -1, name: 'sequence' }).apply(parts) as SymbolicTensor); // [B, L, D]
  const mask = new PaddingMask({ name: 'padding_mask' }).apply(itemSeq) as SymbolicTensor; // [B, L]
  for (let i = 0; i < c.numBlocks; i++) {
    seq = new TransformerBlock({
      numHeads: c.numHeads,
      ffnMult: c.ffnMult,
      dropout: c.dropout,
      leakyAlpha: c.leakyAlpha,
      seed: seed(),
      init: c.attentionInit,
      name: `transformer_${i}`,
      attentionScale: c.attentionScale,
    }).apply([seq, mask]) as SymbolicTensor; // [B, L, D]
  }
  // 'flatten': every slot's output, [B, L*D]; 'target': the target slot's only, [B, D] (history reaches it through attention)
  const features: SymbolicTensor[] = [
    c.sequenceOutput === 'target'
      ? (new LastSlot({ name: 'sequence_target' }).apply(seq) as SymbolicTensor) // [B, D]
      : (tf.layers.flatten({ name: 'sequence_flat' }).apply(seq) as SymbolicTensor),
  ]; // [B, L*D]

  // --- other features, each [B, k] ---
  const flatEmbed = (input: string, vocab: number, dim: number) =>
    tf.layers
      .flatten({ name: `${input}_flat` })
      .apply(embed(BST_LAYERS.featureEmbedding(input), vocab, dim).apply(inp(input))) as SymbolicTensor; // [B, dim]
  if (c.useUserId) features.push(flatEmbed('userIdx', sizes.numUsers, c.userDim));
  if (c.useDemographics) {
    features.push(flatEmbed('gender', sizes.numGenders, c.demoDim));
    features.push(flatEmbed('age', sizes.numAges, c.demoDim));
    features.push(flatEmbed('occupation', sizes.numOccupations, c.demoDim));
    features.push(flatEmbed('zip', sizes.numZips, c.demoDim));
  }
  if (c.useGenres) {
    features.push(headDense(c.genreDim, BST_LAYERS.genreProjection, inp('genres'))); // [B, genreDim]
  }
  if (c.useYear) features.push(flatEmbed('yearIdx', sizes.numYears, c.yearDim));

  // --- MLP and head ---
  let h =
    features.length === 1
      ? features[0]
      : (tf.layers.concatenate({ axis: -1, name: 'features' }).apply(features) as SymbolicTensor); // [B, L*D + others]
  c.mlpUnits.forEach((units, i) => {
    h = headDense(units, BST_LAYERS.mlp(i), h); // [B, units]
    h = tf.layers.leakyReLU({ alpha: c.leakyAlpha, name: `mlp_${i}_act` }).apply(h) as SymbolicTensor;
    h = new SeededDropout({ rate: c.dropout, seed: seed(), name: `mlp_${i}_dropout` }).apply(h) as SymbolicTensor;
  });
  const out = tf.layers
    .dense({
      units: 1,
      activation: c.task === 'like' ? 'sigmoid' : 'linear',
      kernelInitializer: kernelInit(c.headInit, seed(), 0),
      biasInitializer: tf.initializers.constant({ value: outputBiasOf(c) }), // a constant whatever headInit says
      name: BST_LAYERS.output,
    })
    .apply(h) as SymbolicTensor; // [B, 1]
  const net = tf.model({ inputs: specs.map((s) => inp(s.name)), outputs: out, name: 'bst' });
  return { net, config: c, sizes: { ...sizes } };
}

/** Transformer width D of a config (item + position + rating widths). */
export { modelWidth };
