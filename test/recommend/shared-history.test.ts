import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { generateSynthetic, loadMovieLens, prepareData, PreparedData } from '../../lib/data/index';
import { BstConfig, BstModel, buildBst } from '../../lib/model/index';
import {
  heldOutCut,
  latestCut,
  releaseSharedHistory,
  scoreItems,
  scoreItemsExact,
  scoreSharedHistory,
  sharedHistorySupported,
  unratedItems,
} from '../../lib/recommend/index';
import { ConfigError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { maxDiff, tinyConfig, useCpu } from '../model/helpers';

beforeAll(useCpu);

function smallData(seqLen: number): PreparedData {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-shared-'));
  generateSynthetic({ dir, format: 'ml-1m', numRatings: 900, numUsers: 30, numMovies: 60, seed: 5 });
  const dataset = loadMovieLens({ dir });
  fs.rmSync(dir, { recursive: true, force: true });
  return prepareData({ dataset, seqLen, k: 1, verbose: false });
}

/** A model whose weights are all drawn N(0, 0.5): attention far from uniform, biases non-zero. */
function randomModel(over: Partial<BstConfig>, data: PreparedData): BstModel {
  const model = buildBst(tinyConfig({ seqLen: data.seqLen, ...over }), data.sizes);
  const rng = new Rng(11);
  model.net.setWeights(
    model.net.getWeights().map((w) =>
      tf.tensor(
        Float32Array.from({ length: w.size }, () => 0.5 * rng.normal()),
        w.shape,
      ),
    ),
  );
  return model;
}

describe('shared-history exact scoring equals the plain forward pass', () => {
  const data = smallData(5);
  const variants: Record<string, Partial<BstConfig>> = {
    'learned positions, all features, rating head': {},
    'like head, time buckets': { task: 'like', positionKind: 'time' },
    'sinusoidal, no history ratings, no user features, 4 heads': {
      positionKind: 'sinusoidal',
      useHistoryRatings: false,
      useUserId: false,
      useDemographics: false,
      numHeads: 4,
      embedDim: 6,
    },
    'item embedding only (no position, no ratings, no genres/year), one MLP layer': {
      positionKind: 'none',
      useHistoryRatings: false,
      useGenres: false,
      useYear: false,
      embedDim: 8,
      mlpUnits: [8],
    },
  };
  for (const [name, over] of Object.entries(variants)) {
    test(name, () => {
      const model = randomModel(over, data);
      try {
        expect(sharedHistorySupported(model)).toBe(true);
        for (const u of [1, 2, 7]) {
          const cut = latestCut(data, u);
          const items = unratedItems(data, u);
          const d = maxDiff(scoreSharedHistory(model, data, cut, items), scoreItems(model, data, cut, items));
          expect(d).toBeLessThan(1e-4);
        }
        // short histories: a held-out cut 0, 1 and 2 ratings into a run (padding in the history slots)
        const start = data.interactions.userOffsets[4];
        for (const p of [start, start + 1, start + 2]) {
          const cut = heldOutCut(data, p);
          const items = unratedItems(data, 4);
          expect(
            maxDiff(scoreSharedHistory(model, data, cut, items), scoreItems(model, data, cut, items)),
          ).toBeLessThan(1e-4);
        }
      } finally {
        releaseSharedHistory(model);
        model.net.dispose();
      }
    });
  }

  test('no tensors leak per call; other block counts fall back to the forward pass; bad items are refused', () => {
    const model = randomModel({}, data);
    const cut = latestCut(data, 3);
    const items = unratedItems(data, 3);
    scoreSharedHistory(model, data, cut, items); // builds the per-model cache
    const before = tf.memory().numTensors;
    scoreSharedHistory(model, data, cut, items);
    expect(tf.memory().numTensors).toBe(before);
    releaseSharedHistory(model);
    expect(tf.memory().numTensors).toBeLessThan(before);
    expect(() => scoreSharedHistory(model, data, cut, [0])).toThrow(ConfigError);
    // new weights (as after more training) are picked up: the per-model tensors are rebuilt
    const rng = new Rng(99);
    model.net.setWeights(
      model.net.getWeights().map((w) =>
        tf.tensor(
          Float32Array.from({ length: w.size }, () => 0.5 * rng.normal()),
          w.shape,
        ),
      ),
    );
    expect(maxDiff(scoreSharedHistory(model, data, cut, items), scoreItems(model, data, cut, items))).toBeLessThan(
      1e-4,
    );
    model.net.dispose();
    const two = randomModel({ numBlocks: 2 }, data);
    expect(sharedHistorySupported(two)).toBe(false);
    expect(() => scoreSharedHistory(two, data, cut, items)).toThrow(/exactly 1 transformer block/);
    expect(maxDiff(scoreItemsExact(two, data, cut, items), scoreItems(two, data, cut, items))).toBe(0);
    two.net.dispose();
  });
});
