import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BstConfig, BstModel, buildBst, predict } from '../../../lib/model';
import { syntheticSamples, tinySizes } from '../../../lib/model/testing';
import { chunkSamples, takeSamples } from '../../../lib/data';
import { makeOptimizer, setDropoutStep, train, trainStep, TrainOptions } from '../../../lib/train';
import { spinMsFor } from '../../../lib/train/parallel/protocol';
import {
  DataParallelTrainer,
  WorkerError,
  parseWorkers,
  shardSizes,
  sliceRows,
  supportsWorkers,
  workersFromEnv,
} from '../../../lib/train/parallel';
import { Samples } from '../../../lib/data/types';
import { ConfigError, TrainingError } from '../../../lib/util/errors';
import { Rng } from '../../../lib/util/rng';
import { tinyConfig, useCpu, maxDiff } from '../../model/helpers';

const sizes = tinySizes();
beforeAll(useCpu);

let tmpRoot: string;
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-parallel-'));
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/**
 * Tolerances of W-worker vs single-worker training (dropout 0). Only the float32 summation order differs
 * (per-shard means combined in JS instead of one mean), so per-step losses agree to ~3e-7 relative; Adam
 * divides by sqrt(v), which magnifies rounding on near-zero gradients, so weights after a few steps at
 * learning rate 0.01 agree to ~5e-5 (measured on cpu and wasm: max 4.0e-5 and 5.2e-5 after 8 steps).
 */
const LOSS_REL_TOL = 2e-6;
const WEIGHT_TOL = 5e-4;

const cfg = (over: Partial<BstConfig> = {}) =>
  tinyConfig({ batchSize: 23, epochs: 2, patience: 0, learningRate: 0.01, dropout: 0, ...over });

const trainData = syntheticSamples({ n: 46, seqLen: 5, sizes, seed: 31, signal: 'previous-rating' });
const valData = syntheticSamples({ n: 30, seqLen: 5, sizes, seed: 32, signal: 'previous-rating' });

function batchesOf(data: Samples, batchSize: number, seed: number) {
  return (epoch: number) => {
    const idx = new Rng(seed * 1000 + epoch).shuffle(Array.from({ length: data.n }, (_, i) => i));
    return chunkSamples(takeSamples(data, idx), batchSize);
  };
}

function opts(model: BstModel, over: Partial<TrainOptions> = {}): TrainOptions {
  return {
    model,
    trainBatches: batchesOf(trainData, model.config.batchSize, 3),
    valBatches: () => [valData],
    log: null,
    progress: false,
    ...over,
  };
}

function weightDiff(a: BstModel, b: BstModel): number {
  const wa = a.net.getWeights(),
    wb = b.net.getWeights();
  return Math.max(...wa.map((w, i) => maxDiff(w.dataSync(), wb[i].dataSync())));
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-12, Math.abs(a));
}

describe('sharding and settings', () => {
  test('shardSizes: contiguous, as equal as possible, no empty shards', () => {
    expect(shardSizes(10, 2)).toEqual([5, 5]);
    expect(shardSizes(7, 3)).toEqual([3, 2, 2]);
    expect(shardSizes(2, 4)).toEqual([1, 1]);
    expect(shardSizes(0, 2)).toEqual([]);
    expect(() => shardSizes(5, 0)).toThrow(ConfigError);
  });

  test('sliceRows copies rows [start, end) of every field', () => {
    const s = syntheticSamples({ n: 6, seqLen: 5, sizes, seed: 1 });
    const t = sliceRows(s, 2, 5);
    expect(t.n).toBe(3);
    expect(Array.from(t.itemSeq)).toEqual(Array.from(s.itemSeq.slice(10, 25)));
    expect(Array.from(t.genres)).toEqual(Array.from(s.genres.slice(2 * sizes.numGenres, 5 * sizes.numGenres)));
    expect(Array.from(t.rating)).toEqual(Array.from(s.rating.slice(2, 5)));
    t.rating[0] = -1;
    expect(s.rating[2]).not.toBe(-1);
  });

  test('ranks poll before sleeping only when each has a core of its own', () => {
    expect(spinMsFor(2, 2)).toBeGreaterThan(0);
    expect(spinMsFor(3, 2)).toBe(0);
  });

  test('parseWorkers / BST_WORKERS: integers, auto = cores, bad values name themselves', () => {
    expect(parseWorkers(undefined)).toBe(1);
    expect(parseWorkers('3')).toBe(3);
    expect(parseWorkers('auto', 'BST_WORKERS', 6)).toBe(6);
    expect(workersFromEnv({ BST_WORKERS: 'auto' })).toBe(os.cpus().length);
    expect(workersFromEnv({})).toBe(1);
    expect(() => workersFromEnv({ BST_WORKERS: 'two' })).toThrow(/BST_WORKERS.*"two"/);
    expect(() => parseWorkers('0')).toThrow(ConfigError);
  });
});

