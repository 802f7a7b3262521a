import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateSynthetic, loadMovieLens, prepareData, PreparedData } from '../../lib/data/index';
import { popularityScores } from '../../lib/eval/ranking';
import { BstModel, buildBst } from '../../lib/model/index';
import {
  itemEmbeddingTable,
  latestCut,
  ratedMask,
  recommend,
  retrievalScores,
  retrievePool,
  scoreItems,
  scoreTwoStage,
  unratedItems,
  vocabCatalog,
} from '../../lib/recommend/index';
import { ConfigError } from '../../lib/util/errors';
import { tinyConfig, useCpu } from '../model/helpers';

beforeAll(useCpu);

/** Synthetic ml-1m-format data with enough movies that a pool is a real cut (60 movies, 30 users). */
function smallData(): PreparedData {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-two-stage-'));
  generateSynthetic({ dir, format: 'ml-1m', numRatings: 900, numUsers: 30, numMovies: 60, seed: 3 });
  const dataset = loadMovieLens({ dir });
  fs.rmSync(dir, { recursive: true, force: true });
  return prepareData({ dataset, seqLen: 5, k: 1, verbose: false });
}

describe('two-stage scoring', () => {
  const data = smallData();
  let model: BstModel;
  beforeAll(() => {
    model = buildBst(tinyConfig({ seqLen: 5, task: 'like' }), data.sizes);
  });
  const u = 3;

  test('popularity retrieval keeps the most rated candidates; ties to the smaller item', () => {
    const cut = latestCut(data, u);
    const items = unratedItems(data, u);
    const pool = retrievePool(model, data, cut, items, 10, 'popularity');
    expect(pool.length).toBe(10);
    const pop = popularityScores({
      interactions: data.interactions,
      positions: data.split.train,
      numItems: data.sizes.numItems,
    });
    const keptMin = Math.min(...Array.from(pool, (i) => pop[items[i]]));
    const inPool = new Set(pool);
    for (let i = 0; i < items.length; i++) if (!inPool.has(i)) expect(pop[items[i]]).toBeLessThanOrEqual(keptMin);
  });

  test('embedding retrieval = dot product with the mean embedding of the last L-1 history items', () => {
    const cut = latestCut(data, u);
    const items = unratedItems(data, u);
    const s = retrievalScores(model, data, cut, items, 'embedding');
    const table = itemEmbeddingTable(model);
    const E = model.config.embedDim;
    const it = data.interactions;
    const hist = Array.from(it.item.subarray(Math.max(it.userOffsets[u], cut.end - 4), cut.end));
    expect(hist.length).toBe(4);
    const c = items[7];
    let want = 0;
    for (const h of hist) for (let e = 0; e < E; e++) want += table[h * E + e] * table[c * E + e];
    expect(s[7]).toBeCloseTo(want, 5);
  });

  test('mixed retrieval takes the heads of both lists', () => {
    const cut = latestCut(data, u);
    const items = unratedItems(data, u);
    const pool = new Set(retrievePool(model, data, cut, items, 6, 'mixed'));
    for (const kind of ['popularity', 'embedding'] as const) {
      const head = retrievePool(model, data, cut, items, 3, kind);
      for (const i of head) expect(pool.has(i)).toBe(true);
    }
    expect(pool.size).toBe(6);
  });

  test('the pool gets the exact model scores, the rest rank below; a pool as large as the catalogue = exact', () => {
    const cut = latestCut(data, u);
    const items = unratedItems(data, u);
    const exact = scoreItems(model, data, cut, items);
    const two = scoreTwoStage(model, data, cut, items, { pool: 12, retrieval: 'mixed' });
    expect(two.pool.length).toBe(12);
    const inPool = new Set(two.pool);
    let poolMin = Infinity;
    for (const i of two.pool) {
      expect(Math.abs(two.scores[i] - exact[i])).toBeLessThan(1e-5);
      poolMin = Math.min(poolMin, two.scores[i]);
    }
    for (let i = 0; i < items.length; i++)
      if (!inPool.has(i)) {
        expect(Number.isFinite(two.scores[i])).toBe(true);
        expect(two.scores[i]).toBeLessThan(poolMin);
      }
    const all = scoreTwoStage(model, data, cut, items, { pool: items.length + 5 });
    for (let i = 0; i < items.length; i++) expect(Math.abs(all.scores[i] - exact[i])).toBeLessThan(1e-5);
    expect(() => retrievePool(model, data, cut, items, 0, 'mixed')).toThrow(ConfigError);
    expect(() => retrievePool(model, data, cut, items, 3, 'nope' as any)).toThrow(/unknown retrieval/);
  });

  test('recommend: the mode is explicit in the result; two-stage never recommends a rated movie', () => {
    const catalog = vocabCatalog(data);
    let checked = 0;
    for (let user = 1; user < data.sizes.numUsers && checked < 5; user++) {
      if (unratedItems(data, user).length < 12) continue; // the pool must be a real cut
      checked++;
      const userId = data.vocabs.user.value(user)!;
      const r = recommend({ model, data, catalog, userId, k: 5, explain: 0, mode: 'two-stage', twoStage: { pool: 8 } });
      expect(r.mode).toBe('two-stage');
      expect(r.reranked).toBe(8);
      const rated = ratedMask(data, user);
      for (const x of r.items) expect(rated[x.item]).toBe(0);
      const exact = recommend({ model, data, catalog, userId, k: 5, explain: 0 });
      expect(exact.mode).toBe('exact');
      expect(exact.reranked).toBe(exact.candidates);
      const full = recommend({
        model,
        data,
        catalog,
        userId,
        k: 5,
        explain: 0,
        mode: 'two-stage',
        twoStage: { pool: 10_000 },
      });
      expect(full.items.map((x) => x.item)).toEqual(exact.items.map((x) => x.item));
    }
    expect(checked).toBe(5);
  });
});
