/**
 * Two-stage scoring (retrieve, then re-rank), the setting the BST paper's model was built for: a cheap first
 * stage scores every candidate and keeps the best `pool`; the full BST scores only those. It is an
 * approximation of exact scoring (every candidate through the BST): an item the first stage drops can never
 * be recommended. Callers choose it explicitly (`mode: 'two-stage'`); nothing falls back to it silently.
 *
 * First stages (all user-specific except popularity, all O(candidates x embedDim) or less):
 *  - 'popularity': training rating counts;
 *  - 'embedding': dot product of each candidate's BST item embedding with the mean embedding of the user's
 *    latest L-1 history items (the items the model itself sees);
 *  - 'mixed': half the pool from the popularity list and half from the embedding list (union, in turn).
 * The default first stage and pool come from bench/recommend.ts's agreement table: with the like head on
 * ml-100k, popularity with M = 300 gave the exact top-10 for 86% of users (9.6 of 10 items in common), more than
 * the embedding or mixed lists (and more than the model's own no-history score, tried and dropped).
 */
import { PreparedData } from '../data/index';
import { popularityScores } from '../eval/ranking';
import { BstModel, itemEmbeddingWeights } from '../model/index';
import { ConfigError } from '../util/errors';
import { HistoryCut } from './candidates';
import { scoreItemsExact } from './shared-history';
import { DEFAULT_CHUNK, scoreItems } from './score';

/** How candidates are scored: every one by the BST ('exact'), or retrieve-then-re-rank ('two-stage'). */
export type ScoringMode = 'exact' | 'two-stage';
/** The first stage of two-stage scoring (see the module comment). */
export type RetrievalKind = 'popularity' | 'embedding' | 'mixed';
/** Every RetrievalKind, for CLIs and validation. */
export const RETRIEVAL_KINDS: readonly RetrievalKind[] = ['popularity', 'embedding', 'mixed'];
/** Default first stage (see the module comment). */
export const DEFAULT_RETRIEVAL: RetrievalKind = 'popularity';
/** Default number of candidates the BST re-ranks in two-stage mode (see bench/recommend.ts for its agreement). */
export const DEFAULT_POOL = 300;

/**
 * How the BST computes exact scores: 'shared-history' (default; lib/recommend/shared-history.ts, the same
 * scores with the history work done once per user, for one-block models, else the forward pass) or 'forward'
 * (the plain network on one sample per candidate).
 */
export type ExactEngine = 'shared-history' | 'forward';

/** Options of two-stage scoring. */
export interface TwoStageOptions {
  /** how the BST scores (default 'shared-history') */
  engine?: ExactEngine;
  /** candidates the BST re-ranks (default DEFAULT_POOL); raised to k by callers that need a list of k */
  pool?: number;
  /** first stage (default DEFAULT_RETRIEVAL) */
  retrieval?: RetrievalKind;
  chunkSize?: number;
}

const itemTables = new WeakMap<BstModel, Float32Array>();
const popularity = new WeakMap<PreparedData, Float32Array>();

/** The model's item embedding table [numItems * embedDim] (read once per model, cached). */
export function itemEmbeddingTable(model: BstModel): Float32Array {
  let t = itemTables.get(model);
  if (!t) {
    t = itemEmbeddingWeights(model).dataSync() as Float32Array; // [numItems, E]
    itemTables.set(model, t);
  }
  return t;
}

function popularityOf(data: PreparedData): Float32Array {
  let p = popularity.get(data);
  if (!p) {
    p = popularityScores({
      interactions: data.interactions,
      positions: data.split.train,
      numItems: data.sizes.numItems,
    });
    popularity.set(data, p);
  }
  return p;
}

/**
 * First-stage scores of `items` for the history `cut` (higher = retrieve first): see the module comment.
 * 'mixed' has no single score; use `retrievePool` for it.
 */
export function retrievalScores(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: ArrayLike<number>,
  kind: 'popularity' | 'embedding',
): Float32Array {
  const out = new Float32Array(items.length);
  switch (kind) {
    case 'popularity': {
      const pop = popularityOf(data);
      for (let t = 0; t < items.length; t++) out[t] = pop[items[t]];
      return out;
    }
    case 'embedding': {
      const table = itemEmbeddingTable(model);
      const E = model.config.embedDim;
      const it = data.interactions;
      const start = Math.max(it.userOffsets[cut.user], cut.end - (data.seqLen - 1));
      const u = new Float32Array(E); // mean history embedding [E]
      for (let p = start; p < cut.end; p++) for (let e = 0; e < E; e++) u[e] += table[it.item[p] * E + e];
      for (let t = 0; t < items.length; t++) {
        let s = 0;
        const o = items[t] * E;
        for (let e = 0; e < E; e++) s += u[e] * table[o + e];
        out[t] = s;
      }
      return out;
    }
    default:
      throw new ConfigError(`unknown retrieval kind ${JSON.stringify(kind)}; use ${RETRIEVAL_KINDS.join(', ')}`);
  }
}

