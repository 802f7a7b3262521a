/**
 * Explanations from attention: for a recommended movie, the history ratings the target slot attended to
 * most (mean over heads of the last transformer block), in plain words ("because you rated Heat 5 and
 * Ronin 4"). Attention weights show what the model looked at, not a causal account of the score.
 */
import { PreparedData } from '../data/index';
import { attentionWeights, BstModel, transformerBlocks } from '../model/index';
import { ConfigError } from '../util/errors';
import { candidateSamplesAt, HistoryCut } from './candidates';
import { MovieCatalog } from './catalog';

/** One history rating behind a recommendation. */
export interface Reason {
  /** position of the rating in interactions */
  position: number;
  item: number;
  movieId: number;
  title: string;
  rating: number;
  /** attention weight of the target slot on this history slot (mean over heads; weights over the history and the target sum to 1) */
  weight: number;
}

/** Options of `explainItems`. */
export interface ExplainOptions {
  model: BstModel;
  data: PreparedData;
  catalog: MovieCatalog;
  cut: HistoryCut;
  /** recommended item indices */
  items: ArrayLike<number>;
  /** reasons per item (default 2) */
  top?: number;
  /** transformer block (default the last) */
  block?: number;
}

/**
 * The `top` history ratings with the largest attention from each item's target slot, strongest first
 * (ties: the more recent rating). Returns one list per item; empty lists when the model has no
 * transformer block or the history is empty.
 */
export function explainItems(o: ExplainOptions): Reason[][] {
  const top = o.top ?? 2;
  if (!(Number.isInteger(top) && top >= 1)) throw new ConfigError(`explainItems: top must be an integer >= 1, got ${top}`);
  const blocks = transformerBlocks(o.model).length;
  const n = o.items.length;
  if (blocks === 0 || n === 0) return Array.from({ length: n }, () => []);
  const block = o.block ?? blocks - 1;
  const { data, cut } = o;
  const it = data.interactions;
  const L = data.seqLen;
  const hist = Math.min(L - 1, cut.end - it.userOffsets[cut.user]);
  if (hist === 0) return Array.from({ length: n }, () => []);
  const samples = candidateSamplesAt(data, cut, o.items);
  const att = attentionWeights(o.model, samples, block); // [n, H, L, L]
  const [, H] = att.shape;
  const out: Reason[][] = [];
  for (let b = 0; b < n; b++) {
    const w = new Float64Array(hist); // weight of the target row on each history slot, mean over heads
    for (let h = 0; h < H; h++) {
      const row = ((b * H + h) * L + (L - 1)) * L;
      for (let j = 0; j < hist; j++) w[j] += att.data[row + L - 1 - hist + j] / H;
    }
    const order = Array.from({ length: hist }, (_, j) => j).sort((x, y) => w[y] - w[x] || y - x);
    out.push(order.slice(0, top).map((j) => {
      const q = cut.end - hist + j;
      const item = it.item[q];
      return { position: q, item, movieId: o.catalog.movieId[item], title: o.catalog.title[item] || 'an unknown movie', rating: it.rating[q], weight: w[j] };
    }));
  }
  return out;
}

/** A title without its trailing "(1995)" year. */
export function shortTitle(title: string): string {
  return title.replace(/\s*\(\d{4}\)\s*$/, '');
}

/** "because you rated Heat 5 and Ronin 4" (empty string when there are no reasons). */
export function explanationText(reasons: Reason[]): string {
  if (reasons.length === 0) return '';
  const parts = reasons.map((r) => `${shortTitle(r.title)} ${Number.isInteger(r.rating) ? r.rating : r.rating.toFixed(1)}`);
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `because you rated ${list}`;
}
