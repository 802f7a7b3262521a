/**
 * The in-browser engine of a static export (`bst export-web`): loads the exported BST (tfjs LayersModel with
 * bst-lab's custom layers, registered by importing lib/model/layers) and the catalogue, then answers the page's
 * search and anonymous recommendation requests with the same `BstRecommender` the service uses (exact
 * shared-history scores, MMR diversity, occlusion explanations) on a PreparedData made of the catalogue alone
 * (no ratings: the export serves anonymous picks only). Bundled by esbuild into engine.js, which sets
 * `window.BST_ENGINE` (a promise-free facade whose calls wait for the model) before app.js runs.
 */
import * as tf from '@tensorflow/tfjs';
import '../../../model/layers/index';
import { PreparedData } from '../../../data/prepare';
import { vocabsFromJSON, VocabsJSON } from '../../../data/vocab';
import { BstModel } from '../../../model/build';
import { BstConfig } from '../../../model/config';
import { FeatureSizes } from '../../../data/types';
import { MovieCatalog } from '../../../recommend/catalog';
import { BstRecommender, RecommendRequest, RecommendResponse, RequestError } from '../recommender';

/** catalog.json of an export (written by lib/app/serve/export.ts). */
export interface ExportedCatalog {
  dataset: string;
  seqLen: number;
  config: BstConfig;
  sizes: FeatureSizes;
  vocabularies: VocabsJSON;
  /** per item index 1..numItems-1 (index 0 unused) */
  movieId: number[];
  title: string[];
  year: number[];
  /** genre names, per item a list of indices into it */
  genreNames: string[];
  genres: number[][];
  /** [numItems] year vocabulary index */
  itemYear: number[];
  /** [numItems] training ratings (search order) */
  popularity: number[];
}

/** A PreparedData holding the catalogue and no ratings (what BstRecommender needs for anonymous histories). */
export function catalogueData(c: ExportedCatalog): { data: PreparedData; catalog: MovieCatalog } {
  const n = c.sizes.numItems;
  const G = c.sizes.numGenres;
  const itemGenres = new Float32Array(n * G); // [numItems, G]
  c.genres.forEach((gs, i) => gs.forEach((g) => (itemGenres[i * G + g] = 1)));
  const empty = new Int32Array(0);
  const one = () => new Int32Array(1);
  const data = {
    interactions: {
      userOffsets: new Int32Array(2),
      user: empty,
      item: empty,
      rating: new Float32Array(0),
      timestamp: new Float64Array(0),
    },
    split: { protocol: 'leave-last-k', train: empty, val: empty, test: empty },
    vocabs: vocabsFromJSON(c.vocabularies),
    sizes: c.sizes,
    features: {
      itemGenres,
      itemYear: Int32Array.from(c.itemYear),
      userGender: one(),
      userAge: one(),
      userOccupation: one(),
      userZip: one(),
    },
    counts: {},
    seqLen: c.seqLen,
    positions: () => empty,
    batches: function* () {
      /* no ratings */
    },
    gather: () => {
      throw new Error('the export holds no ratings');
    },
  } as unknown as PreparedData;
  const catalog: MovieCatalog = {
    movieId: Int32Array.from(c.movieId),
    title: c.title,
    year: Int32Array.from(c.year),
    genres: c.genres.map((gs) => gs.map((g) => c.genreNames[g])),
  };
  return { data, catalog };
}

/** The page's engine interface (the same as app.js's HTTP one). */
export interface PageEngine {
  name: string;
  search(query: string): Promise<{ movieId: number; title: string; year: number; genres: string[] }[]>;
  recommend(req: RecommendRequest): Promise<RecommendResponse>;
  /** resolves once the model is loaded and warmed: backend and load milliseconds */
  ready: Promise<{ backend: string; loadMs: number }>;
}

/** Load model/model.json and catalog.json (relative to the page) and answer the page's requests. */
export function createEngine(base = '.'): PageEngine {
  const t0 = performance.now();
  const loaded = (async () => {
    // cpu by default: the per-request work is many small ops, where webgl's shader compiles and GPU read-backs
    // cost more than they save (and headless browsers emulate WebGL); ?backend=webgl in the page URL picks it
    const wanted =
      new URLSearchParams((globalThis as unknown as { location?: { search: string } }).location?.search ?? '').get(
        'backend',
      ) === 'webgl'
        ? 'webgl'
        : 'cpu';
    if (!(await tf.setBackend(wanted).catch(() => false))) await tf.setBackend('cpu');
    await tf.ready();
    const [cat, net] = await Promise.all([
      fetch(`${base}/catalog.json`).then((r) => r.json() as Promise<ExportedCatalog>),
      tf.loadLayersModel(`${base}/model/model.json`),
    ]);
    const { data, catalog } = catalogueData(cat);
    const model: BstModel = { net, config: cat.config, sizes: cat.sizes };
    const rec = new BstRecommender({ model, data, catalog });
    const byPop = Array.from({ length: cat.sizes.numItems - 1 }, (_, i) => i + 1).sort(
      (a, b) => cat.popularity[b] - cat.popularity[a] || a - b,
    );
    const lower = cat.title.map((t) => t.toLowerCase());
    rec.recommend({ movies: byPop.slice(0, 3).map((i) => cat.movieId[i]), k: 10 }); // warm up (per-model tables, kernels)
    return { rec, cat, catalog, byPop, lower, loadMs: performance.now() - t0 };
  })();
  return {
    name: 'running in your browser (tfjs)',
    ready: loaded.then((l) => ({ backend: tf.getBackend(), loadMs: l.loadMs })),
    async search(query) {
      const { byPop, lower, catalog } = await loaded;
      const words = query
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w !== '');
      const out = [];
      for (const i of byPop) {
        if (out.length >= 8) break;
        if (words.every((w) => lower[i].includes(w)))
          out.push({
            movieId: catalog.movieId[i],
            title: catalog.title[i],
            year: catalog.year[i],
            genres: catalog.genres[i],
          });
      }
      return out;
    },
    async recommend(req) {
      const { rec } = await loaded;
      if (req.userId !== undefined)
        throw new RequestError('userId: the static export serves anonymous picks only (movies)', 400, 'userId');
      return rec.recommend(req);
    },
  };
}

(globalThis as unknown as { BST_ENGINE?: PageEngine }).BST_ENGINE = createEngine();
