import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildBst, predict, loadCheckpoint, evaluate, BstModel, BstConfig } from '../../lib/model';
import { syntheticSamples, tinySizes } from '../../lib/model/testing';
import { chunkSamples, takeSamples } from '../../lib/data';
import { train, TrainOptions, readHistory } from '../../lib/train';
import { TrainingError } from '../../lib/util/errors';
import { Rng } from '../../lib/util/rng';
import { Samples } from '../../lib/data/types';
import { tinyConfig, useCpu, maxDiff } from './helpers';

const sizes = tinySizes();
beforeAll(useCpu);

let tmpRoot: string;
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-model-'));
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** Epoch-seeded shuffled batches of a fixed training set. */
function batchesOf(data: Samples, batchSize: number, seed: number) {
  return (epoch: number) => {
    const idx = new Rng(seed * 1000 + epoch).shuffle(Array.from({ length: data.n }, (_, i) => i));
    return chunkSamples(takeSamples(data, idx), batchSize);
  };
}

const trainData = syntheticSamples({ n: 64, seqLen: 5, sizes, seed: 21, signal: 'previous-rating' });
const valData = syntheticSamples({ n: 40, seqLen: 5, sizes, seed: 22, signal: 'previous-rating' });

function opts(model: BstModel, over: Partial<TrainOptions> = {}): TrainOptions {
  return {
    model,
    trainBatches: batchesOf(trainData, model.config.batchSize, 5),
    valBatches: () => chunkSamples(valData, 16),
    log: null,
    progress: false,
    ...over,
  };
}

const cfg = (over: Partial<BstConfig> = {}) =>
  tinyConfig({ batchSize: 32, epochs: 3, patience: 0, learningRate: 0.01, ...over });

