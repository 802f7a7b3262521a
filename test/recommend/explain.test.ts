/** Occlusion explanations: exact score differences, thresholds, and a planted rule they must recover. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generateSynthetic, loadMovieLens, prepareData } from '../../lib/data/index';
import { buildBst, predict, resolveConfig } from '../../lib/model/index';
import { makeOptimizer, trainStep } from '../../lib/train/index';
import {
  candidateSamplesAt,
  explainItems,
  explanationText,
  heldOutCut,
  latestCut,
  movieCatalog,
  NO_SINGLE_REASON,
  occlusion,
  recommend,
  unratedItems,
} from '../../lib/recommend/index';
import { installKernelFixes, uninstallKernelFixes } from '../../lib/kernels/index';
import { tinyConfig, useCpu } from '../model/helpers';
import { tinyData } from './fixtures';

beforeAll(useCpu);

describe('occlusion on the tiny release', () => {
  const { dataset, data } = tinyData(5);
  const catalog = movieCatalog(dataset, data);
  const model = buildBst(tinyConfig({ seqLen: 5, dropout: 0 }), data.sizes);
  const u = data.vocabs.user.index(1);
  const cut = latestCut(data, u);
  const items = unratedItems(data, u);

  test('contributions equal the score minus the score with that history slot masked as padding, computed by hand', () => {
    const occ = occlusion({ model, data, cut, items });
    const L = data.seqLen;
    expect(occ.hist).toBe(L - 1);
    expect(Array.from(occ.positions)).toEqual([1, 2, 3, 4].map((j) => cut.end - 4 + j - 1));
    const full = candidateSamplesAt(data, cut, items);
    const score = predict(model, [full]);
    for (let b = 0; b < items.length; b++) expect(occ.score[b]).toBeCloseTo(score[b], 5);
    for (let j = 0; j < occ.hist; j++) {
      const s = candidateSamplesAt(data, cut, items);
      for (let b = 0; b < items.length; b++) {
        const slot = b * L + (L - 1 - occ.hist + j);
        s.itemSeq[slot] = 0;
        s.ratingSeq[slot] = 0;
        s.timeDelta[slot] = 0;
      }
      const masked = predict(model, [s]);
      for (let b = 0; b < items.length; b++)
        expect(occ.contribution[b * occ.hist + j]).toBeCloseTo(score[b] - masked[b], 5);
    }
    // an untrained model still depends on its history: not every contribution is 0
    expect(Math.max(...Array.from(occ.contribution, Math.abs))).toBeGreaterThan(1e-4);
  });

  test('each pick: reasons with a contribution above the threshold, largest first; none -> "no single history item"', () => {
    const occ = occlusion({ model, data, cut, items });
    const why = explainItems({ model, data, catalog, cut, items, top: 4, minContribution: 0 });
    expect(why.length).toBe(items.length);
    why.forEach((reasons, b) => {
      const positive = Array.from(occ.contribution.subarray(b * occ.hist, (b + 1) * occ.hist)).filter((c) => c > 0);
      expect(reasons.length).toBe(Math.min(4, positive.length));
      for (let t = 1; t < reasons.length; t++)
        expect(reasons[t - 1].contribution).toBeGreaterThanOrEqual(reasons[t].contribution);
      for (const r of reasons) expect(data.interactions.item[r.position]).toBe(r.item);
    });
    const none = explainItems({ model, data, catalog, cut, items, minContribution: 1e9 });
    for (const reasons of none) expect(explanationText(reasons)).toBe(NO_SINGLE_REASON);
    const rec = recommend({ model, data, catalog, userId: 1, k: 3, minContribution: 1e9 });
    for (const x of rec.items) expect(x.explanation).toBe(NO_SINGLE_REASON);
  });

  test('an empty history gives no reasons', () => {
    const first = data.interactions.userOffsets[u];
    const why = explainItems({ model, data, catalog, cut: heldOutCut(data, first), items: items.slice(0, 2) });
    expect(why).toEqual([[], []]);
  });
});

describe('planted rule: "users who rated A highly rate B highly"', () => {
  test('after brief training, the explanation of B for a user who rated A 5 names A first; never when A was rated 1', () => {
    const A = 3;
    const B = 5;
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bst-planted-')), 'ml-1m');
    // every user rates A (5 or 1) then B with the same rating; the model sees users only through their history
    generateSynthetic({
      dir,
      format: 'ml-1m',
      numRatings: 1000,
      numUsers: 200,
      numMovies: 20,
      seed: 4,
      plantedRule: { ifMovie: A, thenMovie: B, share: 1 },
    });
    const dataset = loadMovieLens({ dir });
    const data = prepareData({ dataset, seqLen: 5, k: 1 });
    const config = resolveConfig({
      seqLen: 5,
      embedDim: 8,
      posDim: 2,
      ratingDim: 4,
      numHeads: 2,
      numBlocks: 1,
      ffnMult: 2,
      mlpUnits: [32, 16],
      useUserId: false,
      useDemographics: false,
      genreDim: 2,
      yearDim: 1,
      dropout: 0,
      seed: 3,
      learningRate: 0.02,
    });
    const model = buildBst(config, data.sizes);
    const optimizer = makeOptimizer(config);
    installKernelFixes('cpu'); // as initBackend does: the cpu embedding gradient without them is several times slower
    try {
      for (let epoch = 0; epoch < 6; epoch++) {
        for (const batch of data.batches('train', { batchSize: 64, shuffle: true, seed: epoch }))
          trainStep(model, optimizer, batch);
      }
    } finally {
      uninstallKernelFixes('cpu');
    }
    const it = data.interactions;
    const a = data.vocabs.item.index(A);
    const b = data.vocabs.item.index(B);
    const catalog = movieCatalog(dataset, data);
    let high = 0,
      namedHigh = 0,
      low = 0,
      namedLow = 0;
    for (let p = 1; p < it.item.length; p++) {
      if (it.item[p] !== b || it.item[p - 1] !== a) continue;
      const [reasons] = explainItems({ model, data, catalog, cut: heldOutCut(data, p), items: [b], top: 2 });
      if (it.rating[p - 1] === 5) {
        high++;
        if (reasons[0]?.item === a) namedHigh++;
      } else {
        low++;
        if (reasons.some((r) => r.item === a)) namedLow++;
      }
    }
    expect(high).toBeGreaterThan(40);
    expect(low).toBeGreaterThan(40);
    expect(namedHigh / high).toBeGreaterThan(0.9);
    expect(namedLow).toBe(0); // a 1 for A lowers B's score: it is no reason to recommend B
  }, 60_000);
});
