/**
 * Retrieval -> BST ranking on real MovieLens-100k, leave-one-out (lib/eval/next-item: full ranking, seen movies
 * excluded, target kept, pessimistic ties). Rows: the retriever alone; retriever top M -> BST ranking (M chosen
 * on validation); the same with the retriever's rank blended in (M and weight chosen on validation). The ranker
 * (lib/recommend/rank-train.ts) is trained per seed on hard negatives from the retriever's top `pool`; the
 * retriever is trained once (seed 0) and cached, so seeds vary the ranking stage only. Test is scored once per
 * seed for the validation-chosen setting. Writes results/pipeline.md.
 *
 *   nice -n 10 npx tsx bench/pipeline.ts
 *
 * Environment: PIPELINE_RETRIEVER (sasrec | twotower | knn | best, default sasrec; best = the one of the three
 * with the highest validation NDCG@10 alone), SEQREC_SECONDS (SASRec training budget,
 * default 300), SEQREC_CACHE (folder of the saved SASRec, default runs/pipeline-sasrec: loaded when present,
 * else trained and saved), TWOTOWER_CACHE (folder of the saved two-tower model, default runs/pipeline-twotower:
 * loaded when present, else trained with the lib/retrieval defaults for RETRIEVAL_SECONDS, default 300, and saved;
 * bench/next-item.ts RETRIEVAL_SAVE writes one), PIPELINE_SEEDS (default 0,1,2), PIPELINE_MS (default 50,100,200), PIPELINE_WEIGHTS
 * (default 0,0.25,0.5,0.75), RANKER_EPOCHS (default 3), RANKER_MAX_PER_USER (default 20), RANKER_HARD (4),
 * RANKER_UNIFORM (2), RANKER_POOL (100), PIPELINE_OUT (default results/pipeline.md), BST_DATA_DIR.
 */
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../lib/kernels/backend';
import { loadMovieLens } from '../lib/data';
import {
  eventsFromTable,
  evaluateNextItem,
  fitItemKnn,
  itemKnnNextItem,
  leaveOneOutSplit,
  NextItemMetrics,
  NextItemScorer,
  NextItemSplit,
} from '../lib/eval';
import { DEFAULT_SPLIT, prepareForRun } from '../lib/app/experiment';
import { BstConfig } from '../lib/model';
import {
  bstCandidateScores,
  checkLooCompatible,
  PipelineCandidates,
  pipelineScorer,
  PipelineSetting,
} from '../lib/recommend/pipeline';
import {
  Retriever,
  hasTwoTower,
  loadTwoTower,
  retrievalFeatures,
  retrieveMany,
  recallAtM,
  saveTwoTower,
  scorerRetriever,
  trainTwoTower,
  twoTowerConfig,
  twoTowerScorer,
} from '../lib/retrieval/index';
import { Dataset } from '../lib/data';
import { chooseSetting, MIN_RANKING_GAIN } from '../lib/recommend/pipeline-run';
import { trainRanker } from '../lib/recommend/rank-train';
import { hasSeqRec, loadSeqRec, saveSeqRec, seqRecConfig, seqRecScores, trainSeqRec } from '../lib/seqrec';
import { writeFileAtomic } from '../lib/util/files';

const env = process.env;
const list = (s: string | undefined, d: string) => (s ?? d).split(',').map(Number);
const f3 = (x: number) => x.toFixed(3);
const log = (s: string) => console.log(s);

function tunedConfig(): Partial<BstConfig> {
  const file = path.join(__dirname, '..', 'lib', 'model', 'tuned-config.json');
  return fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { config: Partial<BstConfig> }).config
    : {};
}

type Built = { retriever: Retriever; scorer: NextItemScorer; note: string };

