/** lib/viz/retrieval (notebook 07's tables and charts) and retrievalFindings on hand-made results. */
import { NextItemMetrics, NextItemSplit } from '../../lib/eval/next-item';
import { retrievalFindings, RetrievalModelRow } from '../../lib/viz/findings';
import {
  nextItemRows,
  protocolRows,
  recallCurveFigure,
  rerankTradeoffPoints,
  sideBySideLists,
} from '../../lib/viz/retrieval';

const m = (hr10: number, ndcg10 = hr10 / 2): NextItemMetrics => ({
  cases: 100,
  hr10,
  hr20: hr10 * 1.5,
  ndcg10,
  mrr10: ndcg10 * 0.8,
  coverage10: 0.2,
  novelty: 2,
  unknownTargets: 0,
});

test('protocolRows counts cases, fit events and unknown targets per phase', () => {
  const fit = { users: Int32Array.from([1, 2]), items: [Int32Array.from([1, 2, 3]), Int32Array.from([2])], times: [] };
  const fit2 = {
    users: Int32Array.from([1, 2]),
    items: [Int32Array.from([1, 2, 3, 4]), Int32Array.from([2, 1])],
    times: [],
  };
  const split = {
    protocol: 'leave-one-out',
    numItems: 6,
    itemIds: Int32Array.from([0, 10, 20, 30, 40, 50]),
    val: {
      fit,
      cases: [
        { user: 1, input: Int32Array.from([1, 2, 3]), target: 4, time: 0 },
        { user: 2, input: Int32Array.from([2]), target: 1, time: 0 },
      ],
    },
    test: {
      fit: fit2,
      cases: [
        { user: 1, input: Int32Array.from([1, 2, 3, 4]), target: 0, time: 0 },
        { user: 2, input: Int32Array.from([2, 1]), target: 5, time: 0 },
      ],
    },
  } as unknown as NextItemSplit;
  const rows = protocolRows(split);
  expect(rows[0]).toMatchObject({
    cases: 2,
    'fit events (inputs and training)': 4,
    'fit users': 2,
    'targets unknown to the catalogue': 0,
  });
  expect(rows[1]).toMatchObject({
    cases: 2,
    'fit events (inputs and training)': 6,
    'targets unknown to the catalogue': 1,
  });
  expect(String(rows[2].part)).toContain('5 movies');
});

test('nextItemRows: test metrics and validation NDCG@10 (NaN without validation)', () => {
  const rows = nextItemRows([
    { model: 'a', val: m(0.1), test: m(0.2) },
    { model: 'b', test: m(0.3) },
  ]);
  expect(rows[0]).toMatchObject({ model: 'a', 'val NDCG@10': 0.05, 'HR@10': 0.2, 'NDCG@10': 0.1, 'coverage@10': 0.2 });
  expect(rows[1]['val NDCG@10']).toBeNaN();
});

test('recallCurveFigure: one line per retriever over ascending M', () => {
  const fig = recallCurveFigure([{ name: 'knn', recall: { cases: 10, recall: { 100: 0.5, 10: 0.1, 50: 0.3 } } }]);
  expect(fig.data).toHaveLength(1);
  expect(fig.data[0]).toMatchObject({ name: 'knn', x: [10, 50, 100], y: [0.1, 0.3, 0.5] });
  expect((fig.layout.xaxis as { title: { text: string } }).title.text).toMatch(/^M/);
});

test('rerankTradeoffPoints maps HR onto accuracy and the chosen x', () => {
  const pts = [{ lambda: 1, hr: 0.1, ndcg: 0.05, coverage: 0.2, diversity: 0.5 }];
  expect(rerankTradeoffPoints(pts, 'coverage')).toEqual([{ lambda: 1, diversity: 0.2, accuracy: 0.1 }]);
  expect(rerankTradeoffPoints(pts, 'diversity')).toEqual([{ lambda: 1, diversity: 0.5, accuracy: 0.1 }]);
});

