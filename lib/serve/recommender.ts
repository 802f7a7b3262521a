/**
 * What the service asks of a model: the `Recommender` interface (one request in, one ranked list out) and
 * `BstRecommender`, its implementation on today's lib/recommend (exact or two-stage BST scores, MMR genre
 * diversity, occlusion explanations). Another ranking pipeline plugs into the service by implementing
 * `Recommender` (see lib/serve/model.ts's `ServingModel`).
 */
import { PreparedData } from '../data/index';
import { BstModel } from '../model/index';
import {
  explainItems, explanationText, HistoryCut, latestCut, mmrRerank, MovieCatalog, Reason, ratedMask, scoreItemsMode, ScoringMode, topK,
  DEFAULT_POOL, RetrievalKind,
} from '../recommend/index';
import { BstError } from '../util/errors';
import { anonymousView, DEFAULT_ANONYMOUS_RATING } from './anonymous';

/** A request's input is wrong in a way the schema cannot see (an unknown id, mismatched lengths); `status` is the HTTP code. */
export class RequestError extends BstError {
  constructor(message: string, readonly status: 400 | 404 | 409 | 413 | 422 | 503, readonly field?: string) {
    super(message);
  }
}

/** One recommendation request: a known user, or an anonymous history of movie ids (optionally rated). */
export interface RecommendRequest {
  /** MovieLens id of a user the model knows */
  userId?: number;
  /** anonymous history: MovieLens movie ids, oldest first */
  movies?: number[];
  /** ratings of `movies` (same length; default DEFAULT_ANONYMOUS_RATING each) */
  ratings?: number[];
  /** list length (default 10) */
  k?: number;
  /** MMR weight of relevance in [0, 1]; 1 (default) = plain top-k by score */
  diversity?: number;
  /** MovieLens movie ids never to recommend ("not interested") */
  exclude?: number[];
  /** 'exact' (default) or 'two-stage' */
  mode?: ScoringMode;
  /** reasons per movie (default 2; 0 = none) */
  explain?: number;
}

/** One ranked movie of a response. */
export interface RecommendedMovie {
  rank: number;
  movieId: number;
  title: string;
  year: number;
  genres: string[];
  /** the model's score (predicted rating, or like probability) */
  score: number;
  /** history ratings behind it (occlusion contributions), largest first */
  because: { movieId: number; title: string; rating: number; contribution: number }[];
  explanation: string;
}

/** A response: the list and how it was made. */
export interface RecommendResponse {
  /** the known user, or null for an anonymous history */
  userId: number | null;
  anonymous: boolean;
  mode: ScoringMode;
  /** movies eligible (catalogue minus the history and exclusions) */
  candidates: number;
  /** movies the model scored */
  scored: number;
  diversity: number;
  items: RecommendedMovie[];
  /** milliseconds spent scoring */
  scoreMs: number;
}

/**
 * The service's view of a recommender (a pipeline plugs in by implementing it): synchronous or async. Throws
 * (or rejects with) a RequestError for unknown ids.
 */
export interface Recommender {
  recommend(req: RecommendRequest): RecommendResponse | Promise<RecommendResponse>;
}

/** Options of BstRecommender. */
export interface BstRecommenderOptions {
  model: BstModel;
  data: PreparedData;
  catalog: MovieCatalog;
  /** two-stage re-ranked pool (default DEFAULT_POOL) */
  pool?: number;
}

/** Item indices of MovieLens movie ids; a RequestError (422) names the field and the first unknown id. */
export function movieIndices(data: PreparedData, ids: readonly number[], field: string): Int32Array {
  const out = new Int32Array(ids.length);
  ids.forEach((id, j) => {
    const i = data.vocabs.item.index(id);
    if (i <= 0) throw new RequestError(`${field}[${j}]: movie ${id} is unknown to the model (never rated in training)`, 422, field);
    out[j] = i;
  });
  return out;
}