describe('DataParallelTrainer', () => {
  test('3-way steps on uneven shards match single-worker steps; weights stay identical; no tensor leaks', async () => {
    const a = buildBst(cfg(), sizes),
      b = buildBst(cfg(), sizes);
    const oa = makeOptimizer(a.config),
      ob = makeOptimizer(b.config);
    // batches of 7 (shards 3, 2, 2), 20 (7, 7, 6) and 2 (1, 1: one worker idle)
    const batches = [7, 20, 2].map((n, i) => syntheticSamples({ n, seqLen: 5, sizes, seed: 50 + i }));
    const p = await DataParallelTrainer.start({ model: b, workers: 3, checkEvery: 1 });
    try {
      const tensors: number[] = [];
      const workerTensors: number[][] = [];
      for (let s = 0; s < 6; s++) {
        setDropoutStep(a, s);
        const la = trainStep(a, oa, batches[s % 3]);
        const lb = await p.step(ob, batches[s % 3], s);
        expect(relDiff(la, lb)).toBeLessThan(LOSS_REL_TOL);
        tensors.push(tf.memory().numTensors);
        workerTensors.push(p.workerTensors.slice());
      }
      expect(weightDiff(a, b)).toBeLessThan(WEIGHT_TOL);
      // after the first round (Adam creates its slots) the main thread's and the workers' tensor counts are flat
      expect(new Set(tensors.slice(3)).size).toBe(1);
      expect(workerTensors[5]).toEqual(workerTensors[2]);
    } finally {
      await p.close();
      oa.dispose();
      ob.dispose();
      a.net.dispose();
      b.net.dispose();
    }
  });

  test('an error in a worker surfaces in the main thread with its message, and the pool stops', async () => {
    const m = buildBst(cfg(), sizes);
    const opt = makeOptimizer(m.config);
    const bad = syntheticSamples({ n: 8, seqLen: 5, sizes, seed: 5 });
    bad.itemSeq[6 * 5 + 4] = sizes.numItems + 7; // sample 6: in the worker's half only
    const p = await DataParallelTrainer.start({ model: m, workers: 2 });
    try {
      const err = await p.step(opt, bad, 0).then(
        () => undefined,
        (e) => e as Error,
      );
      expect(err).toBeInstanceOf(WorkerError);
      expect(err).toBeInstanceOf(TrainingError);
      expect(err!.message).toMatch(
        /training worker 1 of 1 failed: DataError: Samples.itemSeq\[sample 2\] = 27 outside vocabulary/,
      );
      // the broken pool refuses further steps at once instead of hanging
      const good = syntheticSamples({ n: 8, seqLen: 5, sizes, seed: 6 });
      await expect(p.step(opt, good, 1)).rejects.toThrow(/training worker 1 of 1 failed/);
    } finally {
      await p.close();
      opt.dispose();
      m.net.dispose();
    }
  });

  test('workers take over the optimizer state of earlier steps; a failed main shard abandons the step everywhere; a refused batch takes no step', async () => {
    const a = buildBst(cfg(), sizes),
      b = buildBst(cfg(), sizes);
    const oa = makeOptimizer(a.config),
      ob = makeOptimizer(b.config);
    const batches = [9, 12].map((n, i) => syntheticSamples({ n, seqLen: 5, sizes, seed: 70 + i }));
    // two single-thread steps first: Adam's moments and step count must reach the workers
    for (let s = 0; s < 2; s++) {
      setDropoutStep(a, s);
      trainStep(a, oa, batches[s % 2]);
      setDropoutStep(b, s);
      trainStep(b, ob, batches[s % 2]);
    }
    const p = await DataParallelTrainer.start({ model: b, workers: 2, checkEvery: 1 });
    try {
      const bad = syntheticSamples({ n: 8, seqLen: 5, sizes, seed: 9 });
      bad.itemSeq[1 * 5 + 2] = sizes.numItems + 3; // sample 1: in the main thread's half
      for (let s = 2; s < 6; s++) {
        if (s === 3) {
          // the main thread's shard fails: nobody applies the step, and the next steps still agree
          await expect(p.step(ob, bad, s)).rejects.toThrow(/outside vocabulary/);
        }
        if (s === 4) {
          // a batch refused before any worker is sent it takes no step number (the workers need them in turn)
          await expect(p.step(ob, { ...batches[0], n: -1 }, s)).rejects.toThrow(
            /shardSizes: n must be an integer >= 0, got -1/,
          );
        }
        setDropoutStep(a, s);
        const la = trainStep(a, oa, batches[s % 2]);
        const lb = await p.step(ob, batches[s % 2], s); // checkEvery 1: the worker's weights equal the main thread's
        expect(relDiff(la, lb)).toBeLessThan(LOSS_REL_TOL);
      }
      expect(weightDiff(a, b)).toBeLessThan(WEIGHT_TOL);
      await expect(p.step(makeOptimizer(b.config), batches[0], 6)).rejects.toThrow(/a different optimizer/);
    } finally {
      await p.close();
      oa.dispose();
      ob.dispose();
      a.net.dispose();
      b.net.dispose();
    }
  });

  test('an optimizer the workers cannot rebuild is refused by name', async () => {
    class Unregistered extends tf.SGDOptimizer {
      static get className(): string {
        return 'UnregisteredSgd';
      }
    }
    const m = buildBst(cfg(), sizes);
    const p = await DataParallelTrainer.start({ model: m, workers: 2 });
    try {
      await expect(
        p.step(new Unregistered(0.1), syntheticSamples({ n: 4, seqLen: 5, sizes, seed: 1 }), 0),
      ).rejects.toThrow(/UnregisteredSgd is not registered/);
    } finally {
      await p.close();
      m.net.dispose();
    }
  });

  test('bad worker counts are refused; only wasm and cpu take workers', async () => {
    const m = buildBst(cfg(), sizes);
    await expect(DataParallelTrainer.start({ model: m, workers: 1 })).rejects.toThrow(ConfigError);
    await expect(train(opts(m, { workers: 0 }))).rejects.toThrow(/workers must be an integer >= 1, got 0/);
    expect([supportsWorkers('wasm'), supportsWorkers('cpu'), supportsWorkers('tensorflow')]).toEqual([
      true,
      true,
      false,
    ]);
    m.net.dispose();
  });
});

