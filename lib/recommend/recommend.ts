/**
 * Top-N recommendations for a user: score every movie they have not rated (in any split) with the trained
 * BST from their latest history, keep the best k (optionally re-ranked for genre diversity), explain each
 * with the history ratings whose removal lowers its score most (occlusion, see explain.ts). Unknown users: a DataError, or with
 * `fallback: 'popular'` the cold-start list (popular movies in the genres of the given history).
 */
import { PreparedData } from '../data/index';
import { popularityScores } from '../eval/ranking';
import { BstModel } from '../model/index';
import { ConfigError, DataError } from '../util/errors';
import { itemIndices, latestCut } from './candidates';
import { MovieCatalog } from './catalog';
import { mmrRerank } from './diversity';
import { explainItems, explanationText, Reason } from './explain';
import { DEFAULT_CHUNK, RankedItems, topK, unratedItems } from './score';
import { DEFAULT_POOL, ExactEngine, scoreItemsMode, ScoringMode, TwoStageOptions } from './two-stage';
import { pipelineCandidatesAt, pipelineModeLabel, RankingPipeline } from './pipeline';

/** One recommended movie. */
export interface Recommendation {
  rank: number;
  item: number;
  movieId: number;
  title: string;
  year: number;
  genres: string[];
  /** the model's score (predicted rating, or like probability); cold start: the popularity-in-genres score */
  score: number;
  /** history ratings behind it (occlusion: removing each lowers the score by `contribution`), largest first */
  because: Reason[];
  /** plain words, e.g. "because you rated Heat 5 and Ronin 4", or NO_SINGLE_REASON */
  explanation: string;
}

/** One rating of the user's history. */
export interface HistoryEntry {
  movieId: number;
  title: string;
  genres: string[];
  rating: number;
  timestamp: number;
}

/** What `recommend` returns. */
export interface RecommendResult {
  userId: number;
  /** user run index (0 for a cold-start user) */
  user: number;
  coldStart: boolean;
  /** the latest ratings (oldest first); the model sees the last L-1 of them */
  history: HistoryEntry[];
  items: Recommendation[];
  /** movies scored (the unrated catalogue) */
  candidates: number;
  /** 'exact': the BST scored every candidate; 'two-stage': the BST re-ranked `reranked` retrieved ones; 'pipeline': retrieval -> BST ranking (pipeline.ts) */
  mode: ScoringMode | 'pipeline';
  /** pipeline: the mode in words (pipelineModeLabel) */
  modeLabel?: string;
  /** candidates the BST scored (= candidates in exact mode) */
  reranked: number;
  /** milliseconds spent scoring the candidates */
  scoreMs: number;
}

/** Options of `recommend`. */
export interface RecommendOptions {
  model: BstModel;
  data: PreparedData;
  catalog: MovieCatalog;
  /** MovieLens user id */
  userId: number;
  /** list length (default 10) */
  k?: number;
  /** MMR re-ranking: lambda in [0, 1] (1 = none), pool = candidates re-ranked (default max(5k, 50)) */
  diversity?: { lambda: number; pool?: number };
  /** reasons per movie at most (default 2; 0 = no explanations) */
  explain?: number;
  /** a history rating is named only when removing it lowers the score by more than this (default DEFAULT_MIN_CONTRIBUTION) */
  minContribution?: number;
  /** history entries returned (default 10) */
  historyShown?: number;
  /** 'error' (default): unknown user -> DataError; 'popular': cold-start list from `history` */
  fallback?: 'error' | 'popular';
  /** cold start: MovieLens movie ids the new user liked (their genres steer the popular list) */
  history?: number[];
  chunkSize?: number;
  /** 'exact' (default): the BST scores every unrated movie; 'two-stage': retrieve `twoStage.pool`, re-rank them */
  mode?: ScoringMode;
  /** two-stage settings (pool, retrieval); the pool is raised to at least k (and to the MMR pool) */
  twoStage?: TwoStageOptions;
  /** how the BST computes its (exact) scores: 'shared-history' (default) or 'forward'; same scores */
  engine?: ExactEngine;
  /** retrieval -> BST ranking (pipeline.ts): when given, it replaces `mode`; M is raised to k (and the MMR pool) */
  pipeline?: RankingPipeline;
}

