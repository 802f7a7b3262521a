/**
 * Next-item recommendation on real MovieLens-100k (lib/eval/next-item): popularity, recent popularity,
 * item-KNN and the SASRec-style model (lib/seqrec), on the leave-one-out and the global-time protocols.
 * Prints one Markdown table per protocol (full ranking, seen items excluded, pessimistic ties), plus the
 * sampled-100-negatives metrics for comparison with papers only.
 *
 *   nice -n 10 npx tsx bench/next-item.ts            # both protocols
 *   nice -n 10 npx tsx bench/next-item.ts loo        # leave-one-out only (or: global)
 *
 * The global split cuts at the 80th / 90th percentiles rather than lib's default 90th / 95th: ml-100k users rate in
 * short bursts, and the later cuts leave only 29 validation users (81 here; 90 test users either way), so its
 * numbers are noisy (one test user = 0.011 HR).
 *
 * Environment: SEQREC_EPOCHS (default 200), SEQREC_SECONDS (training budget per model, default 0 = none),
 * SEQREC_WINDOWS ('last' | 'all', default 'all'), SEQREC_PATIENCE (default 20), SEQREC_LR (default
 * 1e-3), SEQREC_SEED (default 0), SEQREC_DROPOUT (default 0.2), SEQREC_SKIP=1 (baselines
 * only), SEQREC_RETRAIN=0 (global protocol: test the validation-trained model instead of retraining on all
 * events before the test cut for the best epoch count), BST_DATA_DIR (folder holding ml-100k).
 *
 * Two-tower retriever (lib/retrieval): RETRIEVAL_SKIP=1 leaves it out; RETRIEVAL_GRID is a JSON array of
 * TwoTowerConfig overrides (default: one run of the defaults), each trained with early stopping on validation,
 * the best by validation recall@100 tested once; RETRIEVAL_EPOCHS (default 40), RETRIEVAL_SECONDS (budget per
 * run, default 0 = none). A recall@M table (M = 10, 20, 50, 100, 200) follows each protocol's table.
 * SEQREC_SAVE / RETRIEVAL_SAVE (leave-one-out only): folder to save the validation-trained SASRec / the chosen
 * two-tower model into, for bench/pipeline.ts (SEQREC_CACHE / TWOTOWER_CACHE) to load instead of retraining.
 *
 *   RETRIEVAL_GRID='[{},{"logQ":false}]' SEQREC_SKIP=1 nice -n 10 npx tsx bench/next-item.ts loo
 */
import * as path from 'path';
import { initBackend } from '../lib/kernels/backend';
import { loadMovieLens } from '../lib/data';
import {
  NextItemMetrics,
  NextItemScorer,
  NextItemSplit,
  eventsFromTable,
  evaluateNextItem,
  fitItemKnn,
  globalTimeSplit,
  itemKnnNextItem,
  leaveOneOutSplit,
  popularityNextItem,
  recentPopularityNextItem,
  SequenceSet,
} from '../lib/eval';
import { seqRecConfig, seqRecScores, trainSeqRec, disposeSeqRec, saveSeqRec, SeqRecConfig } from '../lib/seqrec';
import {
  RECALL_MS,
  RecallAtM,
  RetrievalFeatures,
  TwoTowerConfig,
  disposeTwoTower,
  recallAtM,
  retrievalFeatures,
  saveTwoTower,
  trainTwoTower,
  twoTowerConfig,
  twoTowerScorer,
} from '../lib/retrieval';

interface Row {
  model: string;
  val: NextItemMetrics;
  test: NextItemMetrics;
  /** test recall@M (retrieval table) */
  recall?: RecallAtM;
}

const f3 = (x: number) => x.toFixed(3);