/** The retriever `kind` (and its full scorer, for the retriever-alone row). */
function buildRetriever(kind: string, split: NextItemSplit, ds: Dataset): Built {
  const V = split.numItems;
  if (kind === 'knn') {
    const knn = fitItemKnn(split.val.fit, V, V);
    const scorer = itemKnnNextItem(knn, { lastItems: 3 });
    return { retriever: scorerRetriever('item-knn', scorer, V), scorer, note: 'item-KNN (last 3, k all)' };
  }
  if (kind === 'twotower') {
    const features = retrievalFeatures(ds, split.itemIds);
    const dir = path.resolve(env.TWOTOWER_CACHE ?? path.join(__dirname, '..', 'runs', 'pipeline-twotower'));
    let model;
    let note: string;
    if (hasTwoTower(dir)) {
      const l = loadTwoTower(dir);
      model = l.model;
      note = `two-tower loaded from ${path.relative(process.cwd(), dir)} (${JSON.stringify(l.meta)})`;
    } else {
      const config = twoTowerConfig({ maxSeconds: Number(env.RETRIEVAL_SECONDS ?? 300) });
      const r = trainTwoTower({ config, features, fit: split.val.fit, val: split.val.cases, log });
      model = r.model;
      const meta = {
        bestEpoch: r.bestEpoch,
        epochsRun: r.epochsRun,
        seconds: Math.round(r.seconds),
        stoppedBy: r.stoppedBy,
      };
      saveTwoTower(model, dir, meta);
      note = `two-tower trained ${r.epochsRun} epochs in ${meta.seconds} s (${r.stoppedBy}), best epoch ${r.bestEpoch}`;
    }
    // users found by input identity: the val/test cases score with their user features; the ranker's training
    // histories (new arrays) score without them
    const scorer = twoTowerScorer(model, [...split.val.cases, ...split.test.cases]);
    return { retriever: scorerRetriever('two-tower', scorer, V), scorer, note };
  }
  if (kind !== 'sasrec')
    throw new Error(`PIPELINE_RETRIEVER must be sasrec, twotower, knn or best, got ${JSON.stringify(kind)}`);
  const dir = path.resolve(env.SEQREC_CACHE ?? path.join(__dirname, '..', 'runs', 'pipeline-sasrec'));
  let note: string;
  let model;
  if (hasSeqRec(dir)) {
    const l = loadSeqRec(dir);
    model = l.model;
    note = `SASRec-style loaded from ${path.relative(process.cwd(), dir)} (${JSON.stringify(l.meta)})`;
  } else {
    const config = seqRecConfig({ maxSeconds: Number(env.SEQREC_SECONDS ?? 300), seed: 0 });
    const r = trainSeqRec({ config, numItems: V, fit: split.val.fit, val: split.val.cases, log });
    model = r.model;
    const meta = {
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      seconds: Math.round(r.seconds),
      stoppedBy: r.stoppedBy,
    };
    saveSeqRec(model, dir, meta);
    note = `SASRec-style trained ${r.epochsRun} epochs in ${meta.seconds} s (${r.stoppedBy}), best epoch ${r.bestEpoch}`;
  }
  const m = model;
  const scorer: NextItemScorer = (inp) => seqRecScores(m, inp);
  return { retriever: scorerRetriever('sasrec', scorer, V), scorer, note };
}

/** PIPELINE_RETRIEVER's retriever; for 'best', every one's validation NDCG@10 alone picks (a line per candidate in `choice`). */
function pickRetriever(split: NextItemSplit, ds: Dataset, choice: string[]): Built {
  const kind = env.PIPELINE_RETRIEVER ?? 'sasrec';
  if (kind !== 'best') return buildRetriever(kind, split, ds);
  let best: { b: Built; ndcg: number } | undefined;
  for (const k of ['sasrec', 'twotower', 'knn']) {
    const b = buildRetriever(k, split, ds);
    const v = evaluateNextItem(b.scorer, split.val.cases, { numItems: split.numItems, fit: split.val.fit });
    const rec = recallOf(b.scorer, split, 'val');
    choice.push(
      `| ${b.retriever.name} | ${f3(v.hr10)} | ${f3(v.ndcg10)} | ${f3(rec[50])} | ${f3(rec[100])} | ${f3(rec[200])} |`,
    );
    log(`retriever ${b.note}: val HR@10 ${f3(v.hr10)} NDCG@10 ${f3(v.ndcg10)} recall@100 ${f3(rec[100])}`);
    if (!best || v.ndcg10 > best.ndcg) best = { b, ndcg: v.ndcg10 };
  }
  return best!.b;
}

/** Validation/test recall@M (M = 50, 100, 200) of a full scorer. */
function recallOf(scorer: NextItemScorer, split: NextItemSplit, ph: 'val' | 'test'): Record<number, number> {
  const r = recallAtM(scorer, split[ph].cases, { numItems: split.numItems });
  return r.recall;
}

interface Choice {
  setting: PipelineSetting;
  val: NextItemMetrics;
  test: NextItemMetrics;
}

