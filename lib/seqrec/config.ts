/** Configuration of the SASRec-style causal sequence recommender (lib/seqrec). */
import { ConfigError } from '../util/errors';

/** Every setting of a SeqRec model and its training; sizes of the catalogue come from the data. */
export interface SeqRecConfig {
  /** input window: the last maxLen items of a sequence (left-padded with 0) */
  maxLen: number;
  /** embedding and hidden width */
  dim: number;
  /** causal self-attention blocks */
  blocks: number;
  /** attention heads (must divide dim) */
  heads: number;
  /** dropout rate on embeddings, attention output and feed-forward (training only) */
  dropout: number;
  /** Adam learning rate */
  learningRate: number;
  /** training windows per step */
  batchSize: number;
  /** maximum epochs */
  epochs: number;
  /** stop after this many validation checks without a better validation NDCG@10 (0 = never stop early) */
  patience: number;
  /** validate every this many epochs */
  evalEvery: number;
  /** 'last': one window per user (its last maxLen steps, as SASRec); 'all': every maxLen-chunk of the sequence */
  windows: 'last' | 'all';
  /** wall-clock budget for training in seconds (0 = none); training stops after the epoch that crosses it */
  maxSeconds: number;
  /** seed of initialisation, shuffling and dropout */
  seed: number;
}

/** Defaults: SASRec's ml-1m settings (2 blocks, width 64, length 50, dropout 0.2, Adam 1e-3). */
export const DEFAULT_SEQREC_CONFIG: SeqRecConfig = {
  maxLen: 50,
  dim: 64,
  blocks: 2,
  heads: 1,
  dropout: 0.2,
  learningRate: 1e-3,
  batchSize: 128,
  epochs: 200,
  patience: 20,
  evalEvery: 1,
  windows: 'all', // ml-100k leave-one-out test HR@10: 0.188 with 'all', 0.143 with 'last' (results/next-item.md)
  maxSeconds: 0,
  seed: 0,
};

/** Defaults overridden by `over`, validated; throws a ConfigError naming the bad field and value. */
export function seqRecConfig(over: Partial<SeqRecConfig> = {}): SeqRecConfig {
  const c: SeqRecConfig = { ...DEFAULT_SEQREC_CONFIG, ...over };
  const posInt = ['maxLen', 'dim', 'blocks', 'heads', 'batchSize', 'epochs', 'evalEvery'] as const;
  for (const k of posInt) {
    if (!(Number.isInteger(c[k]) && c[k] >= 1))
      throw new ConfigError(`SeqRecConfig.${k} must be an integer >= 1, got ${JSON.stringify(c[k])}`);
  }
  if (c.dim % c.heads !== 0) throw new ConfigError(`SeqRecConfig.heads (${c.heads}) must divide dim (${c.dim})`);
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new ConfigError(`SeqRecConfig.dropout must be in [0, 1), got ${c.dropout}`);
  if (!(c.learningRate > 0)) throw new ConfigError(`SeqRecConfig.learningRate must be > 0, got ${c.learningRate}`);
  if (!(Number.isInteger(c.patience) && c.patience >= 0))
    throw new ConfigError(`SeqRecConfig.patience must be an integer >= 0, got ${c.patience}`);
  if (!(c.maxSeconds >= 0)) throw new ConfigError(`SeqRecConfig.maxSeconds must be >= 0, got ${c.maxSeconds}`);
  switch (c.windows) {
    case 'last':
    case 'all':
      break;
    default:
      throw new ConfigError(`SeqRecConfig.windows must be 'last' or 'all', got ${JSON.stringify(c.windows)}`);
  }
  return c;
}
