/**
 * One typed configuration for the BST model and its training, with the paper's defaults
 * (Chen et al. 2019: one transformer block, 8 heads, dropout 0.2, MLP 1024-512-256 with LeakyReLU).
 * Every width of the model is derived from this config plus the data vocabularies (FeatureSizes).
 */
import { ConfigError } from '../util/errors';

/** How each sequence position is encoded (concatenated to the item embedding, as in the paper). */
export type PositionKind = 'learned' | 'sinusoidal' | 'time' | 'none';
/** Prediction task: rating regression (MSE) or the paper's click/like classification (sigmoid, cross-entropy). */
export type Task = 'rating' | 'like';
/** Optimizer: Adam (default) or Adagrad (as in the paper). */
export type OptimizerKind = 'adam' | 'adagrad';
/**
 * What the head reads from the transformer: 'flatten' = every position's output concatenated (the paper's
 * choice; the MLP can then read each history slot directly, so attention need not learn anything), 'target' =
 * only the target slot's output, so every history item reaches the head through the target's attention row.
 */
export type SequenceOutput = 'flatten' | 'target';
/**
 * Initialiser of a dense layer's kernel and bias:
 * - 'torch-uniform': PyTorch's nn.Linear: kernel and bias ~ U(±1/√fan_in) (varianceScaling scale 1/3, fanIn, uniform);
 * - 'glorot-uniform': Keras / tfjs's default: kernel ~ U(±√(6/(fan_in + fan_out))), bias 0;
 * - 'glorot-normal': kernel ~ truncated N(0, 2/(fan_in + fan_out)), bias 0;
 * - 'he-normal': kernel ~ truncated N(0, 2/fan_in), bias 0.
 */
export type DenseInit = 'torch-uniform' | 'glorot-uniform' | 'glorot-normal' | 'he-normal';
/** Every DenseInit, for validation and help texts. */
export const DENSE_INITS: readonly DenseInit[] = ['torch-uniform', 'glorot-uniform', 'glorot-normal', 'he-normal'];
/** Initialiser of embedding tables: 'keras-uniform' = U(±0.05) (Keras' default), 'torch-normal' = N(0, 1) (PyTorch's nn.Embedding). */
export type EmbeddingInit = 'keras-uniform' | 'torch-normal';
/** Every EmbeddingInit. */
export const EMBEDDING_INITS: readonly EmbeddingInit[] = ['keras-uniform', 'torch-normal'];
/**
 * Training objective of the 'rating' task (metrics stay MAE / RMSE): squared error, absolute error, or Huber
 * (e²/2 for |e| <= huberDelta, huberDelta·(|e| - huberDelta/2) beyond). The 'like' task always uses cross-entropy.
 */
export type LossKind = 'mse' | 'mae' | 'huber';
/** Every LossKind. */
export const LOSS_KINDS: readonly LossKind[] = ['mse', 'mae', 'huber'];