test('sideBySideLists: one row per rank, blanks for short lists, errors on bad input', () => {
  const titles = ['', 'A', 'B', 'C'];
  expect(
    sideBySideLists(
      [
        { name: 'x', items: [3, 1] },
        { name: 'y', items: [2] },
      ],
      titles,
    ),
  ).toEqual([
    { rank: 1, x: 'C', y: 'B' },
    { rank: 2, x: 'A', y: '' },
  ]);
  expect(() =>
    sideBySideLists(
      [
        { name: 'x', items: [1] },
        { name: 'x', items: [2] },
      ],
      titles,
    ),
  ).toThrow(/two lists are named "x"/);
  expect(() => sideBySideLists([{ name: 'x', items: [7] }], titles)).toThrow(/item 7, outside the 4 titles/);
});

describe('retrievalFindings', () => {
  const row = (key: string, kind: RetrievalModelRow['kind'], hr10: number): RetrievalModelRow => ({
    key,
    model: key,
    kind,
    test: m(hr10),
  });
  const base = {
    recall: { twoTower: { 10: 0.1, 100: 0.6 }, itemKnn: { 10: 0.12, 100: 0.45 } },
    rerank: [
      { lambda: 1, hr: 0.2, coverage: 0.25, diversity: 0.6 },
      { lambda: 0.3, hr: 0.15, coverage: 0.3, diversity: 0.9 },
    ],
    cases: 943,
    dataset: 'ml-100k',
  };
  test('a pipeline behind the best single model says so; metrics carry stable keys', () => {
    const fd = retrievalFindings({
      ...base,
      rows: [row('popularity', 'baseline', 0.05), row('itemKnn', 'baseline', 0.13), row('pipeline', 'pipeline', 0.1)],
      setting: { m: 100, weight: 1, retriever: 'two-tower' },
    });
    expect(fd.notebook).toBe('07_retrieval');
    expect(fd.bullets[0]).toMatch(/kept the retriever's own order/);
    expect(fd.bullets[0]).toMatch(/\*\*behind\*\* by 0\.030/);
    expect(fd.bullets[1]).toMatch(/item-KNN reaches HR@10 0\.130 against popularity's 0\.050 \(2\.6x\)/);
    expect(fd.metrics).toMatchObject({
      bestSingleModel: 'itemKnn',
      'pipeline.hr10': 0.1,
      'twoTower.recall100': 0.6,
      bestRecall100: 0.6,
      rerankTopHr10: 0.2,
      rerankLowHr10: 0.15,
      rerankLowDiversity: 0.9,
      cases: 943,
    });
    expect(fd.bullets.join(' ')).toMatch(/HR@10 0\.200 → 0\.150, catalogue coverage 25\.0% → 30\.0%/);
  });
  test('a pipeline ahead, or within one user, is called so; a missing pipeline row is an error', () => {
    const ahead = retrievalFindings({
      ...base,
      rows: [row('itemKnn', 'baseline', 0.13), row('pipeline', 'pipeline', 0.2)],
      setting: { m: 50, weight: 0.25, retriever: 'sasrec' },
    });
    expect(ahead.bullets[0]).toMatch(/chose M=50, blend weight 0\.25.*ahead by 0\.070/);
    const tie = retrievalFindings({
      ...base,
      rows: [row('itemKnn', 'baseline', 0.13), row('pipeline', 'pipeline', 0.1305)],
      setting: { m: 50, weight: 0, retriever: 'sasrec' },
    });
    expect(tie.bullets[0]).toMatch(/BST order alone.*a tie/);
    expect(() =>
      retrievalFindings({
        ...base,
        rows: [row('itemKnn', 'baseline', 0.13)],
        setting: { m: 50, weight: 0, retriever: 'x' },
      }),
    ).toThrow(/need a pipeline row/);
  });
});
