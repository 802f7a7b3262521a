/** Scoring candidate movies with a trained BST: chunked inference, unrated-item lists and a stable top-k. */
import { PreparedData, Samples, sliceSamples } from '../data/index';
import { BstModel, predict } from '../model/index';
import { ConfigError } from '../util/errors';
import { candidateSamplesAt, HistoryCut } from './candidates';

/** Default number of candidates per forward pass (one ML-1M catalogue fits in one pass). */
export const DEFAULT_CHUNK = 4096;

/** The model's score of every sample (predicted rating, or like probability), `chunkSize` samples per pass. */
export function scoreSamples(model: BstModel, samples: Samples, chunkSize = DEFAULT_CHUNK): Float32Array {
  if (!(Number.isInteger(chunkSize) && chunkSize >= 1))
    throw new ConfigError(`chunkSize must be an integer >= 1, got ${chunkSize}`);
  if (samples.n <= chunkSize) return predict(model, [samples]);
  const chunks: Samples[] = [];
  for (let i = 0; i < samples.n; i += chunkSize)
    chunks.push(sliceSamples(samples, i, Math.min(samples.n, i + chunkSize)));
  return predict(model, chunks);
}

/** Scores of `items` (item indices) for the history `cut`. */
export function scoreItems(
  model: BstModel,
  data: PreparedData,
  cut: HistoryCut,
  items: ArrayLike<number>,
  chunkSize = DEFAULT_CHUNK,
): Float32Array {
  if (items.length === 0) return new Float32Array(0);
  return scoreSamples(model, candidateSamplesAt(data, cut, items), chunkSize);
}

/** Per item index: 1 when user run `u` rated it anywhere (any split), else 0. Index 0 (unknown) is marked 1. */
export function ratedMask(data: PreparedData, u: number): Uint8Array {
  const it = data.interactions;
  const mask = new Uint8Array(data.sizes.numItems);
  mask[0] = 1;
  for (let p = it.userOffsets[u]; p < it.userOffsets[u + 1]; p++) mask[it.item[p]] = 1;
  return mask;
}

/** Item indices 1..numItems-1 that user run `u` never rated (in any split), ascending. */
export function unratedItems(data: PreparedData, u: number): Int32Array {
  const mask = ratedMask(data, u);
  const out: number[] = [];
  for (let i = 1; i < mask.length; i++) if (!mask[i]) out.push(i);
  return Int32Array.from(out);
}

/** A ranked list: item indices and their scores, best first. */
export interface RankedItems {
  items: Int32Array;
  scores: Float32Array;
}

/**
 * The k best items by score, best first; ties are broken by the smaller item index, so the result is a
 * deterministic function of (items, scores). NaN scores throw.
 */
export function topK(items: ArrayLike<number>, scores: ArrayLike<number>, k: number): RankedItems {
  if (items.length !== scores.length) throw new ConfigError(`topK: ${items.length} items but ${scores.length} scores`);
  if (!(Number.isInteger(k) && k >= 0)) throw new ConfigError(`topK: k must be an integer >= 0, got ${k}`);
  const order = Array.from({ length: items.length }, (_, i) => i);
  for (let i = 0; i < scores.length; i++)
    if (Number.isNaN(scores[i])) throw new ConfigError(`topK: score ${i} (item ${items[i]}) is NaN`);
  order.sort((a, b) => scores[b] - scores[a] || items[a] - items[b]);
  const m = Math.min(k, order.length);
  const out: RankedItems = { items: new Int32Array(m), scores: new Float32Array(m) };
  for (let t = 0; t < m; t++) {
    out.items[t] = items[order[t]];
    out.scores[t] = scores[order[t]];
  }
  return out;
}
