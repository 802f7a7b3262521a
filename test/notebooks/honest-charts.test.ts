/**
 * Charts that do not mislead (issue 18, item 4) and the progress displays of the notebooks (item 2): the
 * attention heatmap's colour scale and caption, the second axis's margin, the timeline's ties on real
 * ml-100k, the one-display training progress and the ranking evaluation's progress callback.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadMovieLens } from '../../lib/data/load';
import { prepareData } from '../../lib/data/prepare';
import {
  attentionCaption,
  attentionHeatmapFigure,
  attentionSpread,
  lineFigure,
  liveProgress,
  progressHtml,
  resolveFigure,
  setDisplayTarget,
  timelineFigure,
  timelineTies,
  tradeoffFigure,
  userTimeline,
} from '../../lib/viz';
import { ProgressBar } from '../../lib/model/progress';
import { evaluateLists, popularityRankingScorer, topKLister } from '../../lib/recommend/index';
import { DATA_DIR } from './helpers';

const ML100K = path.join(DATA_DIR, 'ml-100k');

describe('attention heatmap', () => {
  test('a near-uniform matrix keeps the [0, 1] colour scale and says it is near uniform, with its real range', () => {
    const L = 8;
    const z = Array.from({ length: L }, (_, i) =>
      Array.from({ length: L }, (_, j) => 0.125 + (((i + j) % 3) - 1) * 0.0001),
    );
    const s = attentionSpread(z);
    expect(s.nearUniform).toBe(true);
    expect(s.min).toBeCloseTo(0.1249, 6);
    expect(s.max).toBeCloseTo(0.1251, 6);
    const fig = attentionHeatmapFigure(z, { title: 'Attention' });
    expect(fig.data[0]).toMatchObject({ type: 'heatmap', zmin: 0, zmax: 1 });
    const title = (fig.layout.title as { text: string }).text;
    expect(title).toContain('attention is near uniform (range 0.1249\u20130.1251');
    const withNumbers = attentionHeatmapFigure(z, { annotate: 2 });
    expect((withNumbers.layout.annotations as Array<{ text: string }>)[0].text).toBe('0.1249');
  });

  test('a peaked matrix is not called uniform; padding keys (weight 0) are left out of the range', () => {
    // 3 real keys and 2 padding keys per row; each row puts 0.8 on one key
    const z = Array.from({ length: 5 }, () => [0, 0, 0.8, 0.1, 0.1]);
    const s = attentionSpread(z);
    expect(s.nearUniform).toBe(false);
    expect(s.min).toBeCloseTo(0.1, 6);
    expect(s.max).toBeCloseTo(0.8, 6);
    expect(s.normalisedEntropy).toBeLessThan(0.9);
    expect(attentionCaption(s)).toMatch(/^attention weights range 0\.1000\u20130\.8000/);
    // an explicit scale still wins
    expect(attentionHeatmapFigure(z, { zmax: 0.5 }).data[0]).toMatchObject({ zmin: 0, zmax: 0.5 });
  });
});

describe('axes', () => {
  test('a chart with a right axis reserves a right margin for its labels', () => {
    const fig = resolveFigure(
      lineFigure(
        [
          { name: 'ratings', x: ['1998-01'], y: [1] },
          { name: 'users', x: ['1998-01'], y: [2], yaxis: 'y2' },
        ],
        { y2Title: 'active users' },
      ),
    );
    expect((fig.layout.margin as { r: number }).r).toBeGreaterThanOrEqual(60);
    expect(fig.layout.yaxis2).toMatchObject({ automargin: true, side: 'right' });
    // a chart without a right axis keeps the narrow default
    expect((resolveFigure(lineFigure([{ name: 'a', x: [1], y: [1] }])).layout.margin as { r: number }).r).toBe(20);
  });
});

describe('diversity trade-off', () => {
  test('one curve per model, points in falling lambda, labelled', () => {
    const fig = tradeoffFigure([
      {
        name: 'BST',
        points: [
          { lambda: 0.5, diversity: 0.8, accuracy: 0.05 },
          { lambda: 1, diversity: 0.4, accuracy: 0.1 },
          { lambda: 0.7, diversity: 0.6, accuracy: 0.08 },
        ],
      },
    ]);
    expect(fig.data).toHaveLength(1);
    expect(fig.data[0]).toMatchObject({
      x: [0.4, 0.6, 0.8],
      y: [0.1, 0.08, 0.05],
      text: ['\u03bb 1', '\u03bb 0.7', '\u03bb 0.5'],
    });
    expect((fig.layout.xaxis as { title: { text: string } }).title.text).toBe('intra-list diversity');
  });
});

describe('timeline ties on ml-100k', () => {
  const have = fs.existsSync(path.join(ML100K, 'u.data'));
  (have ? test : test.skip)('ratings sharing a second are counted, marked and stacked', () => {
    const ds = loadMovieLens({ dir: ML100K, release: 'ml-100k' });
    const data = prepareData({ dataset: ds, seqLen: 8, k: 1, verbose: false });
    const off = data.interactions.userOffsets;
    // the first user with a tie, counted straight from the timestamps
    let run = -1;
    let expectedTied = 0;
    for (let r = 0; r + 1 < off.length && run < 0; r++) {
      const counts = new Map<number, number>();
      for (let p = off[r]; p < off[r + 1]; p++)
        counts.set(data.interactions.timestamp[p], (counts.get(data.interactions.timestamp[p]) ?? 0) + 1);
      const tied = [...counts.values()].filter((n) => n > 1).reduce((a, n) => a + n, 0);
      if (tied > 0 && off[r + 1] - off[r] <= 60) ((run = r), (expectedTied = tied));
    }
    expect(run).toBeGreaterThanOrEqual(0);
    const rows = userTimeline(data, run);
    expect(rows.filter((r) => r.sameTime > 1)).toHaveLength(expectedTied);
    const ties = timelineTies(rows);
    expect(ties.tied).toBe(expectedTied);
    const fig = timelineFigure(rows, { title: 'one user' });
    const title = (fig.layout.title as { text: string }).text;
    expect(title).toContain(`${expectedTied} of ${rows.length} ratings share their timestamp`);
    // every rating is drawn once; tied ones as diamonds; no two markers at the same (time, value)
    const points = fig.data.flatMap((t) => (t.x as string[]).map((x, i) => `${x}|${(t.y as number[])[i]}`));
    expect(points).toHaveLength(rows.length);
    expect(new Set(points).size).toBe(rows.length);
    const diamonds = fig.data.flatMap((t) => (t.marker as { symbol: string[] }).symbol).filter((s) => s === 'diamond');
    expect(diamonds).toHaveLength(expectedTied);
  });
});

describe('progress displays', () => {
  afterEach(() => setDisplayTarget(undefined));

  test('training bars of every epoch redraw ONE notebook display in place', () => {
    const frames: string[] = [];
    let displays = 0;
    setDisplayTarget({
      html: () => undefined,
      newDisplay: () => (displays++, { html: (s: string) => frames.push(s) }),
    });
    const sink = liveProgress({ redrawMs: 0 });
    let t = 0;
    for (let epoch = 1; epoch <= 3; epoch++) {
      const bar = new ProgressBar({ ...sink, total: 100, label: `epoch ${epoch}/3`, now: () => t });
      for (let d = 10; d <= 100; d += 10) ((t += 100), bar.update(d, 'loss 1.0'));
      bar.finish('loss 0.9');
    }
    expect(displays).toBe(1);
    expect(frames.length).toBeGreaterThanOrEqual(3 * 10);
    expect(frames[frames.length - 1]).toContain('epoch 3/3');
    expect(frames[frames.length - 1]).toContain('100%');
    expect(frames[5]).toMatch(/samples\/s ETA \d+:\d\d/);
  });

  test('the notebook bar shows a rate and the time left', () => {
    expect(progressHtml('ranking', 25, 100, '', 5, 'users')).toContain('(5.0 s, 5.00 users/s, ~15 s left)');
  });

  (fs.existsSync(path.join(ML100K, 'u.data')) ? test : test.skip)('ranking evaluation reports each user done', () => {
    const ds = loadMovieLens({ dir: ML100K, release: 'ml-100k' });
    const data = prepareData({ dataset: ds, seqLen: 4, k: 1, verbose: false });
    const seen: Array<[number, number]> = [];
    const [r] = evaluateLists({
      data,
      scorer: popularityRankingScorer(data),
      mode: 'sampled',
      maxUsers: 20,
      listers: { top: topKLister },
      onProgress: (d, n) => seen.push([d, n]),
    });
    expect(seen).toHaveLength(r.n);
    expect(seen[seen.length - 1]).toEqual([r.n, r.n]);
  });
});
