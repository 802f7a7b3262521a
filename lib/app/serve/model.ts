/**
 * A loaded, ready-to-serve model: the `Recommender`, the catalogue (title search, item-item similarity) and
 * the run's metadata. `loadServingModel` reads a run folder, builds everything and warms the scorer up, so a
 * model is swapped in only once it can answer at full speed.
 */
import { PreparedData } from '../../data/index';
import { popularityScores } from '../../eval/ranking';
import { loadRun } from '../experiment';
import { BstModel } from '../../model/index';
import { itemEmbeddingTable, movieCatalog, MovieCatalog, releaseSharedHistory } from '../../recommend/index';
import { pipelineModeLabel } from '../../recommend/pipeline';
import { loadRunPipeline } from '../../recommend/pipeline-run';
import { BstRecommender, movieIndices, Recommender, RequestError } from './recommender';

/** A movie as the service shows it. */
export interface MovieSummary {
  movieId: number;
  title: string;
  year: number;
  genres: string[];
  /** training ratings of the movie */
  ratings: number;
}

/** Metadata of the served model (GET /model). */
export interface ModelInfo {
  runDir: string;
  dataset: string;
  /** the model's config (metrics.json's) */
  config: unknown;
  /** validation and test metrics as recorded in metrics.json */
  metrics: { val: unknown; test: unknown };
  counts: unknown;
  movies: number;
  users: number;
  loadedAt: string;
  /** 1 for the first model, +1 per reload */
  generation: number;
  /** how requests are scored by default: the pipeline's label (pipelineModeLabel) or "exact" */
  mode: string;
}

/** What the service serves from: a recommender, the catalogue and metadata. */
export interface ServingModel {
  info: ModelInfo;
  recommender: Recommender;
  /** movies whose title contains every word of `query` (case-insensitive), most rated first */
  search(query: string, limit: number): MovieSummary[];
  /** the movie of a MovieLens id; RequestError 404 when unknown */
  movie(movieId: number): MovieSummary;
  /** the k movies most similar to `movieId` (cosine of the BST's item embeddings); 404 when unknown */
  similar(movieId: number, k: number): (MovieSummary & { similarity: number })[];
  /** free the model's tensors (called once no request uses it any more) */
  dispose(): void;
}

/** Options of `catalogueModel`. */
export interface CatalogueOptions {
  info: ModelInfo;
  recommender: Recommender;
  data: PreparedData;
  catalog: MovieCatalog;
  model: BstModel;
  dispose?: () => void;
}

/** A ServingModel over a recommender plus the BST's catalogue and item embeddings. */
export function catalogueModel(o: CatalogueOptions): ServingModel {
  const { data, catalog } = o;
  const n = data.sizes.numItems;
  const pop = popularityScores({ interactions: data.interactions, positions: data.split.train, numItems: n });
  const lower = catalog.title.map((t) => t.toLowerCase());
  const byPop = Array.from({ length: n - 1 }, (_, i) => i + 1).sort((a, b) => pop[b] - pop[a] || a - b);
  const E = o.model.config.embedDim;
  const table = itemEmbeddingTable(o.model); // [numItems * E]
  const norm = new Float32Array(n); // [numItems]
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let e = 0; e < E; e++) s += table[i * E + e] ** 2;
    norm[i] = Math.sqrt(s);
  }
  const summary = (i: number): MovieSummary => ({
    movieId: catalog.movieId[i],
    title: catalog.title[i],
    year: catalog.year[i],
    genres: catalog.genres[i],
    ratings: pop[i],
  });
  const indexOf = (movieId: number): number => {
    try {
      return movieIndices(data, [movieId], 'id')[0];
    } catch {
      throw new RequestError(`id: movie ${movieId} is unknown to the model (never rated in training)`, 404, 'id');
    }
  };
  return {
    info: o.info,
    recommender: o.recommender,
    search(query, limit) {
      const words = query
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w !== '');
      const out: MovieSummary[] = [];
      for (const i of byPop) {
        if (out.length >= limit) break;
        if (words.every((w) => lower[i].includes(w))) out.push(summary(i));
      }
      return out;
    },
    movie: (movieId) => summary(indexOf(movieId)),
    similar(movieId, k) {
      const a = indexOf(movieId);
      const sims: { i: number; s: number }[] = [];
      for (let i = 1; i < n; i++) {
        if (i === a) continue;
        let dot = 0;
        for (let e = 0; e < E; e++) dot += table[a * E + e] * table[i * E + e];
        sims.push({ i, s: norm[a] > 0 && norm[i] > 0 ? dot / (norm[a] * norm[i]) : 0 });
      }
      sims.sort((x, y) => y.s - x.s || x.i - y.i);
      return sims.slice(0, k).map(({ i, s }) => ({ ...summary(i), similarity: s }));
    },
    dispose: o.dispose ?? (() => undefined),
  };
}

/** Options of `loadServingModel`. */
export interface LoadServingOptions {
  /** dataset release (default the run's) */
  dataset?: string;
  /** folder of the releases (default $BST_DATA_DIR, the run's, or data/) */
  dataDir?: string;
  /** generation number recorded in ModelInfo (default 1) */
  generation?: number;
  /** histories whose scores are cached (BstRecommenderOptions.cacheSize; default DEFAULT_SCORE_CACHE) */
  cacheSize?: number;
}

/**
 * Load a run folder (`bst train` / `bst train-recommender`) as a ServingModel, warmed up. When the folder holds
 * a retriever (`<run>/retriever/`, loadRunPipeline), requests run retrieval -> BST ranking by default.
 */
export async function loadServingModel(runDir: string, o: LoadServingOptions = {}): Promise<ServingModel> {
  const run = await loadRun(runDir, { dataset: o.dataset, dataDir: o.dataDir });
  const { model, data, dataset, recorded } = run;
  const catalog = movieCatalog(dataset, data);
  const pipeline = loadRunPipeline(run.runDir, data.sizes.numItems);
  const recommender = new BstRecommender({ model, data, catalog, cacheSize: o.cacheSize, pipeline });
  const served = catalogueModel({
    model,
    data,
    catalog,
    recommender,
    info: {
      runDir: run.runDir,
      dataset: recorded.dataset,
      config: recorded.config,
      metrics: { val: recorded.val, test: recorded.test },
      counts: recorded.counts,
      movies: data.sizes.numItems - 1,
      users: data.sizes.numUsers - 1,
      loadedAt: new Date().toISOString(),
      generation: o.generation ?? 1,
      mode: pipeline ? pipelineModeLabel(pipeline) : 'exact',
    },
    dispose: () => {
      releaseSharedHistory(model);
      model.net.dispose();
      pipeline?.retriever.dispose?.();
    },
  });
  // warm up: the first request builds the shared-history tables (per model) and compiles the kernels
  const first = served.search('', 1)[0];
  if (first) recommender.recommend({ movies: [first.movieId], k: 1, explain: 1 });
  return served;
}