function table(title: string, rows: Row[]): string {
  const lines = [
    `### ${title}`,
    '',
    '| model | val HR@10 | val NDCG@10 | test HR@10 | test HR@20 | test NDCG@10 | test MRR@10 | coverage@10 | novelty (bits) |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const t = r.test;
    lines.push(
      `| ${r.model} | ${f3(r.val.hr10)} | ${f3(r.val.ndcg10)} | ${f3(t.hr10)} | ${f3(t.hr20)} | ${f3(t.ndcg10)} | ${f3(t.mrr10)} | ${f3(t.coverage10)} | ${t.novelty.toFixed(2)} |`,
    );
  }
  lines.push(
    '',
    'Sampled metric, for comparison with papers only (target vs 100 random unseen items; overstates quality):',
    '',
  );
  lines.push('| model | test HR@10 (sampled-100) | test NDCG@10 (sampled-100) |', '|---|---|---|');
  for (const r of rows) lines.push(`| ${r.model} | ${f3(r.test.sampled!.hr10)} | ${f3(r.test.sampled!.ndcg10)} |`);
  const withRecall = rows.filter((r) => r.recall);
  if (withRecall.length > 0) {
    lines.push('', 'Retrieval: test recall@M (target within the top M of the full ranking, seen items excluded):', '');
    lines.push(
      `| model | ${RECALL_MS.map((m) => `recall@${m}`).join(' | ')} |`,
      `|---|${RECALL_MS.map(() => '---').join('|')}|`,
    );
    for (const r of withRecall)
      lines.push(`| ${r.model} | ${RECALL_MS.map((m) => f3(r.recall!.recall[m])).join(' | ')} |`);
  }
  return lines.join('\n');
}

function evalBoth(
  split: NextItemSplit,
  val: NextItemScorer,
  test: NextItemScorer,
): { val: NextItemMetrics; test: NextItemMetrics } {
  const V = split.numItems;
  return {
    val: evaluateNextItem(val, split.val.cases, { numItems: V, fit: split.val.fit }),
    test: evaluateNextItem(test, split.test.cases, {
      numItems: V,
      fit: split.test.fit,
      sampledNegatives: 100,
      seed: 1,
    }),
  };
}

function knnRow(split: NextItemSplit, log: (s: string) => void): Row {
  const V = split.numItems;
  const grid = { lastItems: [1, 2, 3, 5, 10, 20, 50], neighbours: [20, 50, 100, 200, V] };
  const mVal = fitItemKnn(split.val.fit, V, V);
  let best = { ndcg: -1, lastItems: 1, neighbours: V };
  for (const m of grid.lastItems) {
    for (const k of grid.neighbours) {
      const r = evaluateNextItem(itemKnnNextItem(mVal, { lastItems: m, neighbours: k }), split.val.cases, {
        numItems: V,
        fit: split.val.fit,
      });
      if (r.ndcg10 > best.ndcg) best = { ndcg: r.ndcg10, lastItems: m, neighbours: k };
    }
  }
  log(
    `item-KNN: chose lastItems ${best.lastItems}, neighbours ${best.neighbours === V ? 'all' : best.neighbours} on validation NDCG@10`,
  );
  const mTest = split.test.fit === split.val.fit ? mVal : fitItemKnn(split.test.fit, V, V);
  const o = { lastItems: best.lastItems, neighbours: best.neighbours };
  const k = best.neighbours === V ? 'all' : String(best.neighbours);
  const test = itemKnnNextItem(mTest, o);
  return withRecall(
    split,
    { model: `item-KNN (last ${best.lastItems}, k ${k})`, ...evalBoth(split, itemKnnNextItem(mVal, o), test) },
    test,
  );
}

function recentRow(split: NextItemSplit, log: (s: string) => void): Row {
  const V = split.numItems;
  let best = { ndcg: -1, days: 0 };
  for (const days of [1, 3, 7, 14, 30, 60]) {
    const r = evaluateNextItem(
      recentPopularityNextItem(split.val.fit, V, { cut: split.val.cut!, days }),
      split.val.cases,
      { numItems: V, fit: split.val.fit },
    );
    if (r.ndcg10 > best.ndcg) best = { ndcg: r.ndcg10, days };
  }
  log(`recent popularity: chose ${best.days} days on validation NDCG@10`);
  return {
    model: `recent popularity (${best.days} d)`,
    ...evalBoth(
      split,
      recentPopularityNextItem(split.val.fit, V, { cut: split.val.cut!, days: best.days }),
      recentPopularityNextItem(split.test.fit, V, { cut: split.test.cut!, days: best.days }),
    ),
  };
}

