/**
 * Recommendation benchmark (issue 7). Prints:
 *  1. latency of one user's full-catalogue recommendation on wasm with a model shaped like ML-1M (3,706 movies,
 *     lib/model/tuned-config.json, untrained weights: latency does not depend on them), on synthetic
 *     ml-1m-format data; target < 50 ms;
 *  2. HR@10 / NDCG@10 on ml-100k (leave-last-1: each user's last rating held out, the one before for
 *     validation) against 100 seeded uniform negatives and against the full catalogue, for popularity, the
 *     BST ranking by predicted rating, and the BST like head trained with sampled negatives; plus MMR
 *     re-ranking's effect on HR@10 and on diversity (full-catalogue lists).
 *  3. ('agreement') exact vs two-stage on ml-100k with a like head: how often the two-stage top-10 equals the
 *     exact top-10 (latest history, every user), and HR@10 / NDCG@10 on the full catalogue (held-out last
 *     rating) for each first stage and pool size. The model is a run folder from `bst train-recommender`
 *     (BENCH_MODEL=dir) or, without one, a like head trained here (BENCH_EPOCHS, BENCH_NEGATIVES).
 *     Two-stage scores are derived from one exact scoring pass per user: the re-ranked pool gets exactly the
 *     model's scores (test/recommend/two-stage.test.ts checks it); the default setting is also re-run
 *     through scoreTwoStage itself as a check.
 *
 *   npx tsx bench/recommend.ts
 *   BENCH_PARTS=latency npx tsx bench/recommend.ts            # latency only (or: ranking, agreement)
 *   BENCH_PARTS=agreement BENCH_MODEL=runs/like npx tsx bench/recommend.ts
 *   BENCH_POOLS=100,300,500 BENCH_RETRIEVALS=popularity,mixed ...   # agreement grid
 *   BENCH_EPOCHS=2 BENCH_NEGATIVES=1 BENCH_MAX_USERS=300 ...   # training epochs, like-head negatives, users evaluated
 *   BENCH_LATENCY_VARIANTS="tuned;lean:ffnMult=1,mlpUnits=128/64" ...
 *  4. ('pipeline') warm per-user latency of `recommend` (what `bst recommend` runs after loading) over an
 *     ML-1M-sized catalogue, exact vs retrieval -> BST ranking, median and p90 over BENCH_LATENCY_USERS users,
 *     with the pipeline's parts timed separately (retriever top M, BST on the M, occlusion explanations of the
 *     returned 10). The model: a run folder with a retriever (BENCH_MODEL=dir, BENCH_DATA_DIR=parent of its
 *     release), or without one untrained models of the same shapes on synthetic ml-1m data (latency does not
 *     depend on the weights): the tuned BST and a default-config SASRec retriever (2 blocks, width 64, length 50).
 *
 *   BST_DATA_DIR=../shared/data (parent of ml-100k; default <project>/data, then ../shared/data)
 *   BENCH_PARTS=pipeline BENCH_MODEL=runs/pipe BENCH_DATA_DIR=/tmp/h5synth npx tsx bench/recommend.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/kernels/backend';
import { generateSynthetic, loadMovieLens, prepareData } from '../lib/data/index';
import { buildBst, BstConfig, parseOverrides } from '../lib/model/index';
import { loadRun } from '../lib/app/experiment';
import { ndcgAtK } from '../lib/eval/ranking';
import {
  bstRankingScorer,
  DEFAULT_POOL,
  DEFAULT_RETRIEVAL,
  evaluateLists,
  heldOutCut,
  heldOutPositions,
  HistoryCut,
  latestCut,
  Lister,
  mmrRerank,
  exactScores,
  popularityRankingScorer,
  recommend,
  RetrievalKind,
  retrievePool,
  scoreItems,
  scoreTwoStage,
  topK,
  topKLister,
  trainRecommender,
  unratedItems,
  vocabCatalog,
} from '../lib/recommend/index';
import { BstModel } from '../lib/model/index';
import { PreparedData } from '../lib/data/index';
import {
  explainItems,
  loadRunPipeline,
  movieCatalog,
  pipelineModeLabel,
  RankingPipeline,
} from '../lib/recommend/index';
import { sasRecRetriever } from '../lib/retrieval/index';
import { seqRecConfig } from '../lib/seqrec/config';
import { createSeqRec } from '../lib/seqrec/model';

const env = (k: string, d: string) => process.env[k] ?? d;
const PARTS = env('BENCH_PARTS', 'latency,ranking').split(',');
const EPOCHS = Number(env('BENCH_EPOCHS', '2'));
const NEGATIVES = Number(env('BENCH_NEGATIVES', '1'));
const MAX_USERS = process.env.BENCH_MAX_USERS ? Number(process.env.BENCH_MAX_USERS) : undefined;
const LAMBDA = Number(env('BENCH_MMR_LAMBDA', '0.7'));
const REPEATS = Number(env('BENCH_REPEATS', '10'));
const POOLS = env('BENCH_POOLS', '100,200,300,500').split(',').map(Number);
const RETRIEVALS = env('BENCH_RETRIEVALS', 'popularity,embedding,mixed').split(',') as RetrievalKind[];
const tuned: Partial<BstConfig> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'lib', 'model', 'tuned-config.json'), 'utf8'),
).config;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function latency(): Promise<void> {
  const dir = path.join(os.tmpdir(), `bst-bench-rec-${process.pid}`);
  generateSynthetic({ dir, format: 'ml-1m', numRatings: 400_000, numUsers: 2000, numMovies: 3706, seed: 1 });
  const dataset = loadMovieLens({ dir });
  fs.rmSync(dir, { recursive: true, force: true });
  const data = prepareData({ dataset, seqLen: tuned.seqLen ?? 10, k: 1 });
  const catalog = vocabCatalog(data);
  const variants = env('BENCH_LATENCY_VARIANTS', 'tuned;lean:ffnMult=1,mlpUnits=128/64;tiny-mlp:mlpUnits=64/32')
    .split(';')
    .map((v) => {
      const [name, over] = v.split(':');
      return { name, config: { ...tuned, ...(over ? parseOverrides(over) : {}) } };
    });
  // the user with the fewest ratings scores the most candidates; history is full (L-1) for everyone here
  let u = 1;
  for (let r = 1; r < data.sizes.numUsers; r++) {
    const n = data.interactions.userOffsets[r + 1] - data.interactions.userOffsets[r];
    if (n < data.interactions.userOffsets[u + 1] - data.interactions.userOffsets[u]) u = r;
  }
  const candidates = unratedItems(data, u);
  console.log(
    `\n## Latency: one user's full catalogue on ${data.sizes.numItems - 1} movies (${candidates.length} unrated), wasm, ${REPEATS} runs, median`,
  );
  const pools = POOLS.filter((m) => m < candidates.length);
  console.log(
    `| model | width D | L | ffn | MLP | exact, forward pass: score all (ms) | exact, shared-history: score all (ms) | exact: recommend top-10 + explanations (ms) | ${pools.map((m) => `two-stage M=${m}: recommend (ms)`).join(' | ')} |`,
  );
  console.log(`|---|---|---|---|---|---|---|---|${pools.map(() => '---|').join('')}`);
  for (const v of variants) {
    const model = buildBst(v.config, data.sizes);
    const c = model.config;
    const cut = latestCut(data, u);
    scoreItems(model, data, cut, candidates); // warm-up (kernel compilation, allocation)
    recommend({ model, data, catalog, userId: data.vocabs.user.value(u)!, k: 10 });
    const score: number[] = [];
    const shared: number[] = [];
    const full: number[] = [];
    exactScores(model, data, cut, candidates); // warm-up, builds the per-model tensors
    const two: number[][] = pools.map(() => []);
    const userId = data.vocabs.user.value(u)!;
    for (const m of pools) recommend({ model, data, catalog, userId, k: 10, mode: 'two-stage', twoStage: { pool: m } }); // warm-up per shape
    for (let r = 0; r < REPEATS; r++) {
      let t0 = performance.now();
      scoreItems(model, data, cut, candidates);
      score.push(performance.now() - t0);
      t0 = performance.now();
      exactScores(model, data, cut, candidates);
      shared.push(performance.now() - t0);
      t0 = performance.now();
      recommend({ model, data, catalog, userId, k: 10 });
      full.push(performance.now() - t0);
      pools.forEach((m, j) => {
        t0 = performance.now();
        recommend({ model, data, catalog, userId, k: 10, mode: 'two-stage', twoStage: { pool: m } });
        two[j].push(performance.now() - t0);
      });
    }
    const s = median(score);
    console.log(
      `| ${v.name} | ${c.embedDim + c.posDim + c.ratingDim} | ${c.seqLen} | ${c.ffnMult}x | ${c.mlpUnits.join('-')} | ${s.toFixed(1)} | ${median(shared).toFixed(1)} | ${median(full).toFixed(1)} | ${two.map((t) => median(t).toFixed(1)).join(' | ')} |`,
    );
    model.net.dispose();
  }
  console.log(
    `(target: < 50 ms for 3,706 movies; load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores)`,
  );
}

function dataDirFor100k(): string {
  const candidates = [
    process.env.BST_DATA_DIR,
    path.join(__dirname, '..', 'data'),
    path.join(__dirname, '..', '..', 'shared', 'data'),
  ].filter(Boolean) as string[];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'ml-100k', 'u.data')));
  if (!found) throw new Error(`ml-100k not found under ${candidates.join(', ')} (set BST_DATA_DIR)`);
  return path.join(found, 'ml-100k');
}

async function ranking(): Promise<void> {
  const dataset = loadMovieLens({ dir: dataDirFor100k(), release: 'ml-100k' });
  const data = prepareData({ dataset, seqLen: tuned.seqLen ?? 10, k: 1 });
  const log = (s: string) => console.error(s);
  const cfg = { ...tuned, epochs: EPOCHS, patience: 1 };
  const t0 = Date.now();
  const rating = await trainRecommender({ data, config: { ...cfg, task: 'rating' }, log });
  log(`rating head: ${rating.seconds.toFixed(0)} s`);
  const like = await trainRecommender({ data, config: { ...cfg, task: 'like' }, negatives: NEGATIVES, log });
  log(`like head (${NEGATIVES} sampled negatives per positive): ${like.seconds.toFixed(0)} s`);
  const genres = { itemGenres: data.features.itemGenres, numGenres: data.sizes.numGenres };
  const mmr: Lister = (items, scores, k) => mmrRerank({ items, scores, k, lambda: LAMBDA, genres });
  const models = [
    { name: 'popularity (training counts)', scorer: popularityRankingScorer(data) },
    { name: 'BST, ranked by predicted rating', scorer: bstRankingScorer(rating.model, data) },
    { name: `BST like head, ${NEGATIVES} sampled negatives`, scorer: bstRankingScorer(like.model, data) },
  ];
  const rows: string[] = [];
  const divRows: string[] = [];
  for (const m of models) {
    const te = Date.now();
    const [sampled] = evaluateLists({
      data,
      scorer: m.scorer,
      mode: 'sampled',
      numNegatives: 100,
      k: 10,
      seed: 0,
      maxUsers: MAX_USERS,
      listers: { top: topKLister },
    });
    const full = evaluateLists({
      data,
      scorer: m.scorer,
      mode: 'full',
      k: 10,
      maxUsers: MAX_USERS,
      listers: { top: topKLister, mmr },
    });
    log(`${m.name}: evaluated in ${((Date.now() - te) / 1000).toFixed(0)} s`);
    rows.push(
      `| ${m.name} | ${sampled.hitRate.toFixed(4)} | ${sampled.ndcg.toFixed(4)} | ${full[0].hitRate.toFixed(4)} | ${full[0].ndcg.toFixed(4)} |`,
    );
    for (const r of full) {
      divRows.push(
        `| ${m.name} | ${r.name === 'mmr' ? `MMR lambda ${LAMBDA}` : 'top-10'} | ${r.hitRate.toFixed(4)} | ${r.ndcg.toFixed(4)} | ${r.diversity.intraListDiversity.toFixed(3)} | ${r.diversity.coverage.toFixed(3)} | ${r.diversity.popularityShare.toFixed(3)} |`,
      );
    }
  }
  const users = MAX_USERS === undefined ? 'all' : `first ${MAX_USERS}`;
  console.log(
    `\n## Ranking on ml-100k (${users} users; leave-last-1; L=${data.seqLen}; BST ${EPOCHS} epoch(s) max, tuned config)`,
  );
  console.log('| model | HR@10 (100 neg.) | NDCG@10 (100 neg.) | HR@10 (full) | NDCG@10 (full) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('| SASRec on ML-1M (published, not this data) | 0.8245 | 0.5905 | 0.2821 | 0.1603 |');
  console.log(`\n## Diversity of the full-catalogue top-10 lists (held-out time), with and without MMR re-ranking`);
  console.log(
    '| model | list | HR@10 | NDCG@10 | intra-list genre diversity | catalogue coverage | share in top-10% popular |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of divRows) console.log(r);
  console.log(`(total ${((Date.now() - t0) / 60000).toFixed(1)} min)`);
}

/** Exact scores of a user's candidates at a cut, and the two-stage top-10 / held-out rank derived from them. */
interface UserScores {
  cut: HistoryCut;
  items: Int32Array;
  scores: Float32Array;
  target?: number;
}

