/**
 * What the service asks of a model: the `Recommender` interface (one request in, one ranked list out) and
 * `BstRecommender`, its implementation on lib/recommend: retrieval -> BST ranking when the run folder holds a
 * retriever (lib/recommend/pipeline.ts: the retriever's top M among the unrated, unexcluded movies, scored by
 * the BST and blended as validation chose), else exact or two-stage BST scores; then MMR genre diversity and
 * occlusion explanations of the returned k. Another ranking pipeline plugs into the service by implementing
 * `Recommender` (see lib/app/serve/model.ts's `ServingModel`).
 */
import { PreparedData } from '../../data/index';
import { BstModel } from '../../model/index';
import {
  explainItems,
  explanationText,
  HistoryCut,
  latestCut,
  mmrRerank,
  MovieCatalog,
  Reason,
  ratedMask,
  scoreItemsMode,
  ScoringMode,
  topK,
  DEFAULT_POOL,
  RetrievalKind,
} from '../../recommend/index';
import { pipelineCandidatesAt, pipelineModeLabel, RankingPipeline } from '../../recommend/pipeline';
import { BstError } from '../../util/errors';
import { anonymousView, DEFAULT_ANONYMOUS_RATING } from './anonymous';

/** A request's input is wrong in a way the schema cannot see (an unknown id, mismatched lengths); `status` is the HTTP code. */
export class RequestError extends BstError {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 413 | 422 | 503,
    readonly field?: string,
  ) {
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
  /** 'pipeline' (default when the model has a retriever), 'exact' (default otherwise) or 'two-stage' */
  mode?: ServeMode;
  /** reasons per movie (default 2; 0 = none) */
  explain?: number;
}

/** How a response was scored: a lib/recommend ScoringMode, or retrieval -> BST ranking. */
export type ServeMode = ScoringMode | 'pipeline';

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
  mode: ServeMode;
  /** the mode in words, e.g. "retrieval (sasrec, M=100) → BST ranking" (pipelineModeLabel) or "exact" */
  modeLabel?: string;
  /** movies eligible (catalogue minus the history and exclusions) */
  candidates: number;
  /** movies the model scored (pipeline: the retrieved ones) */
  scored: number;
  diversity: number;
  items: RecommendedMovie[];
  /** milliseconds spent scoring */
  scoreMs: number;
  /** the scores came from the cache (the same history was scored before) */
  cached: boolean;
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
  /** the run folder's retriever and setting (loadRunPipeline): requests default to mode 'pipeline' */
  pipeline?: RankingPipeline;
  /**
   * Histories whose scores and explanations are kept (least recently used dropped; default
   * DEFAULT_SCORE_CACHE; 0 = none). A page's follow-up requests for the same picks (slider moves, "not
   * interested") then skip the model; each entry holds one float per movie.
   */
  cacheSize?: number;
}

/** Default BstRecommenderOptions.cacheSize. */
export const DEFAULT_SCORE_CACHE = 512;

/** Scores and explanations of one history (see BstRecommenderOptions.cacheSize). */
interface CacheEntry {
  /** [numItems] the model's score per item index (NaN: not scored) */
  scores: Float32Array;
  /** `${item}/${top}` -> reasons */
  reasons: Map<string, Reason[]>;
  /** pipeline: the retrieved item indices (retrieval order); the other modes score `candidates` */
  retrieved?: Int32Array;
}

/** Item indices of MovieLens movie ids; a RequestError (422) names the field and the first unknown id. */
export function movieIndices(data: PreparedData, ids: readonly number[], field: string): Int32Array {
  const out = new Int32Array(ids.length);
  ids.forEach((id, j) => {
    const i = data.vocabs.item.index(id);
    if (i <= 0)
      throw new RequestError(
        `${field}[${j}]: movie ${id} is unknown to the model (never rated in training)`,
        422,
        field,
      );
    out[j] = i;
  });
  return out;
}