function seqRecRow(split: NextItemSplit, config: SeqRecConfig, retrain: boolean, log: (s: string) => void): Row {
  const V = split.numItems;
  const r = trainSeqRec({ config, numItems: V, fit: split.val.fit, val: split.val.cases, log });
  log(
    `SASRec: ${r.epochsRun} epochs in ${r.seconds.toFixed(0)} s (stopped by ${r.stoppedBy}), best epoch ${r.bestEpoch}`,
  );
  if (process.env.SEQREC_SAVE && split.protocol !== 'global-time') {
    saveSeqRec(r.model, process.env.SEQREC_SAVE, {
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      seconds: Math.round(r.seconds),
      stoppedBy: r.stoppedBy,
    });
    log(`SASRec: saved to ${process.env.SEQREC_SAVE}`);
  }
  let testModel = r.model;
  let note = `best epoch ${r.bestEpoch}`;
  if (split.test.fit !== split.val.fit && retrain) {
    const r2 = trainSeqRec({
      config: { ...config, epochs: r.bestEpoch, maxSeconds: 0 },
      numItems: V,
      fit: split.test.fit,
    });
    log(`SASRec: retrained on the events before the test cut for ${r2.epochsRun} epochs in ${r2.seconds.toFixed(0)} s`);
    testModel = r2.model;
    note += ', retrained before test cut';
  }
  const res = withRecall(
    split,
    {
      model: '',
      ...evalBoth(
        split,
        (inp) => seqRecScores(r.model, inp),
        (inp) => seqRecScores(testModel, inp),
      ),
    },
    (inp) => seqRecScores(testModel, inp),
  );
  if (testModel !== r.model) disposeSeqRec(testModel);
  disposeSeqRec(r.model);
  return { ...res, model: `SASRec-style (${config.blocks}x${config.dim}, L ${config.maxLen}, ${note})` };
}

/** recall@M of a test scorer, attached to its row. */
function withRecall(split: NextItemSplit, row: Row, test: NextItemScorer): Row {
  return { ...row, recall: recallAtM(test, split.test.cases, { numItems: split.numItems }) };
}

function twoTowerRow(
  split: NextItemSplit,
  features: RetrievalFeatures,
  grid: Partial<TwoTowerConfig>[],
  base: Partial<TwoTowerConfig>,
  log: (s: string) => void,
): Row {
  let best: { r: ReturnType<typeof trainTwoTower>; over: Partial<TwoTowerConfig> } | undefined;
  for (const over of grid) {
    const config = twoTowerConfig({ ...base, ...over });
    log(`two-tower: ${JSON.stringify(over)}`);
    const r = trainTwoTower({ config, features, fit: split.val.fit, val: split.val.cases, log });
    const v = r.bestVal!;
    log(
      `two-tower ${JSON.stringify(over)}: ${r.epochsRun} epochs in ${r.seconds.toFixed(0)} s (stopped by ${r.stoppedBy}), best epoch ${r.bestEpoch}: ` +
        `val HR@10 ${f3(v.val.hr10)} NDCG@10 ${f3(v.val.ndcg10)} recall@100 ${f3(v.recall.recall[100])}`,
    );
    if (!best || v.recall.recall[100] > best.r.bestVal!.recall.recall[100]) {
      if (best) disposeTwoTower(best.r.model);
      best = { r, over };
    } else disposeTwoTower(r.model);
  }
  const m = best!.r.model;
  const c = m.config;
  const name =
    `two-tower (${c.blocks}x${c.dim}->${c.vectorDim}, ${c.normalize ? `cos/T ${c.temperature}` : `dot/T ${c.temperature}`}, logQ ${c.logQ ? 'on' : 'off'}, ` +
    `${m.useUsers ? 'user feats' : 'seq only'}, best epoch ${best!.r.bestEpoch})`;
  log(`two-tower: chose ${JSON.stringify(best!.over)} on validation recall@100`);
  if (process.env.RETRIEVAL_SAVE && split.protocol !== 'global-time') {
    const r = best!.r;
    saveTwoTower(m, process.env.RETRIEVAL_SAVE, {
      over: best!.over,
      bestEpoch: r.bestEpoch,
      epochsRun: r.epochsRun,
      seconds: Math.round(r.seconds),
      stoppedBy: r.stoppedBy,
    });
    log(`two-tower: saved to ${process.env.RETRIEVAL_SAVE}`);
  }
  const valScorer = twoTowerScorer(m, split.val.cases);
  const testScorer = twoTowerScorer(m, split.test.cases);
  const row = withRecall(split, { model: name, ...evalBoth(split, valScorer, testScorer) }, testScorer);
  disposeTwoTower(m);
  return row;
}