/** `Recommender` on the trained BST and lib/recommend (see the module comment and lib/serve/anonymous.ts). */
export class BstRecommender implements Recommender {
  constructor(readonly o: BstRecommenderOptions) {}

  /** Top-k for the request (see RecommendRequest); deterministic for a fixed model and request. */
  recommend(req: RecommendRequest): RecommendResponse {
    const { model, catalog } = this.o;
    const base = this.o.data;
    const k = req.k ?? 10;
    const lambda = req.diversity ?? 1;
    if (!(Number.isInteger(k) && k >= 1)) throw new RequestError(`k: must be an integer >= 1, got ${k}`, 400, 'k');
    if (!(lambda >= 0 && lambda <= 1)) throw new RequestError(`diversity: must be in [0, 1], got ${lambda}`, 400, 'diversity');
    const excluded = movieIndices(base, req.exclude ?? [], 'exclude');
    let data: PreparedData;
    let cut: HistoryCut;
    let rated: Uint8Array;
    let retrieval: RetrievalKind | undefined;
    if (req.userId !== undefined) {
      const u = base.vocabs.user.index(req.userId);
      if (u <= 0) throw new RequestError(`userId: user ${req.userId} is unknown to the model (no training ratings); send an anonymous history (movies) instead`, 404, 'userId');
      data = base;
      cut = latestCut(base, u);
      rated = ratedMask(base, u); // every movie they rated, in any split
    } else {
      const ids = req.movies ?? [];
      const items = movieIndices(base, ids, 'movies');
      if (req.ratings && req.ratings.length !== ids.length) throw new RequestError(`ratings: ${req.ratings.length} ratings for ${ids.length} movies`, 400, 'ratings');
      const view = anonymousView(base, items, req.ratings ?? ids.map(() => DEFAULT_ANONYMOUS_RATING));
      data = view.data;
      cut = view.cut;
      rated = new Uint8Array(base.sizes.numItems);
      rated[0] = 1;
      for (const i of items) rated[i] = 1;
      retrieval = 'embedding'; // the view has no training ratings to count popularity from
    }
    for (const i of excluded) rated[i] = 1;
    const cand: number[] = [];
    for (let i = 1; i < rated.length; i++) if (!rated[i]) cand.push(i);
    const candidates = Int32Array.from(cand);
    const mode = req.mode ?? 'exact';
    const mmrPool = lambda < 1 ? Math.max(5 * k, 50) : k;
    const pool = Math.max(1, Math.min(candidates.length, Math.max(mmrPool, this.o.pool ?? DEFAULT_POOL)));
    const t0 = performance.now();
    const scores = candidates.length === 0 ? new Float32Array(0) : scoreItemsMode(model, data, cut, candidates, mode, { pool, retrieval });
    const scoreMs = performance.now() - t0;
    const list = lambda < 1
      ? mmrRerank({ items: candidates, scores, k, lambda, genres: { itemGenres: base.features.itemGenres, numGenres: base.sizes.numGenres } })
      : topK(candidates, scores, k);
    const top = req.explain ?? 2;
    const reasons: Reason[][] | undefined = top > 0 && list.items.length > 0 ? explainItems({ model, data, catalog, cut, items: list.items, top }) : undefined;
    const items: RecommendedMovie[] = Array.from(list.items, (i, r) => ({
      rank: r + 1,
      movieId: catalog.movieId[i],
      title: catalog.title[i],
      year: catalog.year[i],
      genres: catalog.genres[i],
      score: list.scores[r],
      because: (reasons?.[r] ?? []).map((x) => ({ movieId: x.movieId, title: x.title, rating: x.rating, contribution: x.contribution })),
      explanation: reasons ? explanationText(reasons[r]) : '',
    }));
    return {
      userId: req.userId ?? null, anonymous: req.userId === undefined, mode, candidates: candidates.length,
      scored: mode === 'exact' ? candidates.length : Math.min(pool, candidates.length), diversity: lambda, items, scoreMs,
    };
  }
}
