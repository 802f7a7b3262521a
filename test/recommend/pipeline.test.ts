/**
 * Retrieval -> BST ranking (lib/recommend/pipeline.ts, rank-train.ts): hand-computed pipeline metrics, the
 * leave-one-out / BST split agreement, hard negatives and recommendations on the real ml-100k.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Dataset, loadMovieLens, prepareData, PreparedData } from '../../lib/data/index';
import {
  eventsFromTable,
  evaluateNextItem,
  fitItemKnn,
  itemKnnNextItem,
  leaveOneOutSplit,
  NextItemCase,
  NextItemSplit,
  SequenceSet,
} from '../../lib/eval';
import { buildBst, resolveConfig } from '../../lib/model/index';
import { movieCatalog } from '../../lib/recommend/catalog';
import {
  blendScores,
  checkLooCompatible,
  NOT_RETRIEVED,
  pipelineModeLabel,
  pipelineScorer,
} from '../../lib/recommend/pipeline';
import { itemKnnRetriever, popularityRetriever, topMExcluding } from '../../lib/retrieval/index';
import {
  hardNegativeSource,
  historyBefore,
  rankingPositions,
  retrieverCandidates,
} from '../../lib/recommend/rank-train';
import { chooseSetting } from '../../lib/recommend/pipeline-run';
import { recommend } from '../../lib/recommend/recommend';
import { ratedMask } from '../../lib/recommend/score';
import { likeBatches, trainItemsByUser } from '../../lib/recommend/train';
import { DataError } from '../../lib/util/errors';
import { tinyConfig, useCpu } from '../model/helpers';

beforeAll(useCpu);

const DIR =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? path.join(process.env.BST_DATA_DIR, 'ml-100k')
    : path.resolve(__dirname, '../../../shared/data/ml-100k');

let real: { ds: Dataset; data: PreparedData; split: NextItemSplit } | undefined;
/** ml-100k prepared as the pipeline uses it: leave-last-k k=1 (BST) and leave-one-out (retrievers, metrics). */
function ml100k() {
  if (!real) {
    const ds = loadMovieLens({ dir: DIR });
    real = {
      ds,
      data: prepareData({ dataset: ds, seqLen: 10, k: 1 }),
      split: leaveOneOutSplit(eventsFromTable(ds.ratings)),
    };
  }
  return real;
}

test('topMExcluding: best first, index 0 and excluded items skipped, equal scores by smaller index', () => {
  const scores = [9, 1, 5, 5, 3, 7];
  expect(Array.from(topMExcluding(scores, 3, [5]))).toEqual([2, 3, 4]);
  expect(Array.from(topMExcluding(scores, 10, [5]))).toEqual([2, 3, 4, 1]);
  expect(Array.from(topMExcluding(scores, 2, []))).toEqual([5, 2]);
});