function describe(split: NextItemSplit, name: string): string {
  const n = (s: SequenceSet) => s.items.reduce((a, b) => a + b.length, 0);
  const cut = (c?: number) => (c === undefined ? '' : `, cut ${new Date(c * 1000).toISOString().slice(0, 10)}`);
  return (
    `${name}: catalogue ${split.numItems - 1} items; val ${split.val.cases.length} cases (fit ${n(split.val.fit)} events${cut(split.val.cut)}), ` +
    `test ${split.test.cases.length} cases (fit ${n(split.test.fit)} events${cut(split.test.cut)}, ${split.test.cases.filter((c) => c.target === 0).length} unknown targets = misses)`
  );
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'all';
  await initBackend({ choice: process.env.BST_BACKEND ?? 'wasm' });
  const dataDir = process.env.BST_DATA_DIR ?? path.join(__dirname, '..', '..', 'shared', 'data');
  const ds = loadMovieLens({ dir: path.join(dataDir, 'ml-100k') });
  const events = eventsFromTable(ds.ratings);
  const env = process.env;
  const config = seqRecConfig({
    epochs: Number(env.SEQREC_EPOCHS ?? 200),
    maxSeconds: Number(env.SEQREC_SECONDS ?? 0),
    windows: (env.SEQREC_WINDOWS ?? 'all') as SeqRecConfig['windows'],
    patience: Number(env.SEQREC_PATIENCE ?? 20),
    learningRate: Number(env.SEQREC_LR ?? 1e-3),
    seed: Number(env.SEQREC_SEED ?? 0),
    dropout: Number(env.SEQREC_DROPOUT ?? 0.2),
  });
  const log = (s: string) => console.log(s);
  log(`SASRec config: ${JSON.stringify(config)}`);
  const protocols: Array<[string, NextItemSplit]> = [];
  if (which === 'all' || which === 'loo')
    protocols.push(['leave-one-out (per user: last = test, previous = validation)', leaveOneOutSplit(events)]);
  if (which === 'all' || which === 'global')
    protocols.push([
      'global time split (val cut at the 80th, test cut at the 90th percentile of timestamps)',
      globalTimeSplit(events, { valQuantile: 0.8, testQuantile: 0.9 }),
    ]);
  const out: string[] = [];
  for (const [name, split] of protocols) {
    log(describe(split, name));
    const V = split.numItems;
    const popTest = popularityNextItem(split.test.fit, V);
    const rows: Row[] = [
      withRecall(
        split,
        { model: 'popularity', ...evalBoth(split, popularityNextItem(split.val.fit, V), popTest) },
        popTest,
      ),
    ];
    if (split.protocol === 'global-time') rows.push(recentRow(split, log));
    rows.push(knnRow(split, log));
    if (env.SEQREC_SKIP !== '1') rows.push(seqRecRow(split, config, env.SEQREC_RETRAIN !== '0', log));
    if (env.RETRIEVAL_SKIP !== '1') {
      const grid = JSON.parse(env.RETRIEVAL_GRID ?? '[{}]') as Partial<TwoTowerConfig>[];
      const base = { epochs: Number(env.RETRIEVAL_EPOCHS ?? 40), maxSeconds: Number(env.RETRIEVAL_SECONDS ?? 0) };
      rows.push(twoTowerRow(split, retrievalFeatures(ds, split.itemIds), grid, base, log));
    }
    out.push(table(name, rows));
    log(out[out.length - 1]);
  }
  console.log('\n' + out.join('\n\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
