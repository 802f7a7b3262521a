/**
 * Explanations by occlusion: for a recommended movie, the history ratings whose removal lowers its score most,
 * in plain words ("because you rated Heat 5 and Ronin 4"). A history rating's contribution is
 *   score(candidate | history) - score(candidate | history with that rating masked as padding),
 * the model's own answer to "what if you had not rated it", so an explanation names only ratings that raise the
 * score, by how much. (Attention weights, lib/model `attentionWeights`, show what the model looked at, not what
 * the score depends on; after training they are close to uniform, so they explain nothing.)
 * Masking a slot as padding (item 0, rating 0, time 0) is what a shorter history looks like to the model, so the
 * occluded samples stay in the distribution the model was trained on.
 */
import { PreparedData, Samples } from '../data/index';
import { BstModel } from '../model/index';
import { ConfigError } from '../util/errors';
import { candidateSamplesAt, HistoryCut } from './candidates';
import { MovieCatalog } from './catalog';
import { DEFAULT_CHUNK, scoreSamples } from './score';

/** One history rating behind a recommendation. */
export interface Reason {
  /** position of the rating in interactions */
  position: number;
  item: number;
  movieId: number;
  title: string;
  rating: number;
  /** occlusion contribution: the score minus the score without this rating (> 0: it raises the score) */
  contribution: number;
}

/** Occlusion contributions of every history rating to every candidate's score. */
export interface Occlusion {
  /** history ratings (at most L-1, the ones the model sees), oldest first */
  hist: number;
  /** [hist] their positions in interactions */
  positions: Int32Array;
  /** [n] each candidate's score with the full history */
  score: Float32Array;
  /** [n, hist] score minus the score with history rating j masked as padding */
  contribution: Float32Array;
}

/** Options of `occlusion`. */
export interface OcclusionOptions {
  model: BstModel;
  data: PreparedData;
  cut: HistoryCut;
  /** candidate item indices */
  items: ArrayLike<number>;
  /** samples per forward pass (default DEFAULT_CHUNK) */
  chunkSize?: number;
}

/**
 * Occlusion contributions (see the module comment): one batch holds, per candidate, the full sample and one copy
 * per history slot with that slot masked as padding; all n * (hist + 1) samples are scored together.
 */
export function occlusion(o: OcclusionOptions): Occlusion {
  const { data, cut } = o;
  const it = data.interactions;
  const L = data.seqLen;
  const n = o.items.length;
  const hist = Math.min(L - 1, cut.end - it.userOffsets[cut.user]);
  const positions = Int32Array.from({ length: hist }, (_, j) => cut.end - hist + j);
  const base = candidateSamplesAt(data, cut, o.items);
  if (n === 0) return { hist, positions, score: new Float32Array(0), contribution: new Float32Array(0) };
  const V = hist + 1; // variants per candidate: full, then slot j masked
  const batch = repeatRows(base, V); // [n * V] samples, candidate b's variants at rows b * V .. b * V + hist
  for (let b = 0; b < n; b++) {
    for (let j = 0; j < hist; j++) {
      const slot = (b * V + 1 + j) * L + (L - 1 - hist + j); // history slot j of variant j + 1
      batch.itemSeq[slot] = 0;
      batch.ratingSeq[slot] = 0;
      batch.timeDelta[slot] = 0;
    }
  }
  const s = scoreSamples(o.model, batch, o.chunkSize ?? DEFAULT_CHUNK); // [n * V]
  const score = new Float32Array(n);
  const contribution = new Float32Array(n * hist); // [n, hist]
  for (let b = 0; b < n; b++) {
    score[b] = s[b * V];
    for (let j = 0; j < hist; j++) contribution[b * hist + j] = s[b * V] - s[b * V + 1 + j];
  }
  return { hist, positions, score, contribution };
}