/**
 * The first stage: indices (into `items`) of the `pool` candidates kept, ascending. Deterministic (ties: the
 * smaller item index). 'mixed' takes the best of the popularity and embedding lists in turn until `pool`
 * distinct candidates are kept.
 */
export function retrievePool(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: Int32Array,
  pool: number,
  kind: RetrievalKind,
): Int32Array {
  if (!(Number.isInteger(pool) && pool >= 1))
    throw new ConfigError(`two-stage pool must be an integer >= 1, got ${pool}`);
  if (!RETRIEVAL_KINDS.includes(kind))
    throw new ConfigError(`unknown retrieval kind ${JSON.stringify(kind)}; use ${RETRIEVAL_KINDS.join(', ')}`);
  const n = items.length;
  if (pool >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const ranked = (k: 'popularity' | 'embedding') => {
    const s = retrievalScores(model, data, cut, items, k);
    return Array.from(idx).sort((a, b) => s[b] - s[a] || items[a] - items[b]);
  };
  const lists = kind === 'mixed' ? [ranked('popularity'), ranked('embedding')] : [ranked(kind)];
  const keep = new Uint8Array(n);
  const cursor = lists.map(() => 0);
  let kept = 0;
  while (kept < pool) {
    for (let l = 0; l < lists.length && kept < pool; l++) {
      const list = lists[l];
      while (cursor[l] < n && keep[list[cursor[l]]]) cursor[l]++;
      if (cursor[l] < n) {
        keep[list[cursor[l]]] = 1;
        kept++;
      }
    }
  }
  const out = new Int32Array(pool);
  let o = 0;
  for (let i = 0; i < n; i++) if (keep[i]) out[o++] = i;
  return out;
}

/** What `scoreTwoStage` returns. */
export interface TwoStageScores {
  /**
   * One finite score per candidate: the BST's score for the re-ranked pool; below every pool score for the
   * others (pool minimum - 1 - their first-stage rank / n), so rankings put the pool first.
   */
  scores: Float32Array;
  /** indices (into items) of the candidates the BST scored */
  pool: Int32Array;
}

/** Two-stage scores of `items` for the history `cut` (see the module comment). */
export function scoreTwoStage(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: Int32Array,
  o: TwoStageOptions = {},
): TwoStageScores {
  const n = items.length;
  const pool = retrievePool(model, data, cut, items, o.pool ?? DEFAULT_POOL, o.retrieval ?? DEFAULT_RETRIEVAL);
  if (n === 0) return { scores: new Float32Array(0), pool: new Int32Array(0) };
  const poolItems = Int32Array.from(pool, (i) => items[i]);
  const s = exactScores(model, data, cut, poolItems, o);
  let min = Infinity;
  for (let t = 0; t < s.length; t++) min = Math.min(min, s[t]);
  const scores = new Float32Array(n);
  const inPool = new Uint8Array(n);
  pool.forEach((i, t) => {
    scores[i] = s[t];
    inPool[i] = 1;
  });
  let r = 0;
  for (let i = 0; i < n; i++) if (!inPool[i]) scores[i] = min - 1 - (r++ + 1) / (n + 1);
  return { scores, pool };
}

/** Exact BST scores of `items` for `cut` with the chosen engine (see ExactEngine). */
export function exactScores(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: ArrayLike<number>,
  o: { engine?: ExactEngine; chunkSize?: number } = {},
): Float32Array {
  const chunk = o.chunkSize ?? DEFAULT_CHUNK;
  switch (o.engine ?? 'shared-history') {
    case 'shared-history':
      return scoreItemsExact(model, data, cut, items, chunk);
    case 'forward':
      return scoreItems(model, data, cut, items, chunk);
    default:
      throw new ConfigError(`unknown exact engine ${JSON.stringify(o.engine)}; use shared-history or forward`);
  }
}

/** Scores of `items` for `cut` in the given mode ('exact': every item through the BST; 'two-stage': scoreTwoStage). */
export function scoreItemsMode(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: Int32Array,
  mode: ScoringMode,
  o: TwoStageOptions = {},
): Float32Array {
  switch (mode) {
    case 'exact':
      return exactScores(model, data, cut, items, o);
    case 'two-stage':
      return scoreTwoStage(model, data, cut, items, o).scores;
    default:
      throw new ConfigError(`unknown scoring mode ${JSON.stringify(mode)}; use exact or two-stage`);
  }
}