test('pipeline metrics on a hand-made case equal the hand computation (outside M ranks below, seen excluded, blend)', () => {
  // catalogue: items 1..5. Case A: saw 1, next 3; case B: saw 2, next 5 (never retrieved).
  const cases: NextItemCase[] = [
    { user: 1, input: Int32Array.from([1]), target: 3, time: 0 },
    { user: 2, input: Int32Array.from([2]), target: 5, time: 0 },
  ];
  const cand = {
    cases,
    items: [Int32Array.from([2, 3, 4]), Int32Array.from([1, 3, 4])], // retriever order
    ranker: [Float32Array.from([0.5, 2, -1]), Float32Array.from([0, 1, 2])], // BST logits
  };
  const fit: SequenceSet = {
    users: Int32Array.from([1, 2]),
    items: [Int32Array.from([1, 2]), Int32Array.from([2, 3])],
    times: [],
  };
  const ev = (m: number, weight: number) =>
    evaluateNextItem(pipelineScorer(cand, 6, { m, weight }), cases, { numItems: 6, fit });
  // w = 0: A's BST order is 3, 2, 4 -> rank 1. B: 1, 3, 4 retrieved and above it, 2 seen -> rank 4.
  const w0 = ev(3, 0);
  expect(w0.hr10).toBeCloseTo(1, 12);
  expect(w0.ndcg10).toBeCloseTo((1 + 1 / Math.log2(5)) / 2, 6);
  expect(w0.mrr10).toBeCloseTo((1 + 1 / 4) / 2, 6);
  // blend by hand for A: z(BST) = [0, 1.2247, -1.2247]; z(-ln(1 + rank)) = [1.2880, -0.1379, -1.1497]
  // w = 0.25: [0.322, 0.884, -1.206] -> 3 first (rank 1); w = 0.5: [0.644, 0.543, -1.187] -> 2 first (rank 2)
  expect(ev(3, 0.25).ndcg10).toBeCloseTo((1 + 1 / Math.log2(5)) / 2, 6);
  expect(ev(3, 0.5).ndcg10).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(5)) / 2, 6);
  expect(Array.from(blendScores([0.5, 2, -1], 3, 0.5), (x) => Number(x.toFixed(3)))).toEqual([0.644, 0.543, -1.187]);
  // M = 1: A keeps only item 2; target 3 ties with the other non-retrieved 4 and 5 -> pessimistic rank 1 + 1 + 2 = 4
  const m1 = ev(1, 0);
  expect(m1.mrr10).toBeCloseTo((1 / 4 + 1 / 4) / 2, 6); // B: 1 retrieved, then 3, 4, 5 tied -> rank 1 + 1 + 2 = 4
  // the scorer follows the cases' own inputs and refuses others
  const row = pipelineScorer(cand, 6, { m: 3, weight: 1 })([cases[0].input, cases[1].input]);
  expect(row[1]).toBe(NOT_RETRIEVED); // A's seen item is not retrieved
  expect(row[2]).toBeGreaterThan(row[3]); // w = 1: the retriever's order
  expect(() => pipelineScorer(cand, 6, { m: 3, weight: 0 })([Int32Array.from([1])])).toThrow(/is not case 0's input/);
});

test('real ml-100k: the BST split (leave-last-k, k=1) gives exactly the leave-one-out cases and catalogue', () => {
  const { data, split } = ml100k();
  const val = checkLooCompatible(data, split, 'val');
  const test = checkLooCompatible(data, split, 'test');
  expect(val.length).toBe(943);
  expect(test.length).toBe(943);
  // each test position is the last of its user, validation the one before
  const it = data.interactions;
  for (let r = 0; r < test.length; r += 97) {
    expect(test[r]).toBe(it.userOffsets[it.user[test[r]] + 1] - 1);
    expect(val[r]).toBe(test[r] - 1);
  }
  const moved = {
    ...split,
    test: {
      ...split.test,
      cases: split.test.cases.map((c, i) => (i === 5 ? { ...c, target: c.target === 1 ? 2 : 1 } : c)),
    },
  };
  expect(() => checkLooCompatible(data, moved, 'test')).toThrow(DataError);
});