/** Model and training configuration. Defaults in comments; see defaultConfig(). */
export interface BstConfig {
  /** L = (L - 1) history items + the target item in the last slot. Default 8. */
  seqLen: number;
  /** Item embedding width. Default 48. */
  embedDim: number;
  /** Position (learned / sinusoidal / time-bucket) embedding width, concatenated to the item. Default 8. */
  posDim: number;
  /** History rating embedding width (used when useHistoryRatings). Default 8. */
  ratingDim: number;
  /** Attention heads; must divide the transformer width (embedDim + posDim + ratingDim). Default 8. */
  numHeads: number;
  /** Transformer blocks. Default 1 (the paper's best). */
  numBlocks: number;
  /**
   * Multiplier of the attention logits (on top of 1/sqrt(head width)). 1 = standard attention; values above 1
   * sharpen the initial attention and scale its gradient; 0 = a masked mean over the real positions (the
   * attention ablation: the same model with attention replaced by uniform weights). Default 1.
   */
  attentionScale: number;
  /** What the head reads from the transformer: 'flatten' (paper) or 'target' (see SequenceOutput). Default 'flatten'. */
  sequenceOutput: SequenceOutput;
  /** Feed-forward inner width = ffnMult x transformer width. Default 4. */
  ffnMult: number;
  /** Dropout rate (attention output, feed-forward, MLP). Default 0.2. */
  dropout: number;
  /** MLP hidden units after the transformer. Default [1024, 512, 256]. */
  mlpUnits: number[];
  /** LeakyReLU slope for negative inputs (feed-forward and MLP). Default 0.1. */
  leakyAlpha: number;
  /** Position encoding kind. Default 'learned'. */
  positionKind: PositionKind;
  /** Number of log-scale time-delta buckets (positionKind 'time'); bucket 0 = no gap / target slot. Default 16. */
  timeBuckets: number;
  /** Largest time gap (seconds) given its own bucket; longer gaps share the last bucket. Default 1e8 (~3 years). */
  timeMaxSeconds: number;
  /** Use a user-id embedding. Default true. */
  useUserId: boolean;
  /** User-id embedding width. Default 16. */
  userDim: number;
  /** Use demographics (gender, age, occupation, zip) embeddings. Default true. */
  useDemographics: boolean;
  /** Width of each demographic embedding. Default 4. */
  demoDim: number;
  /** Use the target movie's genre multi-hot (projected by a dense layer). Default true. */
  useGenres: boolean;
  /** Width of the genre projection. Default 8. */
  genreDim: number;
  /** Use the target movie's release-year embedding. Default true. */
  useYear: boolean;
  /** Year embedding width. Default 4. */
  yearDim: number;
  /** Embed the ratings of the history items and concatenate them per position. Default true. */
  useHistoryRatings: boolean;
  /** 'rating' (regression, MSE) or 'like' (sigmoid, cross-entropy, AUC). Default 'rating'. */
  task: Task;
  /** Initial output bias: a global mean for 'rating' (default 3.5), the log-odds of a like for 'like' (default 0). */
  outputBias: number | null;
  /** Optimizer. Default 'adam'. */
  optimizer: OptimizerKind;
  /** Learning rate. Default 1e-3. */
  learningRate: number;
  /** Training batch size. Default 256. */
  batchSize: number;
  /** Maximum epochs. Default 20. */
  epochs: number;
  /** Early stopping: epochs without validation improvement before stopping (0 = never stop early). Default 3. */
  patience: number;
  /** Seed for weight initialisers and dropout. Default 42. */
  seed: number;
  /** L2 penalty on dense kernels (not embeddings). Default 0. */
  l2: number;
  /**
   * Initialiser of the dense layers after the transformer (genre projection, MLP, output kernel). Default
   * 'torch-uniform': the untrained model then predicts close to the constant outputBias (glorot's wider
   * kernels give an untrained spread of ~0.5-0.8 stars). The output bias is always the constant outputBias.
   */
  headInit: DenseInit;
  /** Initialiser of the transformer's dense weights (attention q/k/v/o, feed-forward). Default 'glorot-uniform'. */
  attentionInit: DenseInit;
  /** Initialiser of every embedding table (items, positions, time, ratings, user, demographics, year). Default 'keras-uniform'. */
  embeddingInit: EmbeddingInit;
  /** Training objective of the 'rating' task ('like' ignores it). Default 'mse'. */
  loss: LossKind;
  /** Huber threshold in stars (loss 'huber'). Default 1. */
  huberDelta: number;
}

/** The default configuration (the paper's architecture). */
export function defaultConfig(): BstConfig {
  return {
    seqLen: 8,
    embedDim: 48,
    posDim: 8,
    ratingDim: 8,
    numHeads: 8,
    numBlocks: 1,
    attentionScale: 1,
    sequenceOutput: 'flatten',
    ffnMult: 4,
    dropout: 0.2,
    mlpUnits: [1024, 512, 256],
    leakyAlpha: 0.1,
    positionKind: 'learned',
    timeBuckets: 16,
    timeMaxSeconds: 1e8,
    useUserId: true,
    userDim: 16,
    useDemographics: true,
    demoDim: 4,
    useGenres: true,
    genreDim: 8,
    useYear: true,
    yearDim: 4,
    useHistoryRatings: true,
    task: 'rating',
    outputBias: null,
    optimizer: 'adam',
    learningRate: 1e-3,
    batchSize: 256,
    epochs: 20,
    patience: 3,
    seed: 42,
    l2: 0,
    headInit: 'torch-uniform',
    attentionInit: 'glorot-uniform',
    embeddingInit: 'keras-uniform',
    loss: 'mse',
    huberDelta: 1,
  };
}

/** Width of the transformer's per-position vectors: item ; position/time ; history rating. */
export function modelWidth(c: BstConfig): number {
  return c.embedDim + (c.positionKind === 'none' ? 0 : c.posDim) + (c.useHistoryRatings ? c.ratingDim : 0);
}

/** The initial output bias actually used (config value, or the task's default). */
export function outputBiasOf(c: BstConfig): number {
  return c.outputBias ?? (c.task === 'rating' ? 3.5 : 0);
}

/** Merge a partial config over the defaults and validate it. Unknown keys throw a ConfigError. */
export function resolveConfig(partial: Partial<BstConfig> = {}): BstConfig {
  const base = defaultConfig();
  for (const k of Object.keys(partial)) {
    if (!(k in base)) throw new ConfigError(`unknown config key '${k}' (value ${JSON.stringify((partial as any)[k])})`);
  }
  const c: BstConfig = { ...base, ...stripUndefined(partial) };
  c.mlpUnits = [...c.mlpUnits];
  validateConfig(c);
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as any)[k] = v;
  return out;
}

function bad(key: string, value: unknown, why: string): never {
  throw new ConfigError(`config ${key}=${JSON.stringify(value)}: ${why}`);
}

function posInt(c: any, key: string, min = 1): void {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(key, v, `must be an integer >= ${min}`);
}

function oneOf(c: any, key: string, values: readonly string[]): void {
  if (!values.includes(c[key])) bad(key, c[key], `must be one of ${values.map((v) => `'${v}'`).join(', ')}`);
}