/** Item indices 1.. set in `mask` (the retriever's exclusions: rated and excluded movies), ascending. */
function eligibleComplement(mask: Uint8Array): Int32Array {
  const out: number[] = [];
  for (let i = 1; i < mask.length; i++) if (mask[i]) out.push(i);
  return Int32Array.from(out);
}

/** `Recommender` on the trained BST and lib/recommend (see the module comment and lib/app/serve/anonymous.ts). */
export class BstRecommender implements Recommender {
  private readonly cache = new Map<string, CacheEntry>(); // insertion order = recency
  constructor(readonly o: BstRecommenderOptions) {}

  private cached(key: string): CacheEntry | undefined {
    const e = this.cache.get(key);
    if (e) {
      this.cache.delete(key);
      this.cache.set(key, e);
    }
    return e;
  }

  private remember(key: string, e: CacheEntry): void {
    const max = this.o.cacheSize ?? DEFAULT_SCORE_CACHE;
    if (max <= 0) return;
    this.cache.set(key, e);
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
  }

  /** Top-k for the request (see RecommendRequest); deterministic for a fixed model and request. */
  recommend(req: RecommendRequest): RecommendResponse {
    const { model, catalog } = this.o;
    const base = this.o.data;
    const k = req.k ?? 10;
    const lambda = req.diversity ?? 1;
    if (!(Number.isInteger(k) && k >= 1)) throw new RequestError(`k: must be an integer >= 1, got ${k}`, 400, 'k');
    if (!(lambda >= 0 && lambda <= 1))
      throw new RequestError(`diversity: must be in [0, 1], got ${lambda}`, 400, 'diversity');
    const excluded = movieIndices(base, req.exclude ?? [], 'exclude');
    let data: PreparedData;
    let cut: HistoryCut;
    let rated: Uint8Array;
    let retrieval: RetrievalKind | undefined;
    let history: string;
    if (req.userId !== undefined) {
      const u = base.vocabs.user.index(req.userId);
      if (u <= 0)
        throw new RequestError(
          `userId: user ${req.userId} is unknown to the model (no training ratings); send an anonymous history (movies) instead`,
          404,
          'userId',
        );
      data = base;
      cut = latestCut(base, u);
      rated = ratedMask(base, u); // every movie they rated, in any split
      history = `user ${req.userId}`;
    } else {
      const ids = req.movies ?? [];
      const items = movieIndices(base, ids, 'movies');
      if (req.ratings && req.ratings.length !== ids.length)
        throw new RequestError(`ratings: ${req.ratings.length} ratings for ${ids.length} movies`, 400, 'ratings');
      const ratings = req.ratings ?? ids.map(() => DEFAULT_ANONYMOUS_RATING);
      const view = anonymousView(base, items, ratings);
      history = `picks ${ids.join(',')} rated ${ratings.join(',')}`;
      data = view.data;
      cut = view.cut;
      rated = new Uint8Array(base.sizes.numItems);
      rated[0] = 1;
      for (const i of items) rated[i] = 1;
      retrieval = 'embedding'; // the view has no training ratings to count popularity from
    }
    const eligible = (mask: Uint8Array) => {
      const out: number[] = [];
      for (let i = 1; i < mask.length; i++) if (!mask[i]) out.push(i);
      return Int32Array.from(out);
    };
    const pipeline = this.o.pipeline;
    const mode: ServeMode = req.mode ?? (pipeline ? 'pipeline' : 'exact');
    if (mode === 'pipeline' && !pipeline)
      throw new RequestError(
        'mode: "pipeline" needs a run folder with a retriever (bst train-recommender --retriever sasrec); this model has none',
        400,
        'mode',
      );
    // exact scores do not depend on the exclusions: score every unrated movie once per history, then drop them
    const scoredSet = mode === 'exact' ? eligible(rated) : undefined;
    for (const i of excluded) rated[i] = 1;
    const candidates = eligible(rated);
    const mmrPool = lambda < 1 ? Math.max(5 * k, 50) : k;
    const pool = Math.max(1, Math.min(candidates.length, Math.max(mmrPool, this.o.pool ?? DEFAULT_POOL)));
    // pipeline: the retriever's top M (raised to the MMR pool, as lib/recommend's recommend) of the unrated, unexcluded movies
    const m = pipeline ? Math.max(mmrPool, pipeline.setting.m) : 0;
    const exclusions = Array.from(excluded)
      .sort((a, b) => a - b)
      .join(',');
    const key =
      mode === 'exact'
        ? `exact|${history}`
        : mode === 'pipeline'
          ? `pipeline ${m}|${history}|${exclusions}`
          : `two-stage ${pool}|${history}|${exclusions}`;
    const t0 = performance.now();
    let entry = this.cached(key);
    const hit = entry !== undefined;
    if (!entry && mode === 'pipeline') {
      const got = pipelineCandidatesAt(model, data, cut, eligibleComplement(rated), {
        ...pipeline!,
        setting: { ...pipeline!.setting, m },
      });
      entry = { scores: new Float32Array(base.sizes.numItems).fill(NaN), reasons: new Map(), retrieved: got.items };
      got.items.forEach((i, t) => (entry!.scores[i] = got.scores[t]));
      this.remember(key, entry);
    } else if (!entry) {
      const items = scoredSet ?? candidates;
      const s =
        items.length === 0
          ? new Float32Array(0)
          : scoreItemsMode(model, data, cut, items, mode as ScoringMode, { pool, retrieval });
      entry = { scores: new Float32Array(base.sizes.numItems).fill(NaN), reasons: new Map() };
      items.forEach((i, t) => (entry!.scores[i] = s[t]));
      this.remember(key, entry);
    }
    const ranked = entry.retrieved ?? candidates;
    const scores = Float32Array.from(ranked, (i) => entry!.scores[i]);
    const scoreMs = performance.now() - t0;
    const list =
      lambda < 1
        ? mmrRerank({
            items: ranked,
            scores,
            k,
            lambda,
            genres: { itemGenres: base.features.itemGenres, numGenres: base.sizes.numGenres },
          })
        : topK(ranked, scores, k);
    const top = req.explain ?? 2;
    let reasons: Reason[][] | undefined;
    if (top > 0 && list.items.length > 0) {
      const missing = Array.from(list.items).filter((i) => !entry!.reasons.has(`${i}/${top}`));
      if (missing.length > 0) {
        const got = explainItems({ model, data, catalog, cut, items: missing, top });
        missing.forEach((i, t) => entry!.reasons.set(`${i}/${top}`, got[t]));
      }
      reasons = Array.from(list.items, (i) => entry!.reasons.get(`${i}/${top}`) ?? []);
    }
    const items: RecommendedMovie[] = Array.from(list.items, (i, r) => ({
      rank: r + 1,
      movieId: catalog.movieId[i],
      title: catalog.title[i],
      year: catalog.year[i],
      genres: catalog.genres[i],
      score: list.scores[r],
      because: (reasons?.[r] ?? []).map((x) => ({
        movieId: x.movieId,
        title: x.title,
        rating: x.rating,
        contribution: x.contribution,
      })),
      explanation: reasons ? explanationText(reasons[r]) : '',
    }));
    const scored =
      mode === 'pipeline'
        ? ranked.length
        : mode === 'exact'
          ? (scoredSet ?? candidates).length
          : Math.min(pool, candidates.length);
    return {
      userId: req.userId ?? null,
      anonymous: req.userId === undefined,
      mode,
      modeLabel: mode === 'pipeline' ? pipelineModeLabel({ ...pipeline!, setting: { ...pipeline!.setting, m } }) : mode,
      candidates: candidates.length,
      scored,
      diversity: lambda,
      items,
      scoreMs,
      cached: hit,
    };
  }
}
