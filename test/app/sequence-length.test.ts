/** lib/app/sequence-length: a tiny real sweep (early stopping per L, seeds vary the batch order, cache), summaries and the conclusion. */
import * as path from 'path';
import { generateSynthetic, loadMovieLens } from '../../lib/data';
import { initBackend } from '../../lib/kernels/backend';
import {
  sequenceLengthFigure,
  sequenceLengthFindings,
  sequenceLengthReferences,
  summariseByL,
  sweepSequenceLengths,
  SequenceLengthRun,
} from '../../lib/app/sequence-length';
import { tmpDir } from '../data/fixtures';

const run = (L: number, seed: number, testRMSE: number): SequenceLengthRun => ({
  L,
  seed,
  testRMSE,
  testMAE: testRMSE * 0.8,
  valRMSE: testRMSE,
  epochsRun: L,
  bestEpoch: 1,
  trainSeconds: 1,
  cached: false,
});

test('summariseByL and the conclusion: a gain within seed noise is called unreliable, a clear one is not', () => {
  const noisy = summariseByL([run(1, 1, 1.0), run(1, 2, 1.04), run(4, 1, 0.99), run(4, 2, 1.03)]);
  expect(noisy.map((r) => r.L)).toEqual([1, 4]);
  expect(noisy[0].testRMSE).toBeCloseTo(1.02);
  expect(noisy[0].testRMSEStd).toBeCloseTo(Math.sqrt(0.0008));
  const refs = [
    { name: 'user-item-bias', testRMSE: 1.0, testMAE: 0.8 },
    { name: 'item-knn', testRMSE: 0.95, testMAE: 0.75 },
  ];
  const a = sequenceLengthFindings(noisy, refs, 'x');
  expect(a.metrics).toMatchObject({ bestL: 4, shortestL: 1, gainBeyondNoise: false });
  expect(a.bullets[0]).toMatch(/within\*\* the seed-to-seed spread/);
  expect(a.bullets.join(' ')).toMatch(/item-knn.*loses by/);
  // L=1 runs (1 epoch, best epoch 1) hit their budget; L=4 runs (4 epochs, best 1) stopped early
  expect(noisy.map((r) => r.stoppedEarly)).toEqual([0, 2]);
  expect(a.bullets[1]).toMatch(/ended 2 of 4 runs before their epoch budget.*L = 1 were still improving/);
  const clear = sequenceLengthFindings(
    summariseByL([run(1, 1, 1.0), run(1, 2, 1.001), run(4, 1, 0.9), run(4, 2, 0.901)]),
    refs,
    'x',
  );
  expect(clear.metrics.gainBeyondNoise).toBe(true);
  const none = sequenceLengthFindings(summariseByL([run(1, 1, 0.9), run(4, 1, 1.0)]), [], 'x');
  expect(none.bullets[0]).toMatch(/No history length beat L = 1/);
  const fig = sequenceLengthFigure(noisy, refs);
  expect(fig.data).toHaveLength(3);
  expect(fig.data[1].y).toEqual([1.0, 1.0]); // a horizontal reference line across the swept L
});

test('a tiny sweep: every (L, seed) trains with early stopping, seeds differ, cached runs are reused', async () => {
  await initBackend();
  const dir = tmpDir('bst-seqlen-');
  const ds = loadMovieLens({
    dir: generateSynthetic({
      dir: path.join(dir, 'ml-1m'),
      format: 'ml-1m',
      numRatings: 3000,
      numUsers: 40,
      numMovies: 120,
      seed: 5,
    }).dir,
  });
  const opts = {
    dataset: ds,
    seqLens: [1, 4],
    seeds: [1, 2],
    config: { embedDim: 8, posDim: 4, ratingDim: 4, numHeads: 2, mlpUnits: [16], batchSize: 128 },
    maxEpochs: 3,
    patience: 1,
    cacheDir: path.join(dir, 'cache'),
    progress: false,
  };
  const runs = await sweepSequenceLengths(opts);
  expect(runs.map((r) => `${r.L}/${r.seed}`)).toEqual(['1/1', '1/2', '4/1', '4/2']);
  for (const r of runs) {
    expect(r.epochsRun).toBeGreaterThanOrEqual(1);
    expect(r.epochsRun).toBeLessThanOrEqual(3);
    expect(r.bestEpoch).toBeLessThanOrEqual(r.epochsRun);
    expect(Number.isFinite(r.testRMSE)).toBe(true);
  }
  expect(runs[0].testRMSE).not.toBe(runs[1].testRMSE); // another seed: other weights and batch order
  const again = await sweepSequenceLengths(opts);
  expect(again.every((r) => r.cached)).toBe(true);
  expect(again.map((r) => r.testRMSE)).toEqual(runs.map((r) => r.testRMSE));
  const refs = sequenceLengthReferences({ dataset: ds, seqLen: 4, grid: { mfFactors: [4], mfReg: [0.05] } });
  expect(refs.lines.map((l) => l.name)[0]).toBe('user-item-bias');
  expect(['history-blend', 'item-knn']).toContain(refs.lines[1].name);
  await expect(sweepSequenceLengths({ ...opts, patience: 0 })).rejects.toThrow(/patience must be an integer >= 1/);
}, 60_000);