async function main(): Promise<void> {
  await initBackend({ choice: env.BST_BACKEND ?? 'wasm' });
  const dataDir = env.BST_DATA_DIR ?? path.join(__dirname, '..', '..', 'shared', 'data');
  const ds = loadMovieLens({ dir: path.join(dataDir, 'ml-100k') });
  const split = leaveOneOutSplit(eventsFromTable(ds.ratings));
  const tuned = tunedConfig();
  const data = prepareForRun(ds, { ...DEFAULT_SPLIT, k: 1 }, tuned.seqLen ?? 10, { log: null });
  const pos = { val: checkLooCompatible(data, split, 'val'), test: checkLooCompatible(data, split, 'test') };
  log(
    `leave-one-out and BST leave-last-k (k=1) agree: ${split.numItems - 1} items, ${pos.val.length} val / ${pos.test.length} test cases`,
  );
  const V = split.numItems;
  const Ms = list(env.PIPELINE_MS, '50,100,200');
  const Ws = list(env.PIPELINE_WEIGHTS, '0,0.25,0.5,0.75');
  const maxM = Math.max(...Ms);
  const t0 = Date.now();
  const choiceRows: string[] = [];
  const { retriever, scorer, note } = pickRetriever(split, ds, choiceRows);
  log(`retriever: ${note} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const opts = (ph: 'val' | 'test') => ({ numItems: V, fit: split[ph].fit });
  const alone = {
    val: evaluateNextItem(scorer, split.val.cases, opts('val')),
    test: evaluateNextItem(scorer, split.test.cases, opts('test')),
  };
  const retrieved = {
    val: retrieveMany(
      retriever,
      split.val.cases.map((c) => c.input),
      maxM,
      split.val.cases.map((c) => c.input),
      split.val.cases.map((c) => c.user),
    ),
    test: retrieveMany(
      retriever,
      split.test.cases.map((c) => c.input),
      maxM,
      split.test.cases.map((c) => c.input),
      split.test.cases.map((c) => c.user),
    ),
  };
  const recall = (ph: 'val' | 'test', m: number) =>
    split[ph].cases.filter((c, i) => c.target > 0 && retrieved[ph][i].subarray(0, m).includes(c.target)).length /
    split[ph].cases.length;
  log(
    `retriever alone: val HR@10 ${f3(alone.val.hr10)} NDCG@10 ${f3(alone.val.ndcg10)}; test HR@10 ${f3(alone.test.hr10)} NDCG@10 ${f3(alone.test.ndcg10)}; test recall@M ${Ms.map((m) => `${m}: ${f3(recall('test', m))}`).join(', ')}`,
  );

  const seeds = list(env.PIPELINE_SEEDS, '0,1,2');
  const rank: Choice[] = [];
  const blend: Choice[] = [];
  const chosen: Choice[] = [];
  const perSeed: string[] = [];
  for (const seed of seeds) {
    const r = await trainRanker({
      data,
      retriever,
      config: { ...tuned, epochs: Number(env.RANKER_EPOCHS ?? 3), seed },
      negatives: {
        hard: Number(env.RANKER_HARD ?? 4),
        uniform: Number(env.RANKER_UNIFORM ?? 2),
        pool: Number(env.RANKER_POOL ?? 100),
      },
      maxPerUser: Number(env.RANKER_MAX_PER_USER ?? 20),
      seed,
      log,
    });
    log(
      `seed ${seed}: ranker trained on ${r.positions} positions, best epoch ${r.training.bestEpoch + 1}, ${r.seconds.toFixed(0)} s`,
    );
    const cand = (ph: 'val' | 'test'): PipelineCandidates => ({
      cases: split[ph].cases,
      items: retrieved[ph],
      ranker: bstCandidateScores({ model: r.model, data, positions: pos[ph], items: retrieved[ph] }),
    });
    const cv = cand('val');
    const ct = cand('test');
    const grid: Array<{ s: PipelineSetting; val: NextItemMetrics }> = [];
    for (const m of Ms)
      for (const weight of Ws)
        grid.push({
          s: { m, weight },
          val: evaluateNextItem(pipelineScorer(cv, V, { m, weight }), cv.cases, opts('val')),
        });
    const pick = (g: typeof grid) => g.reduce((a, b) => (b.val.ndcg10 > a.val.ndcg10 ? b : a));
    const bR = pick(grid.filter((g) => g.s.weight === 0));
    const bB = pick(grid);
    rank.push({
      setting: bR.s,
      val: bR.val,
      test: evaluateNextItem(pipelineScorer(ct, V, bR.s), ct.cases, opts('test')),
    });
    blend.push({
      setting: bB.s,
      val: bB.val,
      test: evaluateNextItem(pipelineScorer(ct, V, bB.s), ct.cases, opts('test')),
    });
    // the default of `bst train-recommender`: chooseSetting (retriever order unless ranking gains MIN_RANKING_GAIN)
    const d = chooseSetting({ model: r.model, data, split, retriever, ms: Ms, weights: [...Ws, 1] });
    chosen.push({
      setting: d.setting,
      val: d.val,
      test: evaluateNextItem(pipelineScorer(ct, V, d.setting), ct.cases, opts('test')),
    });
    log(`seed ${seed}: chooseSetting picked M ${d.setting.m}, w ${d.setting.weight}`);
    const a = rank[rank.length - 1],
      b = blend[blend.length - 1];
    perSeed.push(
      `| ${seed} | ${r.training.bestEpoch + 1} of ${r.training.history.length} | ${r.seconds.toFixed(0)} | M ${a.setting.m}: val ${f3(a.val.hr10)} / ${f3(a.val.ndcg10)}, test ${f3(a.test.hr10)} / ${f3(a.test.ndcg10)} | M ${b.setting.m}, w ${b.setting.weight}: val ${f3(b.val.hr10)} / ${f3(b.val.ndcg10)}, test ${f3(b.test.hr10)} / ${f3(b.test.ndcg10)} |`,
    );
    log(perSeed[perSeed.length - 1]);
    log(
      `seed ${seed} validation grid (NDCG@10): ${grid.map((g) => `M${g.s.m}/w${g.s.weight} ${f3(g.val.ndcg10)}`).join(', ')}`,
    );
    r.model.net.dispose();
  }
  const mean = (xs: Choice[], f: (m: NextItemMetrics) => number, ph: 'val' | 'test') =>
    xs.reduce((a, c) => a + f(c[ph]), 0) / xs.length;
  const row = (name: string, xs: Choice[]) =>
    `| ${name} | ${f3(mean(xs, (m) => m.hr10, 'val'))} | ${f3(mean(xs, (m) => m.ndcg10, 'val'))} | ${f3(mean(xs, (m) => m.hr10, 'test'))} | ${f3(mean(xs, (m) => m.hr20, 'test'))} | ${f3(mean(xs, (m) => m.ndcg10, 'test'))} | ${f3(mean(xs, (m) => m.mrr10, 'test'))} | ${f3(mean(xs, (m) => m.coverage10, 'test'))} | ${mean(xs, (m) => m.novelty, 'test').toFixed(2)} |`;
  const a1: Choice[] = [{ setting: { m: V, weight: 1 }, ...alone }];
  const cmd = `${Object.entries(env)
    .filter(([k]) => /^(PIPELINE_|RANKER_|SEQREC_|TWOTOWER_|RETRIEVAL_)/.test(k))
    .map(([k, v]) => `${k}=${v} `)
    .join('')}nice -n 5 npx tsx bench/pipeline.ts`;
  const md = [
    '# Retrieval -> BST ranking on ml-100k (issue 16, part 4)',
    '',
    `Produced by \`${cmd}\` on the ${env.BST_BACKEND ?? 'wasm'} backend, 2 shared cores, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Leave-one-out (lib/eval/next-item): per user, last rating = test, the one before = validation; full ranking over the',
    `${V - 1}-movie catalogue with already-seen movies excluded, target kept, ties pessimistic; movies outside the retrieved M`,
    'rank below every retrieved one. Validation NDCG@10 picks M (and the blend weight w); test is scored once per seed.',
    ...(choiceRows.length > 0
      ? [
          'Retriever chosen on validation NDCG@10 alone (PIPELINE_RETRIEVER=best):',
          '',
          '| retriever | val HR@10 | val NDCG@10 | val recall@50 | val recall@100 | val recall@200 |',
          '|---|---|---|---|---|---|',
          ...choiceRows,
          '',
        ]
      : []),
    `Retriever: ${note}; trained once, so the ${seeds.length} seeds (${seeds.join(', ')}) vary the BST ranker only.`,
    `Ranker: BST like head (tuned config, seqLen ${data.seqLen}), each training target (each user's last ${env.RANKER_MAX_PER_USER ?? 20} training targets) with`,
    `${env.RANKER_HARD ?? 4} hard negatives drawn from the retriever's top ${env.RANKER_POOL ?? 100} for that history and ${env.RANKER_UNIFORM ?? 2} uniform ones, at most ${env.RANKER_EPOCHS ?? 3} epochs (early stopping on validation loss).`,
    `Retriever recall@M on test: ${Ms.map((m) => `${m}: ${f3(recall('test', m))}`).join(', ')}.`,
    '',
    `| model (mean of ${seeds.length} seeds) | val HR@10 | val NDCG@10 | test HR@10 | test HR@20 | test NDCG@10 | test MRR@10 | coverage@10 | novelty (bits) |`,
    '|---|---|---|---|---|---|---|---|---|',
    row(`${retriever.name} alone`, a1),
    row(`${retriever.name} top M -> BST ranking`, rank),
    row(`${retriever.name} top M -> BST ranking + rank blend`, blend),
    row(`default (chooseSetting, min gain ${MIN_RANKING_GAIN})`, chosen),
    '',
    `chooseSetting's picks (M, w; w 1 = the retriever's own order): ${chosen.map((c) => `${c.setting.m}/${c.setting.weight}`).join(', ')}.`,
    '',
    'Per seed (HR@10 / NDCG@10; M and w chosen on validation NDCG@10):',
    '',
    '| seed | best epoch | ranker s | retriever -> BST | retriever -> BST + blend |',
    '|---|---|---|---|---|',
    ...perSeed,
    '',
  ].join('\n');
  log('\n' + md);
  const out = env.PIPELINE_OUT ?? path.join(__dirname, '..', 'results', 'pipeline.md');
  writeFileAtomic(out, md);
  log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
