/**
 * Recommendation benchmark (issue 7). Prints:
 *  1. latency of one user's full-catalogue recommendation on wasm with a model shaped like ML-1M (3,706 movies,
 *     lib/model/tuned-config.json, untrained weights: latency does not depend on them), on synthetic
 *     ml-1m-format data; target < 50 ms;
 *  2. HR@10 / NDCG@10 on ml-100k (leave-last-1: each user's last rating held out, the one before for
 *     validation) against 100 seeded uniform negatives and against the full catalogue, for popularity, the
 *     BST ranking by predicted rating, and the BST like head trained with sampled negatives; plus MMR
 *     re-ranking's effect on HR@10 and on diversity (full-catalogue lists).
 *
 *   npx tsx bench/recommend.ts
 *   BENCH_PARTS=latency npx tsx bench/recommend.ts            # latency only (or: ranking)
 *   BENCH_EPOCHS=2 BENCH_NEGATIVES=1 BENCH_MAX_USERS=300 ...   # training epochs, like-head negatives, users evaluated
 *   BENCH_LATENCY_VARIANTS="tuned;lean:ffnMult=1,mlpUnits=128/64" ...
 *   BST_DATA_DIR=/work/shared/data (parent of ml-100k; default <project>/data, then ../shared/data)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend';
import { generateSynthetic, loadMovieLens, prepareData } from '../lib/data/index';
import { buildBst, BstConfig, parseOverrides } from '../lib/model/index';
import {
  bstRankingScorer, evaluateLists, latestCut, Lister, mmrRerank, popularityRankingScorer, recommend,
  scoreItems, topKLister, trainRecommender, unratedItems, vocabCatalog,
} from '../lib/recommend/index';

const env = (k: string, d: string) => process.env[k] ?? d;
const PARTS = env('BENCH_PARTS', 'latency,ranking').split(',');
const EPOCHS = Number(env('BENCH_EPOCHS', '2'));
const NEGATIVES = Number(env('BENCH_NEGATIVES', '1'));
const MAX_USERS = process.env.BENCH_MAX_USERS ? Number(process.env.BENCH_MAX_USERS) : undefined;
const LAMBDA = Number(env('BENCH_MMR_LAMBDA', '0.7'));
const REPEATS = Number(env('BENCH_REPEATS', '10'));
const tuned: Partial<BstConfig> = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'model', 'tuned-config.json'), 'utf8')).config;

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
  const variants = env('BENCH_LATENCY_VARIANTS', 'tuned;lean:ffnMult=1,mlpUnits=128/64;tiny-mlp:mlpUnits=64/32').split(';').map((v) => {
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
  console.log(`\n## Latency: one user's full catalogue on ${data.sizes.numItems - 1} movies (${candidates.length} unrated), wasm, ${REPEATS} runs, median`);
  console.log('| model | width D | L | ffn | MLP | score all (ms) | recommend top-10 + explanations (ms) | candidates/s |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const v of variants) {
    const model = buildBst(v.config, data.sizes);
    const c = model.config;
    const cut = latestCut(data, u);
    scoreItems(model, data, cut, candidates); // warm-up (kernel compilation, allocation)
    recommend({ model, data, catalog, userId: data.vocabs.user.value(u)!, k: 10 });
    const score: number[] = [];
    const full: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      let t0 = performance.now();
      scoreItems(model, data, cut, candidates);
      score.push(performance.now() - t0);
      t0 = performance.now();
      recommend({ model, data, catalog, userId: data.vocabs.user.value(u)!, k: 10 });
      full.push(performance.now() - t0);
    }
    const s = median(score);
    console.log(`| ${v.name} | ${c.embedDim + c.posDim + c.ratingDim} | ${c.seqLen} | ${c.ffnMult}x | ${c.mlpUnits.join('-')} | ${s.toFixed(1)} | ${median(full).toFixed(1)} | ${Math.round(candidates.length / (s / 1000))} |`);
    model.net.dispose();
  }
  console.log(`(target: < 50 ms for 3,706 movies; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.cpus().length} cores)`);
}

function dataDirFor100k(): string {
  const candidates = [process.env.BST_DATA_DIR, path.join(__dirname, '..', 'data'), path.join(__dirname, '..', '..', 'shared', 'data')].filter(Boolean) as string[];
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
    const [sampled] = evaluateLists({ data, scorer: m.scorer, mode: 'sampled', numNegatives: 100, k: 10, seed: 0, maxUsers: MAX_USERS, listers: { top: topKLister } });
    const full = evaluateLists({ data, scorer: m.scorer, mode: 'full', k: 10, maxUsers: MAX_USERS, listers: { top: topKLister, mmr } });
    log(`${m.name}: evaluated in ${((Date.now() - te) / 1000).toFixed(0)} s`);
    rows.push(`| ${m.name} | ${sampled.hitRate.toFixed(4)} | ${sampled.ndcg.toFixed(4)} | ${full[0].hitRate.toFixed(4)} | ${full[0].ndcg.toFixed(4)} |`);
    for (const r of full) {
      divRows.push(`| ${m.name} | ${r.name === 'mmr' ? `MMR lambda ${LAMBDA}` : 'top-10'} | ${r.hitRate.toFixed(4)} | ${r.ndcg.toFixed(4)} | ${r.diversity.intraListDiversity.toFixed(3)} | ${r.diversity.coverage.toFixed(3)} | ${r.diversity.popularityShare.toFixed(3)} |`);
    }
  }
  const users = MAX_USERS === undefined ? 'all' : `first ${MAX_USERS}`;
  console.log(`\n## Ranking on ml-100k (${users} users; leave-last-1; L=${data.seqLen}; BST ${EPOCHS} epoch(s) max, tuned config)`);
  console.log('| model | HR@10 (100 neg.) | NDCG@10 (100 neg.) | HR@10 (full) | NDCG@10 (full) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('| SASRec on ML-1M (published, not this data) | 0.8245 | 0.5905 | 0.2821 | 0.1603 |');
  console.log(`\n## Diversity of the full-catalogue top-10 lists (held-out time), with and without MMR re-ranking`);
  console.log('| model | list | HR@10 | NDCG@10 | intra-list genre diversity | catalogue coverage | share in top-10% popular |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of divRows) console.log(r);
  console.log(`(total ${((Date.now() - t0) / 60000).toFixed(1)} min)`);
}

(async () => {
  await initBackend({ choice: process.env.BST_BACKEND ?? 'wasm' });
  if (PARTS.includes('latency')) await latency();
  if (PARTS.includes('ranking')) await ranking();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