describe('train() with workers', () => {
  test('2 workers match 1 worker (dropout 0): losses, validation, weights; checkpoints and resume work', async () => {
    const one = buildBst(cfg({ epochs: 3 }), sizes);
    const r1 = await train(opts(one));
    const dir = path.join(tmpRoot, 'resume');
    const first = buildBst(cfg({ epochs: 3 }), sizes);
    await expect(
      train(
        opts(first, {
          workers: 2,
          checkWorkersEvery: 1,
          checkpointDir: dir,
          onEpoch: (e) => {
            if (e.epoch === 1) throw new Error('interrupted');
          },
        }),
      ),
    ).rejects.toThrow('interrupted');
    first.net.dispose();
    const two = buildBst(cfg({ epochs: 3 }), sizes);
    const r2 = await train(opts(two, { workers: 2, checkWorkersEvery: 1, checkpointDir: dir, resume: true }));
    expect(r2.resumedAtEpoch).toBe(2);
    expect(r2.history.map((h) => h.steps)).toEqual(r1.history.map((h) => h.steps));
    r2.history.forEach((h, i) => {
      expect(relDiff(r1.history[i].trainLoss, h.trainLoss)).toBeLessThan(LOSS_REL_TOL);
      expect(relDiff(r1.history[i].val.loss, h.val.loss)).toBeLessThan(1e-4);
    });
    expect(weightDiff(one, two)).toBeLessThan(WEIGHT_TOL);
    expect(maxDiff(predict(one, [valData]), predict(two, [valData]))).toBeLessThan(1e-3);
    one.net.dispose();
    two.net.dispose();
  });

  test('with dropout: seeded runs repeat, workers stay in sync, early stopping ends the workers', async () => {
    const run = async () => {
      const m = buildBst(cfg({ dropout: 0.3, epochs: 12, patience: 1, learningRate: 0.1 }), sizes);
      const r = await train(opts(m, { workers: 2, checkWorkersEvery: 2 }));
      m.net.dispose();
      return r;
    };
    const a = await run();
    expect(a.stoppedEarly).toBe(true);
    const b = await run();
    expect(b.history.map((h) => h.trainLoss)).toEqual(a.history.map((h) => h.trainLoss));
    // per-shard masks differ from the single-worker full-batch masks, so the losses do too
    const m = buildBst(cfg({ dropout: 0.3, epochs: 1, learningRate: 0.1 }), sizes);
    const c = await train(opts(m));
    expect(c.history[0].trainLoss).not.toBe(a.history[0].trainLoss);
    m.net.dispose();
  });

  test('a worker error ends train() with the worker message (no hang)', async () => {
    const m = buildBst(cfg(), sizes);
    const bad = syntheticSamples({ n: 10, seqLen: 5, sizes, seed: 9 });
    bad.userIdx[8] = sizes.numUsers; // out of range, in the worker's shard
    await expect(train(opts(m, { workers: 2, trainBatches: () => [bad] }))).rejects.toThrow(
      /training worker 1 of 1 failed: DataError: Samples.userIdx\[sample 3\]/,
    );
    m.net.dispose();
  });
});