function entry(data: PreparedData, catalog: MovieCatalog, p: number): HistoryEntry {
  const it = data.interactions;
  const i = it.item[p];
  return {
    movieId: catalog.movieId[i],
    title: catalog.title[i] || 'an unknown movie',
    genres: catalog.genres[i],
    rating: it.rating[p],
    timestamp: it.timestamp[p],
  };
}

function toRecommendations(list: RankedItems, catalog: MovieCatalog, reasons?: Reason[][]): Recommendation[] {
  return Array.from(list.items, (item, r) => ({
    rank: r + 1,
    item,
    movieId: catalog.movieId[item],
    title: catalog.title[item],
    year: catalog.year[item],
    genres: catalog.genres[item],
    score: list.scores[r],
    because: reasons?.[r] ?? [],
    explanation: reasons ? explanationText(reasons[r]) : '',
  }));
}

/** Top-k for a known user (see the module comment). Deterministic for a fixed model and data. */
export function recommend(o: RecommendOptions): RecommendResult {
  const { model, data, catalog } = o;
  const k = o.k ?? 10;
  if (!(Number.isInteger(k) && k >= 1)) throw new ConfigError(`k must be an integer >= 1, got ${k}`);
  const u = data.vocabs.user.index(o.userId);
  if (u <= 0) {
    if (o.fallback === 'popular') return coldStart({ data, catalog, userId: o.userId, history: o.history ?? [], k });
    const v = data.vocabs.user.values;
    throw new DataError(
      `user ${o.userId} is unknown to the model (no training ratings; known ids run ${v[0]}..${v[v.length - 1]}); ` +
        `use the cold-start fallback (--cold-start, with --history movie ids) for new users`,
    );
  }
  const cut = latestCut(data, u);
  const candidates = unratedItems(data, u);
  const mode = o.mode ?? 'exact';
  const mmrPool = o.diversity && o.diversity.lambda < 1 ? (o.diversity.pool ?? Math.max(5 * k, 50)) : k;
  const pool = Math.max(1, Math.min(candidates.length, Math.max(mmrPool, o.twoStage?.pool ?? DEFAULT_POOL)));
  const t0 = performance.now();
  let items = candidates;
  let scores: Float32Array;
  if (o.pipeline) {
    const m = Math.max(mmrPool, o.pipeline.setting.m);
    ({ items, scores } = pipelineCandidatesAt(model, data, cut, unratedExclude(candidates, data.sizes.numItems), {
      ...o.pipeline,
      setting: { ...o.pipeline.setting, m },
    }));
  } else
    scores = scoreItemsMode(model, data, cut, candidates, mode, {
      ...o.twoStage,
      pool,
      engine: o.engine ?? o.twoStage?.engine,
      chunkSize: o.chunkSize ?? DEFAULT_CHUNK,
    });
  const scoreMs = performance.now() - t0;
  const list =
    o.diversity && o.diversity.lambda < 1
      ? mmrRerank({
          items,
          scores,
          k,
          lambda: o.diversity.lambda,
          pool: o.diversity.pool,
          genres: { itemGenres: data.features.itemGenres, numGenres: data.sizes.numGenres },
        })
      : topK(items, scores, k);
  const top = o.explain ?? 2;
  const reasons =
    top > 0
      ? explainItems({ model, data, catalog, cut, items: list.items, top, minContribution: o.minContribution })
      : undefined;
  const start = data.interactions.userOffsets[u];
  const shown = Math.max(0, o.historyShown ?? 10);
  const history: HistoryEntry[] = [];
  for (let p = Math.max(start, cut.end - shown); p < cut.end; p++) history.push(entry(data, catalog, p));
  if (o.pipeline) {
    return {
      userId: o.userId,
      user: u,
      coldStart: false,
      history,
      items: toRecommendations(list, catalog, reasons),
      candidates: candidates.length,
      mode: 'pipeline',
      modeLabel: pipelineModeLabel(o.pipeline),
      reranked: items.length,
      scoreMs,
    };
  }
  return {
    userId: o.userId,
    user: u,
    coldStart: false,
    history,
    items: toRecommendations(list, catalog, reasons),
    candidates: candidates.length,
    mode,
    reranked: mode === 'exact' ? candidates.length : Math.min(pool, candidates.length),
    scoreMs,
  };
}