/** Check every field; throw a ConfigError naming the bad key and value. */
export function validateConfig(c: BstConfig): void {
  posInt(c, 'seqLen', 1); // 1 = the target alone (no history)
  posInt(c, 'embedDim');
  posInt(c, 'posDim');
  posInt(c, 'ratingDim');
  posInt(c, 'numHeads');
  posInt(c, 'numBlocks', 0);
  posInt(c, 'ffnMult');
  posInt(c, 'userDim');
  posInt(c, 'demoDim');
  posInt(c, 'genreDim');
  posInt(c, 'yearDim');
  posInt(c, 'timeBuckets', 2);
  posInt(c, 'batchSize');
  posInt(c, 'epochs', 0);
  posInt(c, 'patience', 0);
  if (typeof c.seed !== 'number' || !Number.isInteger(c.seed)) bad('seed', c.seed, 'must be an integer');
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1))
    bad('dropout', c.dropout, 'must be in [0, 1)');
  if (typeof c.leakyAlpha !== 'number' || !(c.leakyAlpha >= 0 && c.leakyAlpha < 1))
    bad('leakyAlpha', c.leakyAlpha, 'must be in [0, 1)');
  if (typeof c.learningRate !== 'number' || !(c.learningRate > 0)) bad('learningRate', c.learningRate, 'must be > 0');
  if (typeof c.l2 !== 'number' || !(c.l2 >= 0)) bad('l2', c.l2, 'must be >= 0');
  if (typeof c.timeMaxSeconds !== 'number' || !(c.timeMaxSeconds > 0))
    bad('timeMaxSeconds', c.timeMaxSeconds, 'must be > 0');
  if (typeof c.huberDelta !== 'number' || !(c.huberDelta > 0 && Number.isFinite(c.huberDelta)))
    bad('huberDelta', c.huberDelta, 'must be a finite number > 0');
  if (c.outputBias !== null && (typeof c.outputBias !== 'number' || !Number.isFinite(c.outputBias)))
    bad('outputBias', c.outputBias, 'must be a finite number or null');
  if (!Array.isArray(c.mlpUnits) || c.mlpUnits.some((u) => !Number.isInteger(u) || u < 1))
    bad('mlpUnits', c.mlpUnits, 'must be a list of positive integers');
  for (const k of ['useUserId', 'useDemographics', 'useGenres', 'useYear', 'useHistoryRatings'] as const) {
    if (typeof c[k] !== 'boolean') bad(k, c[k], 'must be true or false');
  }
  oneOf(c, 'positionKind', ['learned', 'sinusoidal', 'time', 'none']);
  oneOf(c, 'sequenceOutput', ['flatten', 'target']);
  if (typeof c.attentionScale !== 'number' || !(c.attentionScale >= 0 && Number.isFinite(c.attentionScale)))
    bad('attentionScale', c.attentionScale, 'must be a finite number >= 0');
  oneOf(c, 'task', ['rating', 'like']);
  oneOf(c, 'optimizer', ['adam', 'adagrad']);
  oneOf(c, 'headInit', DENSE_INITS);
  oneOf(c, 'attentionInit', DENSE_INITS);
  oneOf(c, 'embeddingInit', EMBEDDING_INITS);
  oneOf(c, 'loss', LOSS_KINDS);
  const d = modelWidth(c);
  if (d % c.numHeads !== 0) {
    bad(
      'numHeads',
      c.numHeads,
      `must divide the transformer width ${d} = embedDim ${c.embedDim}` +
        (c.positionKind === 'none' ? '' : ` + posDim ${c.posDim}`) +
        (c.useHistoryRatings ? ` + ratingDim ${c.ratingDim}` : ''),
    );
  }
}

/**
 * Parse "key=value,key=value" overrides (for CLIs and notebooks) into a partial config, typed by the defaults:
 * numbers, booleans (true/false/1/0), strings, `null`, and number lists separated by '/', '-' or ' '
 * (e.g. "mlpUnits=64/32"). Unknown keys and unparsable values throw a ConfigError.
 */
export function parseOverrides(text: string): Partial<BstConfig> {
  const base = defaultConfig() as any;
  const out: any = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new ConfigError(`override '${part}' is not key=value`);
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (!(key in base)) throw new ConfigError(`unknown config key '${key}' (value ${JSON.stringify(raw)})`);
    const ref = base[key];
    if (raw === 'null' && key === 'outputBias') out[key] = null;
    else if (Array.isArray(ref)) {
      const nums = raw
        .replace(/^\[|\]$/g, '')
        .split(/[\/\- ]+/)
        .filter((s) => s.length > 0)
        .map(Number);
      if (nums.some((v) => !Number.isFinite(v))) bad(key, raw, 'must be numbers separated by / (e.g. 64/32)');
      out[key] = nums;
    } else if (typeof ref === 'boolean') {
      if (['true', '1'].includes(raw)) out[key] = true;
      else if (['false', '0'].includes(raw)) out[key] = false;
      else bad(key, raw, 'must be true or false');
    } else if (typeof ref === 'number' || ref === null) {
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v)) bad(key, raw, 'must be a number');
      out[key] = v;
    } else out[key] = raw;
  }
  return out;
}