describe('train', () => {
  test('writes best/last checkpoints and history; the returned model holds the best weights', async () => {
    const dir = path.join(tmpRoot, 'run1');
    const m = buildBst(cfg(), sizes);
    const seen: number[] = [];
    const r = await train(
      opts(m, { checkpointDir: dir, vocabularies: { items: ['pad', 'a'] }, onEpoch: (e) => seen.push(e.epoch) }),
    );
    expect(seen).toEqual([0, 1, 2]);
    expect(r.history).toHaveLength(3);
    for (const h of r.history) {
      expect(h.trainLoss).toBeGreaterThan(0);
      expect(h.val.rmse).toBeCloseTo(Math.sqrt(h.val.mse!), 6);
      expect(h.samples).toBe(64);
      expect(h.steps).toBe(2);
    }
    expect(readHistory(dir)).toHaveLength(3);
    for (const f of ['model.json', 'weights.bin', 'meta.json', 'optimizer.bin'])
      expect(fs.existsSync(path.join(dir, 'last', f))).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['best', 'history.json', 'last']); // no temporary folders left
    const best = await loadCheckpoint(path.join(dir, 'best'));
    expect(best.meta.vocabularies).toEqual({ items: ['pad', 'a'] });
    expect(best.meta.state!.bestEpoch).toBe(r.bestEpoch);
    const pBest = predict(best.model, [valData]);
    expect(maxDiff(pBest, predict(m, [valData]))).toBe(0);
    expect(evaluate(m, [valData]).mse).toBeCloseTo(r.bestValue, 5);
    best.model.net.dispose();
    m.net.dispose();
  });

  test('save, load, predict gives identical predictions; the config round trip rebuilds the same model', async () => {
    const dir = path.join(tmpRoot, 'run2');
    const m = buildBst(cfg({ positionKind: 'time', numBlocks: 2, task: 'like' }), sizes);
    await train(opts(m, { checkpointDir: dir, model: m }));
    const loaded = await loadCheckpoint(path.join(dir, 'best')); // the returned model holds the best weights
    expect(maxDiff(predict(loaded.model, [valData]), predict(m, [valData]))).toBe(0);
    expect(loaded.model.config).toEqual(m.config);
    expect(loaded.meta.sizes).toEqual(sizes);
    // rebuild from the saved config: same architecture and the same seeded initial weights
    const a = buildBst(m.config, sizes);
    const b = buildBst(JSON.parse(JSON.stringify(loaded.meta.config)), loaded.meta.sizes);
    expect(b.net.weights.map((w) => `${w.shape}`)).toEqual(a.net.weights.map((w) => `${w.shape}`));
    expect(b.net.layers.map((l) => l.name)).toEqual(a.net.layers.map((l) => l.name));
    expect(maxDiff(predict(a, [valData]), predict(b, [valData]))).toBe(0);
    expect(b.net.layers.map((l) => JSON.stringify(l.getConfig()))).toEqual(
      a.net.layers.map((l) => JSON.stringify(l.getConfig())),
    );
    [a, b, loaded.model, m].forEach((x) => x.net.dispose());
  });

  test('seeded runs give identical results', async () => {
    const run = async () => {
      const m = buildBst(cfg({ dropout: 0.3 }), sizes);
      const r = await train(opts(m));
      const p = predict(m, [valData]);
      m.net.dispose();
      return { losses: r.history.map((h) => h.trainLoss), p };
    };
    const a = await run();
    const b = await run();
    expect(b.losses).toEqual(a.losses);
    expect(maxDiff(a.p, b.p)).toBe(0);
    const m = buildBst(cfg({ dropout: 0.3, seed: 8 }), sizes);
    const c = (await train(opts(m))).history.map((h) => h.trainLoss);
    expect(c).not.toEqual(a.losses);
    m.net.dispose();
  });

  test('resume continues an interrupted run to the same result', async () => {
    const full = buildBst(cfg({ epochs: 4 }), sizes);
    const rFull = await train(opts(full));
    const dir = path.join(tmpRoot, 'run3');
    const first = buildBst(cfg({ epochs: 4 }), sizes);
    await expect(
      train(
        opts(first, {
          checkpointDir: dir,
          onEpoch: (e) => {
            if (e.epoch === 1) throw new Error('interrupted');
          },
        }),
      ),
    ).rejects.toThrow('interrupted');
    first.net.dispose();
    const second = buildBst(cfg({ epochs: 4 }), sizes);
    const r = await train(opts(second, { checkpointDir: dir, resume: true }));
    expect(r.resumedAtEpoch).toBe(2);
    expect(r.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3]);
    r.history.forEach((h, i) => expect(h.trainLoss).toBeCloseTo(rFull.history[i].trainLoss, 4));
    expect(maxDiff(predict(second, [valData]), predict(full, [valData]))).toBeLessThan(1e-4);
    full.net.dispose();
    second.net.dispose();
  });

  test('early stopping on the validation loss with patience', async () => {
    const m = buildBst(cfg({ epochs: 12, patience: 1, learningRate: 0.1 }), sizes);
    const r = await train(opts(m));
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBeLessThan(12);
    const last = r.history[r.history.length - 1];
    expect(last.best).toBe(false);
    expect(r.history[r.bestEpoch].val.loss).toBe(r.bestValue);
    m.net.dispose();
  });

  test('a NaN loss stops with a TrainingError and keeps the last good checkpoint', async () => {
    const dir = path.join(tmpRoot, 'run4');
    const m = buildBst(cfg({ epochs: 3 }), sizes);
    let err: unknown;
    try {
      await train(opts(m, { checkpointDir: dir, onStep: (step) => (step === 2 ? NaN : undefined) }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TrainingError);
    expect(String(err)).toMatch(/loss is NaN at epoch 2, step 3.*last good checkpoint \(epoch 1\)/);
    const last = await loadCheckpoint(path.join(dir, 'last'));
    expect(last.meta.state!.epoch).toBe(1);
    for (const v of predict(last.model, [valData])) expect(Number.isFinite(v)).toBe(true);
    last.model.net.dispose();
    m.net.dispose();
  });

  test('no tensors leak across training epochs', async () => {
    const m = buildBst(cfg({ epochs: 1 }), sizes);
    await train(opts(m)); // warm-up
    const n0 = tf.memory().numTensors;
    await train(opts(m));
    expect(tf.memory().numTensors).toBe(n0);
    m.net.dispose();
  });

  test('planted sequential signal: the model with history beats the model without history', async () => {
    const big = syntheticSamples({ n: 384, seqLen: 5, sizes, seed: 31, signal: 'previous-rating', minHistory: 1 });
    const val = syntheticSamples({ n: 200, seqLen: 5, sizes, seed: 32, signal: 'previous-rating', minHistory: 1 });
    const fit = async (over: Partial<BstConfig>) => {
      const m = buildBst(cfg({ epochs: 6, batchSize: 128, dropout: 0, learningRate: 0.03, ...over }), sizes);
      const r = await train({
        model: m,
        trainBatches: batchesOf(big, 128, 3),
        valBatches: () => [val],
        log: null,
        progress: false,
      });
      m.net.dispose();
      return r.history[r.bestEpoch].val.rmse!;
    };
    const withHistory = await fit({});
    const noHistory = await fit({
      useHistoryRatings: false,
      numBlocks: 0,
      positionKind: 'none',
      posDim: 2,
      ratingDim: 2,
      embedDim: 4,
    });
    process.stdout.write(
      `planted signal: val RMSE with history ${withHistory.toFixed(3)}, without ${noHistory.toFixed(3)}\n`,
    );
    // ratings are uniform on 1..5 (RMSE ~1.41 around the mean) unless the last history rating is seen
    expect(noHistory).toBeGreaterThan(1.2);
    expect(withHistory).toBeLessThan(0.7 * noHistory);
  });
});
