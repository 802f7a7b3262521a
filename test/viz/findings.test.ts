/** lib/viz/findings: computed findings on real ml-100k and on hand-made results; the embedded metrics round trip. */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens, prepareData } from '../../lib/data';
import type { BaselineResult } from '../../lib/eval/fit-baselines';
import type { AttentionSummary } from '../../lib/model/attention-stats';
import {
  compareError,
  consecutiveTies,
  exploreFindings,
  findingsHtml,
  findingsMarkdown,
  metricsFromHtml,
  recommendFindings,
  sequenceFindings,
  strongestBaseline,
  trainingFindings,
} from '../../lib/viz/findings';
import { leakageReport } from '../../lib/viz/sequences';
import { setDisplayTarget, showFindings } from '../../lib/viz';

const DATA = process.env.BST_DATA_DIR ?? path.resolve(__dirname, '../../../shared/data');
const ML100K = path.join(DATA, 'ml-100k');
const real = fs.existsSync(path.join(ML100K, 'u.data')) ? describe : describe.skip;

const metrics = (rmse: number, mae: number) => ({ n: 100, rmse, mae, aucLiked: 0.7, within05: 0.3 });
function baseline(name: string, valRmse: number, testRmse: number): BaselineResult {
  return {
    name,
    params: {},
    val: metrics(valRmse, valRmse * 0.8),
    test: metrics(testRmse, testRmse * 0.8),
    fitSeconds: 0,
    tuneSeconds: 0,
    trials: [],
  };
}
const att: AttentionSummary = {
  samples: 10,
  normalisedEntropy: 0.9996,
  spread: 0.001,
  peakOverUniform: 1.002,
  selfWeight: 0.12,
};

test('consecutiveTies counts same-user neighbours in time, whatever the row order', () => {
  // user 1: t 10, 10, 30, 200 -> pairs (10,10) tie, (10,30) close, (30,200) far; user 2: one rating
  const t = consecutiveTies([1, 2, 1, 1, 1], [30, 5, 10, 200, 10], 60);
  expect(t).toMatchObject({ pairs: 3, tied: 1, close: 2 });
  expect(t.tiedShare).toBeCloseTo(1 / 3);
});

test('trainingFindings states a loss honestly against the baseline with the lowest validation RMSE', () => {
  const bases = [
    baseline('global-mean', 1.1, 1.12),
    baseline('user-item-bias', 0.95, 0.97),
    baseline('item-knn', 0.93, 0.96),
  ];
  expect(strongestBaseline(bases).name).toBe('item-knn');
  const fd = trainingFindings({
    test: { n: 100, loss: 1, rmse: 0.99, mae: 0.8 },
    val: { n: 100, loss: 1, rmse: 0.97 },
    epochsRun: 3,
    bestEpoch: 2,
    baselines: bases,
    attention: att,
    dataset: 'ml-100k',
  });
  expect(fd.metrics.verdictRmse).toBe('loss');
  expect(fd.metrics.strongestBaseline).toBe('item-knn');
  expect(fd.bullets[0]).toMatch(/loses by 0\.0300/);
  expect(fd.bullets.join(' ')).toMatch(/near uniform/);
  const win = trainingFindings({
    test: { n: 100, loss: 1, rmse: 0.9, mae: 0.7 },
    val: { n: 100, loss: 1, rmse: 0.9 },
    epochsRun: 3,
    bestEpoch: 3,
    baselines: bases,
    attention: { ...att, normalisedEntropy: 0.8 },
    dataset: 'x',
  });
  expect(win.metrics.verdictRmse).toBe('win');
  expect(win.bullets.join(' ')).toMatch(/singles out/);
  expect(compareError(1, 1.0001).verdict).toBe('tie');
});

