/**
 * The BST's factored parts by name: the item table behind the history tokens, the transformer blocks, the user
 * and item feature tables, and the MLP head's weights, typed. Scorers that take the network apart (lib/recommend's
 * shared-history and two-stage scorers) read them here instead of looking layers up by string, so the layer
 * names live in one place (BST_LAYERS, used by build.ts) and a missing layer fails here with a clear error.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../util/errors';
import type { BstModel } from './build';
import { modelWidth } from './config';
import { TransformerBlock } from './layers/index';

/** Names of the BST's layers (build.ts names its layers with these; the accessors below look them up). */
export const BST_LAYERS = {
  itemEmbedding: 'item_embedding',
  genreProjection: 'genre_projection',
  output: 'output',
  /** the i-th dense layer of the MLP head */
  mlp: (i: number) => `mlp_${i}`,
  /** the embedding table of a categorical input (userIdx, gender, age, occupation, zip, yearIdx) */
  featureEmbedding: (input: string) => `${input}_embedding`,
} as const;

/** The user features in the model's feature order (after the sequence, before the item features). */
export type UserFeature = 'userIdx' | 'gender' | 'age' | 'occupation' | 'zip';

/** A dense layer's weights: kernel [in, units], bias [units]. */
export interface DenseWeights {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** Widths of the three row blocks of the first MLP layer's input, in order: sequence, user features, item features. */
export interface HeadInputWidths {
  /** L*D for sequenceOutput 'flatten', D for 'target' */
  sequence: number;
  /** userDim (useUserId) + 4 demoDim (useDemographics) */
  user: number;
  /** genreDim (useGenres) + yearDim (useYear) */
  item: number;
}

/**
 * The BST's weights by role. Tensors are the model's own weight values (not copies): do not dispose them, and
 * read them again after training or setWeights.
 */
export interface BstParts {
  /** history and target tokens: [numItems, embedDim] */
  itemEmbedding: tf.Tensor2D;
  /** the transformer blocks, in order */
  blocks: TransformerBlock[];
  /** user feature tables in feature order, each [vocab, dim]; empty when the model uses none */
  userEmbeddings: { feature: UserFeature; table: tf.Tensor2D }[];
  /** item features: genre projection [numGenres, genreDim] and year table [numYears, yearDim], null when unused */
  genreProjection: DenseWeights | null;
  yearEmbedding: tf.Tensor2D | null;
  /** row blocks of mlp[0].kernel */
  headInput: HeadInputWidths;
  /** the MLP's dense layers, in order (mlp[0].kernel: [sequence + user + item, mlpUnits[0]]) */
  mlp: DenseWeights[];
  /** the output layer: [mlpUnits[last], 1] */
  output: DenseWeights;
}

/** A layer of the BST by name, or a ConfigError naming the missing layer and the ones there are. */
function layerNamed(model: BstModel, name: string): tf.layers.Layer {
  const layer = model.net.layers.find((l) => l.name === name);
  if (!layer) {
    throw new ConfigError(
      `lib/model/parts.ts: the BST network '${model.net.name}' has no layer '${name}' (layers: ${model.net.layers.map((l) => l.name).join(', ')})`,
    );
  }
  return layer;
}

/** A layer's weight values by short name ('kernel', 'bias', 'embeddings', ...). */
function weightsOf(layer: tf.layers.Layer): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  const vals = layer.getWeights();
  layer.weights.forEach((v, i) => {
    out[v.originalName.split('/').pop() as string] = vals[i];
  });
  return out;
}

/** One named weight of a layer, or a ConfigError naming the layer and the weights it has. */
function weightOf(layer: tf.layers.Layer, weight: string): tf.Tensor {
  const w = weightsOf(layer);
  if (!(weight in w))
    throw new ConfigError(
      `lib/model/parts.ts: layer '${layer.name}' has no weight '${weight}' (weights: ${Object.keys(w).join(', ')})`,
    );
  return w[weight];
}

function denseNamed(model: BstModel, name: string): DenseWeights {
  const layer = layerNamed(model, name);
  return { kernel: weightOf(layer, 'kernel') as tf.Tensor2D, bias: weightOf(layer, 'bias') as tf.Tensor1D };
}

function embeddingNamed(model: BstModel, name: string): tf.Tensor2D {
  return weightOf(layerNamed(model, name), 'embeddings') as tf.Tensor2D; // [vocab, dim]
}

/** The item embedding table [numItems, embedDim] (the history tokens' and the target's item part). */
export function itemEmbeddingWeights(model: BstModel): tf.Tensor2D {
  return embeddingNamed(model, BST_LAYERS.itemEmbedding);
}

/** Widths of the sequence, user and item row blocks of the first MLP layer, from the config (see build.ts). */
export function headInputWidths(model: BstModel): HeadInputWidths {
  const c = model.config;
  const D = modelWidth(c);
  return {
    sequence: (c.sequenceOutput ?? 'flatten') === 'target' ? D : c.seqLen * D,
    user: (c.useUserId ? c.userDim : 0) + (c.useDemographics ? 4 * c.demoDim : 0),
    item: (c.useGenres ? c.genreDim : 0) + (c.useYear ? c.yearDim : 0),
  };
}

/** The MLP head: its dense layers in order and the output layer. */
export function headWeights(model: BstModel): { mlp: DenseWeights[]; output: DenseWeights } {
  return {
    mlp: model.config.mlpUnits.map((_, i) => denseNamed(model, BST_LAYERS.mlp(i))),
    output: denseNamed(model, BST_LAYERS.output),
  };
}

/** Every factored part of the BST (see BstParts), checked against the config's widths. */
export function bstParts(model: BstModel): BstParts {
  const c = model.config;
  const users: UserFeature[] = [
    ...(c.useUserId ? ['userIdx' as const] : []),
    ...(c.useDemographics ? ['gender' as const, 'age' as const, 'occupation' as const, 'zip' as const] : []),
  ];
  const head = headWeights(model);
  const parts: BstParts = {
    itemEmbedding: itemEmbeddingWeights(model),
    blocks: model.net.layers.filter((l): l is TransformerBlock => l instanceof TransformerBlock),
    userEmbeddings: users.map((feature) => ({
      feature,
      table: embeddingNamed(model, BST_LAYERS.featureEmbedding(feature)),
    })),
    genreProjection: c.useGenres ? denseNamed(model, BST_LAYERS.genreProjection) : null,
    yearEmbedding: c.useYear ? embeddingNamed(model, BST_LAYERS.featureEmbedding('yearIdx')) : null,
    headInput: headInputWidths(model),
    ...head,
  };
  const rows = parts.headInput.sequence + parts.headInput.user + parts.headInput.item;
  const first = head.mlp[0].kernel.shape[0];
  if (rows !== first) {
    throw new ConfigError(
      `lib/model/parts.ts: layer '${BST_LAYERS.mlp(0)}' has ${first} input rows but the config gives sequence ${parts.headInput.sequence} + user ${parts.headInput.user} + item ${parts.headInput.item} = ${rows}`,
    );
  }
  return parts;
}
