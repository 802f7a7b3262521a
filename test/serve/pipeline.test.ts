/**
 * The service on a run folder that holds a retriever (`<run>/retriever/`, saveRunPipeline): requests run
 * retrieval -> BST ranking by default and say so; the list equals `bst recommend`'s pipeline list (lib/recommend
 * recommend() with loadRunPipeline); no rated, picked or excluded movie comes back; anonymous picks are the
 * retriever's history. The tiny BST is trained on real ml-100k (helpers.ts); the SASRec-style retriever is a
 * seeded, untrained one (the tests check wiring, not quality: a random top M still holds many rated movies
 * unless they are excluded).
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadRun } from '../../lib/app/experiment';
import { loadRunPipeline, movieCatalog, recommend, saveRunPipeline } from '../../lib/recommend/index';
import { seqRecConfig } from '../../lib/seqrec/config';
import { createSeqRec, disposeSeqRec } from '../../lib/seqrec/model';
import { loadServingModel } from '../../lib/app/serve/model';
import { BstRecommender, RecommendResponse, RequestError } from '../../lib/app/serve/recommender';
import { buildServer, ServeApp } from '../../lib/app/serve/server';
import { DATA_DIR, trainTinyRun } from './helpers';

const M = 40;
let runDir: string;
let app: ServeApp;

/** MovieLens-100k rated movie ids of a user (u.data: user \t movie \t rating \t time). */
function ratedBy(user: number): Set<number> {
  const lines = fs
    .readFileSync(path.join(DATA_DIR, 'ml-100k', 'u.data'), 'utf8')
    .trim()
    .split('\n');
  return new Set(
    lines
      .map((l) => l.split('\t').map(Number))
      .filter((r) => r[0] === user)
      .map((r) => r[1]),
  );
}

beforeAll(async () => {
  runDir = await trainTinyRun('bst-serve-pipe-');
  const run = await loadRun(runDir, { dataDir: DATA_DIR });
  const seqrec = createSeqRec(
    seqRecConfig({ maxLen: 8, dim: 8, blocks: 1, heads: 1, seed: 3 }),
    run.data.sizes.numItems,
  );
  saveRunPipeline(runDir, { seqrec, setting: { m: M, weight: 0.25 } });
  disposeSeqRec(seqrec);
  run.model.net.dispose();
  app = await buildServer({
    load: (generation) => loadServingModel(runDir, { dataDir: DATA_DIR, generation }),
    webRoot: null,
  });
});
afterAll(async () => {
  await app?.close();
  if (runDir) fs.rmSync(path.dirname(runDir), { recursive: true, force: true });
});

const post = async (body: object) => {
  const r = await app.inject({ method: 'POST', url: '/recommend', payload: body });
  expect(r.statusCode).toBe(200);
  return r.json() as RecommendResponse;
};

test('a known user: mode pipeline named in words, the list of `bst recommend` (pipeline), nothing rated or excluded', async () => {
  const body = await post({ userId: 1, k: 10 });
  expect(body.mode).toBe('pipeline');
  expect(body.modeLabel).toBe(`retrieval (sasrec, M=${M}) → BST ranking blended with the retrieval rank (w=0.25)`);
  expect(body.scored).toBe(M);
  expect(body.candidates).toBeGreaterThan(M);
  expect((await app.inject('/model')).json().mode).toBe(body.modeLabel);
  const rated = ratedBy(1);
  for (const x of body.items) expect(rated.has(x.movieId)).toBe(false);
  // bst recommend --mode auto on the same run folder
  const run = await loadRun(runDir, { dataDir: DATA_DIR });
  const pipeline = loadRunPipeline(runDir, run.data.sizes.numItems)!;
  const direct = recommend({
    pipeline,
    model: run.model,
    data: run.data,
    catalog: movieCatalog(run.dataset, run.data),
    userId: 1,
    k: 10,
  });
  expect(direct.mode).toBe('pipeline');
  expect(body.items.map((x) => x.movieId)).toEqual(direct.items.map((x) => x.movieId));
  body.items.forEach((x, r) => {
    expect(x.score).toBeCloseTo(direct.items[r].score, 5);
    expect(x.explanation).toBe(direct.items[r].explanation);
  });
  // explicit exact mode still scores the whole unrated catalogue
  const exact = await post({ userId: 1, k: 10, mode: 'exact' });
  expect(exact.mode).toBe('exact');
  expect(exact.scored).toBe(exact.candidates);
  pipeline.retriever.dispose?.();
  run.model.net.dispose();
  // "not interested": excluded movies leave the retrieval too, and never come back
  const top3 = body.items.slice(0, 3).map((x) => x.movieId);
  const again = await post({ userId: 1, k: 10, exclude: top3 });
  expect(again.mode).toBe('pipeline');
  for (const x of again.items) {
    expect(top3).not.toContain(x.movieId);
    expect(rated.has(x.movieId)).toBe(false);
  }
});

test("anonymous picks are the retriever's history: every item comes from its top M of the picks, none is a pick", async () => {
  const picks = [50, 172, 181];
  const body = await post({ movies: picks, k: 10, diversity: 0.5 });
  expect(body.mode).toBe('pipeline');
  expect(body.items).toHaveLength(10);
  const run = await loadRun(runDir, { dataDir: DATA_DIR });
  const idx = picks.map((id) => run.data.vocabs.item.index(id));
  const pipeline = loadRunPipeline(runDir, run.data.sizes.numItems)!;
  const mmrPool = 50; // max(5k, 50): MMR widens M as lib/recommend's recommend does
  const retrieved = new Set(
    Array.from(pipeline.retriever.retrieve(idx, Math.max(M, mmrPool), idx), (i) => run.data.vocabs.item.value(i)),
  );
  expect(body.scored).toBe(Math.max(M, mmrPool));
  for (const x of body.items) {
    expect(picks).not.toContain(x.movieId);
    expect(retrieved.has(x.movieId)).toBe(true);
  }
  // a model without a retriever refuses mode 'pipeline' with a 400 naming the field
  const plain = new BstRecommender({ model: run.model, data: run.data, catalog: movieCatalog(run.dataset, run.data) });
  expect(() => plain.recommend({ movies: picks, mode: 'pipeline' })).toThrow(RequestError);
  expect(() => plain.recommend({ movies: picks, mode: 'pipeline' })).toThrow(
    /^mode: "pipeline" needs a run folder with a retriever/,
  );
  expect(plain.recommend({ movies: picks, k: 3 }).mode).toBe('exact');
  pipeline.retriever.dispose?.();
  run.model.net.dispose();
});