test('recommendFindings compares the best BST head with the best baseline and records metrics', () => {
  const rows = [
    { model: 'popularity', bst: false, sampledHitRate: 0.4, fullHitRate: 0.05, sampledNdcg: 0.2, fullNdcg: 0.02 },
    { model: 'BST like', bst: true, sampledHitRate: 0.5, fullHitRate: 0.03, sampledNdcg: 0.25, fullNdcg: 0.01 },
  ];
  const fd = recommendFindings({ rows, users: 30, k: 10, dataset: 'ml-100k' });
  expect(fd.bullets[0]).toMatch(/wins by 0\.100/);
  expect(fd.bullets[1]).toMatch(/\*\*loses\*\* by 0\.020/);
  expect(fd.metrics).toMatchObject({ popularitySampledHr: 0.4, bstBestSampledHr: 0.5 });
  // one user's share of HR@10 keeps its digits with many users (1 / 6040, not "0.000")
  expect(recommendFindings({ rows, users: 30, k: 10, dataset: 'x' }).bullets.join(' ')).toMatch(/by 0\.033,/);
  expect(recommendFindings({ rows, users: 6040, k: 10, dataset: 'x' }).bullets.join(' ')).toMatch(/by 0\.00017,/);
});

test('findings HTML embeds the metrics; showFindings routes it to the notebook display', () => {
  const fd = { notebook: '99_x', bullets: ['a `code` and **bold** <b>'], metrics: { rmse: 0.9, name: '</script>' } };
  const html = findingsHtml(fd);
  expect(html).toContain('<code>code</code>');
  expect(html).toContain('&lt;b&gt;');
  expect(metricsFromHtml(html)).toEqual({ notebook: '99_x', dataset: '', preset: '', metrics: fd.metrics });
  expect(findingsMarkdown(fd)).toBe('### Findings (99_x)\n\n- a `code` and **bold** <b>');
  const shown: string[] = [];
  setDisplayTarget({ html: (s) => shown.push(s) });
  try {
    showFindings({ ...fd, dataset: 'ml-100k' }, { BST_PRESET: 'small' });
  } finally {
    setDisplayTarget(undefined);
  }
  expect(metricsFromHtml(shown[0])).toMatchObject({ dataset: 'ml-100k', preset: 'small', metrics: { rmse: 0.9 } });
});

real('on ml-100k', () => {
  const ds = loadMovieLens({ dir: ML100K });

  test('01: shape, sparsity and the share of tied consecutive ratings', () => {
    const fd = exploreFindings(ds);
    expect(fd.metrics).toMatchObject({ ratings: 100000, users: 943, movies: 1682 });
    expect(fd.metrics.density as number).toBeCloseTo(100000 / (943 * 1682), 6);
    // the observation: about half of ml-100k's consecutive ratings share a timestamp
    expect(fd.metrics.tiedConsecutiveShare as number).toBeGreaterThan(0.3);
    expect(fd.metrics.tiedConsecutiveShare as number).toBeLessThan(0.7);
    expect(fd.bullets.join('\n')).toMatch(/share their timestamp/);
  });

  test('02: history lengths, ties and the legacy leak', () => {
    const lastK = prepareData({ dataset: ds, protocol: 'leave-last-k', k: 1, seqLen: 8, verbose: false });
    const legacy = prepareData({
      dataset: ds,
      protocol: 'legacy-random-windows',
      seqLen: 8,
      step: 2,
      seed: 42,
      verbose: false,
    });
    const fd = sequenceFindings({ data: lastK, leaks: [leakageReport(lastK), leakageReport(legacy)] });
    // every ml-100k user has >= 20 ratings: each test target has a full history of 7
    expect(fd.metrics.fullHistoryTestShare).toBe(1);
    expect(fd.metrics['leave-last-k.shareTargetInTrain']).toBe(0);
    expect(fd.metrics['legacy-random-windows.shareTargetInTrain'] as number).toBeGreaterThan(0.5);
    expect(fd.metrics.tiedConsecutiveShare as number).toBeGreaterThan(0.3);
  });
});