function twoStageTop(
  model: BstModel,
  data: PreparedData,
  s: UserScores,
  pool: number,
  kind: RetrievalKind,
  k: number,
): Int32Array {
  const idx = retrievePool(model, data, s.cut, s.items, pool, kind);
  return topK(
    Int32Array.from(idx, (i) => s.items[i]),
    Float32Array.from(idx, (i) => s.scores[i]),
    k,
  ).items;
}

/** 1-based rank of the target among the scored items, pessimistic on ties (every tie ranks above it). */
function rankOf(items: Int32Array, scores: ArrayLike<number>, target: number): number {
  const t = items.indexOf(target);
  let rank = 1;
  for (let i = 0; i < items.length; i++) if (i !== t && scores[i] >= scores[t]) rank++;
  return rank;
}

async function agreement(): Promise<void> {
  const log = (s: string) => console.error(s);
  let model: BstModel;
  let data: PreparedData;
  if (process.env.BENCH_MODEL) {
    const run = await loadRun(process.env.BENCH_MODEL, { dataDir: path.dirname(dataDirFor100k()) });
    model = run.model;
    data = run.data;
  } else {
    const dataset = loadMovieLens({ dir: dataDirFor100k(), release: 'ml-100k' });
    data = prepareData({ dataset, seqLen: tuned.seqLen ?? 10, k: 1 });
    model = (
      await trainRecommender({
        data,
        config: { ...tuned, epochs: EPOCHS, patience: 1, task: 'like' },
        negatives: NEGATIVES,
        log,
      })
    ).model;
  }
  const K = 10;
  const users = MAX_USERS ?? data.sizes.numUsers - 1;
  const t0 = Date.now();
  const latest: UserScores[] = [];
  const held: UserScores[] = [];
  for (let u = 1; u <= users; u++) {
    const cut = latestCut(data, u);
    const items = unratedItems(data, u);
    latest.push({ cut, items, scores: exactScores(model, data, cut, items) });
  }
  const it = data.interactions;
  for (const p of heldOutPositions(data, MAX_USERS)) {
    if (it.item[p] === 0) continue;
    const cut = heldOutCut(data, p);
    const mask = new Uint8Array(data.sizes.numItems);
    for (let q = it.userOffsets[cut.user]; q < it.userOffsets[cut.user + 1]; q++) if (q !== p) mask[it.item[q]] = 1;
    const items: number[] = [];
    for (let i = 1; i < mask.length; i++) if (!mask[i]) items.push(i); // every movie the user did not rate, plus the held-out one
    const arr = Int32Array.from(items);
    held.push({ cut, items: arr, scores: exactScores(model, data, cut, arr), target: it.item[p] });
  }
  log(`exact scoring of ${latest.length} + ${held.length} user cuts: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const exactTop = latest.map((s) => topK(s.items, s.scores, K).items);
  let hr = 0,
    nd = 0;
  for (const s of held) {
    const r = rankOf(s.items, s.scores, s.target!);
    if (r <= K) ((hr += 1), (nd += ndcgAtK(r, K)));
  }
  const catalogue = data.sizes.numItems - 1;
  console.log(
    `\n## Exact vs two-stage on ml-100k (${latest.length} users, ${catalogue} movies; like head ${model.config.task === 'like' ? 'yes' : 'no'}; top-${K})`,
  );
  console.log(
    '| scoring | first stage | pool M | top-10 identical (same items, same order) | top-10 same set | mean overlap@10 | HR@10 (full) | NDCG@10 (full) |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(
    `| exact | - | ${catalogue} | 1.000 | 1.000 | 10.00 | ${(hr / held.length).toFixed(4)} | ${(nd / held.length).toFixed(4)} |`,
  );
  for (const kind of RETRIEVALS) {
    for (const m of POOLS) {
      let same = 0,
        sameSet = 0,
        overlap = 0,
        h = 0,
        n = 0;
      latest.forEach((s, j) => {
        const top = twoStageTop(model, data, s, Math.max(m, K), kind, K);
        const ex = exactTop[j];
        if (top.length === ex.length && top.every((x, i) => x === ex[i])) same++;
        const inter = top.filter((x) => ex.includes(x)).length;
        if (inter === ex.length && top.length === ex.length) sameSet++;
        overlap += inter;
      });
      for (const s of held) {
        const idx = retrievePool(model, data, s.cut, s.items, Math.max(m, K), kind);
        const t = s.items.indexOf(s.target!);
        if (!idx.includes(t)) continue; // the first stage dropped the held-out movie: a miss
        const r = rankOf(
          Int32Array.from(idx, (i) => s.items[i]),
          Float32Array.from(idx, (i) => s.scores[i]),
          s.target!,
        );
        if (r <= K) ((h += 1), (n += ndcgAtK(r, K)));
      }
      console.log(
        `| two-stage | ${kind} | ${m} | ${(same / latest.length).toFixed(3)} | ${(sameSet / latest.length).toFixed(3)} | ${(overlap / latest.length).toFixed(2)} | ${(h / held.length).toFixed(4)} | ${(n / held.length).toFixed(4)} |`,
      );
    }
  }
  // check: the real two-stage path (scoreTwoStage: a separate model pass on the pool) gives the derived lists
  let agree = 0;
  latest.forEach((s, j) => {
    const two = scoreTwoStage(model, data, s.cut, s.items, { pool: DEFAULT_POOL, retrieval: DEFAULT_RETRIEVAL });
    const top = topK(s.items, two.scores, K).items;
    const derived = twoStageTop(model, data, s, DEFAULT_POOL, DEFAULT_RETRIEVAL, K);
    if (top.every((x, i) => x === derived[i])) agree++;
    void j;
  });
  console.log(
    `(check: scoreTwoStage's own pass, ${DEFAULT_RETRIEVAL} M=${DEFAULT_POOL}, gives the derived top-10 for ${agree} of ${latest.length} users; total ${((Date.now() - t0) / 60000).toFixed(1)} min)`,
  );
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function pipelineLatency(): Promise<void> {
  const users = Number(env('BENCH_LATENCY_USERS', '40'));
  let model: BstModel;
  let data: PreparedData;
  let catalog: ReturnType<typeof vocabCatalog>;
  let pipeline: RankingPipeline;
  let described: string;
  if (process.env.BENCH_MODEL) {
    const run = await loadRun(process.env.BENCH_MODEL, { dataDir: process.env.BENCH_DATA_DIR });
    ({ model, data } = run);
    catalog = movieCatalog(run.dataset, data);
    const p = loadRunPipeline(path.resolve(process.env.BENCH_MODEL), data.sizes.numItems);
    if (!p) throw new Error(`${process.env.BENCH_MODEL} holds no retriever`);
    pipeline = p;
    described = `run folder ${process.env.BENCH_MODEL} (${run.dataset.release})`;
  } else {
    const dir = path.join(os.tmpdir(), `bst-bench-pipe-${process.pid}`);
    generateSynthetic({ dir, format: 'ml-1m', numRatings: 1_000_209, numUsers: 6040, numMovies: 3706, seed: 1 });
    const dataset = loadMovieLens({ dir });
    fs.rmSync(dir, { recursive: true, force: true });
    data = prepareData({ dataset, seqLen: tuned.seqLen ?? 10, k: 1 });
    catalog = vocabCatalog(data);
    model = buildBst({ ...tuned, task: 'like' }, data.sizes);
    pipeline = {
      retriever: sasRecRetriever(createSeqRec(seqRecConfig(), data.sizes.numItems)),
      setting: { m: Number(env('BENCH_M', '100')), weight: 0.25 },
    };
    described =
      'untrained tuned-config BST (like head) + default-config SASRec retriever on synthetic ml-1m data (seed 1)';
  }
  if (process.env.BENCH_M) pipeline.setting.m = Number(process.env.BENCH_M);
  const step = Math.max(1, Math.floor((data.sizes.numUsers - 1) / users));
  const ids: number[] = [];
  for (let u = 1; u < data.sizes.numUsers && ids.length < users; u += step) ids.push(data.vocabs.user.value(u)!);
  const rows: Record<string, number[]> = {
    exact: [],
    'exact, no explanations': [],
    pipeline: [],
    'pipeline, no explanations': [],
    'retriever top M': [],
    'BST on the M': [],
    'explanations of the 10': [],
  };
  const k = 10;
  // warm-up: kernels, shared-history tables, one call of each shape
  recommend({ model, data, catalog, userId: ids[0], k });
  recommend({ model, data, catalog, userId: ids[0], k, pipeline });
  for (const userId of ids) {
    const u = data.vocabs.user.index(userId);
    let t0 = performance.now();
    recommend({ model, data, catalog, userId, k });
    rows.exact.push(performance.now() - t0);
    t0 = performance.now();
    recommend({ model, data, catalog, userId, k, explain: 0 });
    rows['exact, no explanations'].push(performance.now() - t0);
    t0 = performance.now();
    recommend({ model, data, catalog, userId, k, pipeline });
    rows.pipeline.push(performance.now() - t0);
    t0 = performance.now();
    recommend({ model, data, catalog, userId, k, pipeline, explain: 0 });
    rows['pipeline, no explanations'].push(performance.now() - t0);
    // the parts
    const cut = latestCut(data, u);
    const it = data.interactions;
    const hist: number[] = [];
    for (let q = it.userOffsets[u]; q < cut.end; q++) if (it.item[q] > 0) hist.push(it.item[q]);
    const rated = new Uint8Array(data.sizes.numItems);
    for (let q = it.userOffsets[u]; q < it.userOffsets[u + 1]; q++) rated[it.item[q]] = 1;
    const exclude = Int32Array.from(Array.from(rated.keys()).filter((i) => i > 0 && rated[i]));
    t0 = performance.now();
    const items = pipeline.retriever.retrieve(Int32Array.from(hist), pipeline.setting.m, exclude, userId);
    rows['retriever top M'].push(performance.now() - t0);
    t0 = performance.now();
    exactScores(model, data, cut, items);
    rows['BST on the M'].push(performance.now() - t0);
    const list = items.subarray(0, k); // occlusion costs the same for any k movies
    t0 = performance.now();
    explainItems({ model, data, catalog, cut, items: list, top: 2 });
    rows['explanations of the 10'].push(performance.now() - t0);
  }
  console.log(
    `\n## Warm per-user latency of recommend(), ${data.sizes.numItems - 1} movies, ${ids.length} users, k = ${k}, wasm`,
  );
  console.log(`Model: ${described}; pipeline: ${pipelineModeLabel(pipeline)}.`);
  console.log('| what | median ms | p90 ms |');
  console.log('|---|---:|---:|');
  for (const [name, xs] of Object.entries(rows))
    console.log(`| ${name} | ${median(xs).toFixed(1)} | ${quantile(xs, 0.9).toFixed(1)} |`);
  console.log(
    `(target, issue 16: <= 50 ms median warm; load average at the end ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} cores)`,
  );
}

(async () => {
  await initBackend({ choice: process.env.BST_BACKEND ?? 'wasm' });
  if (PARTS.includes('latency')) await latency();
  if (PARTS.includes('ranking')) await ranking();
  if (PARTS.includes('agreement')) await agreement();
  if (PARTS.includes('pipeline')) await pipelineLatency();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