/** Every item index 1..numItems-1 that is not among the (ascending) unrated `candidates`: the rated ones. */
function unratedExclude(candidates: Int32Array, numItems: number): Int32Array {
  const open = new Uint8Array(numItems);
  for (const i of candidates) open[i] = 1;
  const out: number[] = [];
  for (let i = 1; i < numItems; i++) if (!open[i]) out.push(i);
  return Int32Array.from(out);
}

/**
 * Cold start: movies ranked by training popularity x the share of their genres among the genres of the given
 * history (movie ids; unknown ids throw a DataError). Without a history: the most popular movies. Movies
 * of the history are never recommended.
 */
export function coldStart(o: {
  data: PreparedData;
  catalog: MovieCatalog;
  userId?: number;
  history: number[];
  k?: number;
}): RecommendResult {
  const { data, catalog } = o;
  const k = o.k ?? 10;
  const G = data.sizes.numGenres;
  const n = data.sizes.numItems;
  const g = data.features.itemGenres;
  const hist = itemIndices(data, o.history);
  const w = new Float64Array(G);
  for (const i of hist) for (let c = 0; c < G; c++) w[c] += g[i * G + c];
  const wSum = w.reduce((a, b) => a + b, 0);
  const pop = popularityScores({ interactions: data.interactions, positions: data.split.train, numItems: n });
  const seen = new Uint8Array(n);
  for (const i of hist) seen[i] = 1;
  const items: number[] = [];
  const scores: number[] = [];
  for (let i = 1; i < n; i++) {
    if (seen[i]) continue;
    let match = 1;
    if (wSum > 0) {
      let dot = 0,
        cnt = 0;
      for (let c = 0; c < G; c++) ((dot += w[c] * g[i * G + c]), (cnt += g[i * G + c]));
      match = cnt > 0 ? dot / (wSum * cnt) : 0;
    }
    items.push(i);
    scores.push(pop[i] * match);
  }
  const list = topK(items, scores, k);
  const history: HistoryEntry[] = Array.from(hist, (i) => ({
    movieId: catalog.movieId[i],
    title: catalog.title[i],
    genres: catalog.genres[i],
    rating: NaN,
    timestamp: NaN,
  }));
  const recs = toRecommendations(list, catalog).map((r) => ({
    ...r,
    explanation: wSum > 0 ? 'popular in the genres you watch' : 'popular with everyone',
  }));
  return {
    userId: o.userId ?? 0,
    user: 0,
    coldStart: true,
    history,
    items: recs,
    candidates: items.length,
    mode: 'exact',
    reranked: 0,
    scoreMs: 0,
  };
}

/** Plain-text table of a result (for the CLI and consoles). */
export function formatRecommendations(r: RecommendResult): string {
  const how = r.coldStart
    ? `${r.candidates} movies ranked by popularity`
    : r.mode === 'pipeline'
      ? `mode: ${r.modeLabel}; ${r.reranked} of ${r.candidates} movies retrieved and scored in ${r.scoreMs.toFixed(1)} ms`
      : r.mode === 'two-stage'
        ? `two-stage: ${r.reranked} of ${r.candidates} movies re-ranked by the model in ${r.scoreMs.toFixed(1)} ms; mode: two-stage`
        : `${r.candidates} movies scored in ${r.scoreMs.toFixed(1)} ms; mode: exact (the BST scores every unrated movie)`;
  const lines = [
    `${r.coldStart ? 'cold start (user unknown to the model): ' : ''}top ${r.items.length} for user ${r.userId} (${how})`,
  ];
  for (const x of r.items) {
    lines.push(
      `${String(x.rank).padStart(3)}. ${x.title}  [${x.genres.join('|')}]  score ${x.score.toFixed(3)}${x.explanation ? `  -- ${x.explanation}` : ''}`,
    );
  }
  return lines.join('\n');
}