/** Every row of `s` repeated `times` times in place (row r becomes rows r * times .. r * times + times - 1). */
function repeatRows(s: Samples, times: number): Samples {
  const n = s.n * times;
  const L = s.seqLen;
  const G = s.n > 0 ? s.genres.length / s.n : 0;
  const out: Samples = {
    n,
    seqLen: L,
    userIdx: new Int32Array(n),
    itemSeq: new Int32Array(n * L),
    ratingSeq: new Float32Array(n * L),
    timeDelta: new Float32Array(n * L),
    genres: new Float32Array(n * G),
    yearIdx: new Int32Array(n),
    gender: new Int32Array(n),
    age: new Int32Array(n),
    occupation: new Int32Array(n),
    zip: new Int32Array(n),
    rating: new Float32Array(n),
    liked: new Float32Array(n),
  };
  for (let r = 0; r < s.n; r++) {
    for (let t = 0; t < times; t++) {
      const o = r * times + t;
      out.itemSeq.set(s.itemSeq.subarray(r * L, r * L + L), o * L);
      out.ratingSeq.set(s.ratingSeq.subarray(r * L, r * L + L), o * L);
      out.timeDelta.set(s.timeDelta.subarray(r * L, r * L + L), o * L);
      out.genres.set(s.genres.subarray(r * G, r * G + G), o * G);
      out.userIdx[o] = s.userIdx[r];
      out.yearIdx[o] = s.yearIdx[r];
      out.gender[o] = s.gender[r];
      out.age[o] = s.age[r];
      out.occupation[o] = s.occupation[r];
      out.zip[o] = s.zip[r];
      out.rating[o] = s.rating[r];
      out.liked[o] = s.liked[r];
    }
  }
  return out;
}

/** Default `ExplainOptions.minContribution`: in score units (rating points, or like probability). */
export const DEFAULT_MIN_CONTRIBUTION = 0.01;

/** Options of `explainItems`. */
export interface ExplainOptions {
  model: BstModel;
  data: PreparedData;
  catalog: MovieCatalog;
  cut: HistoryCut;
  /** recommended item indices */
  items: ArrayLike<number>;
  /** reasons per item at most (default 2) */
  top?: number;
  /** a rating is named only when its contribution exceeds this (default DEFAULT_MIN_CONTRIBUTION) */
  minContribution?: number;
  chunkSize?: number;
}

/**
 * Per item, the (at most) `top` history ratings with the largest occlusion contribution above
 * `minContribution`, largest first (ties: the more recent rating). An empty list means no single history rating
 * matters much (or the history is empty); `explanationText` says so.
 */
export function explainItems(o: ExplainOptions): Reason[][] {
  const top = o.top ?? 2;
  if (!(Number.isInteger(top) && top >= 1))
    throw new ConfigError(`explainItems: top must be an integer >= 1, got ${top}`);
  const min = o.minContribution ?? DEFAULT_MIN_CONTRIBUTION;
  if (!(min >= 0)) throw new ConfigError(`explainItems: minContribution must be >= 0, got ${min}`);
  const occ = occlusion({ model: o.model, data: o.data, cut: o.cut, items: o.items, chunkSize: o.chunkSize });
  const it = o.data.interactions;
  const { hist } = occ;
  const out: Reason[][] = [];
  for (let b = 0; b < o.items.length; b++) {
    const c = occ.contribution.subarray(b * hist, b * hist + hist);
    const order = Array.from({ length: hist }, (_, j) => j)
      .filter((j) => c[j] > min)
      .sort((x, y) => c[y] - c[x] || y - x);
    out.push(
      order.slice(0, top).map((j) => {
        const q = occ.positions[j];
        const item = it.item[q];
        return {
          position: q,
          item,
          movieId: o.catalog.movieId[item],
          title: o.catalog.title[item] || 'an unknown movie',
          rating: it.rating[q],
          contribution: c[j],
        };
      }),
    );
  }
  return out;
}

/** A title without its trailing "(1995)" year. */
export function shortTitle(title: string): string {
  return title.replace(/\s*\(\d{4}\)\s*$/, '');
}

/** What `explanationText` says when no history rating contributes more than the threshold. */
export const NO_SINGLE_REASON = 'no single history item matters much';

/** "because you rated Heat 5 and Ronin 4"; NO_SINGLE_REASON when there are no reasons. */
export function explanationText(reasons: Reason[]): string {
  if (reasons.length === 0) return NO_SINGLE_REASON;
  const parts = reasons.map(
    (r) => `${shortTitle(r.title)} ${Number.isInteger(r.rating) ? r.rating : r.rating.toFixed(1)}`,
  );
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return `because you rated ${list}`;
}