test('real ml-100k: hard negatives come from the retriever, never the positive or a movie the user rated in training', () => {
  const { data, split } = ml100k();
  const retriever = itemKnnRetriever(fitItemKnn(split.val.fit, split.numItems, 100), { lastItems: 3 });
  const positions = rankingPositions(data, { maxPerUser: 2, maxUsers: 150 });
  expect(positions.length).toBe(300);
  const cands = retrieverCandidates(data, retriever, positions, 30);
  for (const p of positions.slice(0, 20)) {
    const hist = new Set(historyBefore(data, p));
    for (const i of cands.get(p)!) expect(hist.has(i)).toBe(false); // the retriever already excludes the history
  }
  const exclude = trainItemsByUser(data);
  const source = hardNegativeSource(cands, { hard: 4, uniform: 2 });
  const L = data.seqLen;
  let groups = 0,
    fromRetriever = 0;
  for (const b of likeBatches(data, {
    positions,
    negatives: 6,
    positivesPerBatch: 50,
    seed: 3,
    exclude,
    negativeSource: source,
  })) {
    expect(b.n % 7).toBe(0);
    for (let g = 0; g < b.n; g += 7) {
      const u = b.userIdx[g];
      const pos = b.itemSeq[g * L + L - 1];
      expect(b.liked[g]).toBe(1);
      const rated = new Set(exclude[u]);
      const p = positions[groups++];
      const usable = Array.from(cands.get(p)!).filter((i) => i !== pos && !rated.has(i)).length;
      const cset = new Set(cands.get(p)!);
      let hard = 0;
      for (let j = g + 1; j < g + 7; j++) {
        const item = b.itemSeq[j * L + L - 1];
        expect(b.liked[j]).toBe(0);
        expect(item).not.toBe(pos);
        expect(rated.has(item)).toBe(false);
        if (cset.has(item)) hard++;
      }
      expect(hard).toBeGreaterThanOrEqual(Math.min(4, usable));
      fromRetriever += hard;
    }
  }
  expect(groups).toBe(positions.length);
  expect(fromRetriever).toBeGreaterThanOrEqual(4 * positions.length * 0.9);
});

test('real ml-100k: the pipeline never recommends a movie the user already rated (any split), and names its mode', () => {
  const { ds, data, split } = ml100k();
  const model = buildBst(resolveConfig(tinyConfig({ seqLen: 10, task: 'like' })), data.sizes);
  const catalog = movieCatalog(ds, data);
  // popularity retrieval would hand back the user's own popular movies if exclusion failed
  const pipeline = { retriever: popularityRetriever(split.val.fit, split.numItems), setting: { m: 30, weight: 0 } };
  for (const userId of [1, 13, 92, 405, 655]) {
    // heavy raters: many of the popular movies are already rated
    const r = recommend({ model, data, catalog, userId, k: 10, explain: 0, pipeline });
    expect(r.mode).toBe('pipeline');
    expect(r.modeLabel).toBe('retrieval (popularity, M=30) → BST ranking');
    expect(r.items.length).toBe(10);
    const rated = ratedMask(data, data.vocabs.user.index(userId));
    for (const x of r.items) expect(rated[x.item]).toBe(0);
    const d = recommend({ model, data, catalog, userId, k: 5, explain: 0, pipeline, diversity: { lambda: 0.5 } });
    for (const x of d.items) expect(rated[x.item]).toBe(0);
  }
  expect(pipelineModeLabel({ retriever: { name: 'sasrec' }, setting: { m: 100, weight: 1 } })).toMatch(
    /^retrieval \(sasrec, M=100\) alone/,
  );
  model.net.dispose();
});

test('real ml-100k: validation keeps the retriever order unless BST ranking beats it by minGain', () => {
  const { data, split } = ml100k();
  const model = buildBst(resolveConfig(tinyConfig({ seqLen: 10, task: 'like' })), data.sizes); // untrained: a poor ranker
  const knn = fitItemKnn(split.val.fit, split.numItems, 100);
  const retriever = itemKnnRetriever(knn, { lastItems: 3 });
  const small = { ...split, val: { ...split.val, cases: split.val.cases.slice(0, 40) } }; // 40 validation users (BST scoring per user is the slow part)
  const o = { model, data, split: small, retriever, ms: [20], weights: [0, 1] };
  const kept = chooseSetting(o);
  expect(kept.setting).toEqual({ m: 20, weight: 1 });
  const alone = evaluateNextItem(itemKnnNextItem(knn, { lastItems: 3 }), small.val.cases, {
    numItems: split.numItems,
    fit: split.val.fit,
  });
  expect(kept.val.hr10).toBeCloseTo(alone.hr10, 12); // the retriever's own order: its own top 10
  expect(kept.val.ndcg10).toBeCloseTo(alone.ndcg10, 12);
  const forced = chooseSetting({ ...o, minGain: -1 });
  expect(forced.setting).toEqual({ m: 20, weight: 0 });
  expect(forced.val.ndcg10).toBeLessThan(kept.val.ndcg10);
  model.net.dispose();
});
