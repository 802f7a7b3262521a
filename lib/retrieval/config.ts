/** Configuration of the two-tower retrieval model (lib/retrieval). */
import { ConfigError } from '../util/errors';

/** Every setting of a two-tower model and its training; catalogue and feature sizes come from the data. */
export interface TwoTowerConfig {
  /** user tower input: the last maxLen items of the history (left-padded with 0) */
  maxLen: number;
  /** width of the item embeddings and of the sequence encoder */
  dim: number;
  /** width of the exported user and movie vectors */
  vectorDim: number;
  /** causal self-attention blocks of the user tower's sequence encoder (lib/seqrec's encoder) */
  blocks: number;
  /** attention heads (must divide dim) */
  heads: number;
  /** dropout in the sequence encoder (training only) */
  dropout: number;
  /** width of each user-feature embedding (gender, age, occupation); used only when the data has users */
  userFeatureDim: number;
  /** use user features when the data has them (false: sequence only) */
  userFeatures: boolean;
  /** the movie tower's id embedding is the encoder's item embedding (true) or a table of its own */
  shareItemEmbedding: boolean;
  /** L2-normalise user and movie vectors (cosine similarity) */
  normalize: boolean;
  /** softmax temperature: logits = u.v / temperature (with normalize, typically 0.05-0.2) */
  temperature: number;
  /** subtract log q_j (the probability that item j is a candidate of a batch) from its logits (Yi et al. 2019) */
  logQ: boolean;
  /** extra uniformly sampled negatives per batch, on top of the batch's positives (0 = in-batch only) */
  extraNegatives: number;
  /** Adam learning rate */
  learningRate: number;
  /** training windows per step (each window trains every position: its candidates are the batch's targets) */
  batchSize: number;
  /** maximum epochs */
  epochs: number;
  /** stop after this many validations without improvement of `selectBy` (0 = never stop early) */
  patience: number;
  /** validate every this many epochs */
  evalEvery: number;
  /** validation metric that picks the best epoch */
  selectBy: 'ndcg10' | 'recall100';
  /** wall-clock budget for training in seconds (0 = none); training stops after the epoch that crosses it */
  maxSeconds: number;
  /** seed of initialisation, shuffling, negatives and dropout */
  seed: number;
}

/** Defaults: one encoder block of width 64 over the last 50 items, 64-d normalised vectors, log-q on. */
export const DEFAULT_TWO_TOWER_CONFIG: TwoTowerConfig = {
  maxLen: 50,
  dim: 64,
  vectorDim: 64,
  blocks: 1,
  heads: 1,
  dropout: 0.2,
  userFeatureDim: 8,
  userFeatures: true,
  shareItemEmbedding: true,
  normalize: true,
  temperature: 0.1,
  logQ: true,
  extraNegatives: 0,
  learningRate: 2e-3,
  batchSize: 128,
  epochs: 100,
  patience: 10,
  evalEvery: 2,
  selectBy: 'recall100',
  maxSeconds: 0,
  seed: 0,
};

/** Defaults overridden by `over`, validated; throws a ConfigError naming the bad field and value. */
export function twoTowerConfig(over: Partial<TwoTowerConfig> = {}): TwoTowerConfig {
  const c: TwoTowerConfig = { ...DEFAULT_TWO_TOWER_CONFIG, ...over };
  const bad = (k: keyof TwoTowerConfig, rule: string) =>
    new ConfigError(`TwoTowerConfig.${k} must be ${rule}, got ${JSON.stringify(c[k])}`);
  for (const k of [
    'maxLen',
    'dim',
    'vectorDim',
    'blocks',
    'heads',
    'userFeatureDim',
    'batchSize',
    'epochs',
    'evalEvery',
  ] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) throw bad(k, 'an integer >= 1');
  }
  for (const k of ['patience', 'extraNegatives', 'seed'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 0)) throw bad(k, 'an integer >= 0');
  }
  if (c.dim % c.heads !== 0) throw new ConfigError(`TwoTowerConfig.heads (${c.heads}) must divide dim (${c.dim})`);
  if (!(c.dropout >= 0 && c.dropout < 1)) throw bad('dropout', 'in [0, 1)');
  if (!(c.temperature > 0 && Number.isFinite(c.temperature))) throw bad('temperature', 'a finite number > 0');
  if (!(c.learningRate > 0 && Number.isFinite(c.learningRate))) throw bad('learningRate', 'a finite number > 0');
  if (!(c.maxSeconds >= 0)) throw bad('maxSeconds', '>= 0');
  for (const k of ['userFeatures', 'shareItemEmbedding', 'normalize', 'logQ'] as const) {
    if (typeof c[k] !== 'boolean') throw bad(k, 'true or false');
  }
  switch (c.selectBy) {
    case 'ndcg10':
    case 'recall100':
      break;
    default:
      throw bad('selectBy', "'ndcg10' or 'recall100'");
  }
  return c;
}
