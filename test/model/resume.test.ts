/** Resuming after an interruption repeats the uninterrupted run bit for bit (real ml-100k, a small subset, wasm). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadMovieLens, prepareData } from '../../lib/data';
import { Samples } from '../../lib/data/types';
import { BstConfig, BstModel, adamPowers, buildBst, restoreOptimizer, saveCheckpoint } from '../../lib/model';
import { chunkSamples, takeSamples } from '../../lib/data';
import { TrainOptions, makeOptimizer, train, trainStep } from '../../lib/train';
import { Rng } from '../../lib/util/rng';
import { TrainingError } from '../../lib/util/errors';
import { initBackend } from '../../lib/kernels/backend';
import { tinyConfig } from './helpers';

const DIR =
  process.env.BST_DATA_DIR && fs.existsSync(path.join(process.env.BST_DATA_DIR, 'ml-100k'))
    ? path.join(process.env.BST_DATA_DIR, 'ml-100k')
    : path.resolve(__dirname, '../../../shared/data/ml-100k');

/** Training and validation rows taken from the real split (enough steps per epoch for Adam's powers to drift). */
const TRAIN_ROWS = 480;
const VAL_ROWS = 200;

let tmpRoot: string;
let trainData: Samples;
let valData: Samples;
let sizes: ReturnType<typeof prepareData>['sizes'];
const SEQ_LEN = 5;

beforeAll(async () => {
  await initBackend({ choice: 'wasm', log: () => undefined }); // the project's path (fused Adam); cpu takes ~1 s a step at ml-100k's vocabulary sizes
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bst-resume-'));
  const data = prepareData({ dataset: loadMovieLens({ dir: DIR }), seqLen: SEQ_LEN, k: 1, verbose: false });
  sizes = data.sizes;
  trainData = data.batches('train', { batchSize: TRAIN_ROWS, shuffle: true, seed: 3 }).next().value as Samples;
  valData = data.batches('val', { batchSize: VAL_ROWS }).next().value as Samples;
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

const BATCH = 16;
const cfg = (over: Partial<BstConfig>): Partial<BstConfig> =>
  tinyConfig({ seqLen: SEQ_LEN, batchSize: BATCH, patience: 2, dropout: 0.2, ...over });

function opts(model: BstModel, over: Partial<TrainOptions>): TrainOptions {
  return {
    model,
    trainBatches: (epoch) =>
      chunkSamples(
        takeSamples(trainData, new Rng(5000 + epoch).shuffle(Array.from({ length: trainData.n }, (_, i) => i))),
        model.config.batchSize,
      ),
    valBatches: () => chunkSamples(valData, 64),
    log: null,
    progress: false,
    ...over,
  };
}

function bytes(dir: string, file: string): Buffer {
  return fs.readFileSync(path.join(dir, file));
}

/**
 * The runs: killed after epoch `killAfter` (0-based), then resumed. At learning rate 0.003 every epoch improves;
 * at 0.1 epoch 2 does not (the kill falls between two bad epochs: the best weights come back from <dir>/best)
 * and epoch 3 ends the run by early stopping. With 2 workers, resumed 2-worker training repeats 2-worker training.
 */
const CASES = [
  { lr: 0.003, epochs: 3, killAfter: 0, stops: false, workers: 1 },
  { lr: 0.1, epochs: 4, killAfter: 2, stops: true, workers: 1 },
  { lr: 0.003, epochs: 2, killAfter: 0, stops: false, workers: 2 }, // data-parallel: the workers get the exact powers too
];

describe('resume', () => {
  test.each(CASES)(
    'lr $lr, $workers worker(s): killed after epoch $killAfter and resumed == uninterrupted, bit for bit',
    async ({ lr, epochs, killAfter, stops, workers }) => {
      const fullDir = path.join(tmpRoot, `full-${lr}-${workers}`);
      const full = buildBst(cfg({ learningRate: lr, epochs }), sizes);
      const rFull = await train(opts(full, { checkpointDir: fullDir, workers }));
      expect(rFull.stoppedEarly).toBe(stops);
      expect(rFull.history.map((h) => h.steps)).toEqual(rFull.history.map(() => Math.ceil(TRAIN_ROWS / BATCH)));
      const partDir = path.join(tmpRoot, `part-${lr}-${workers}`);
      const first = buildBst(cfg({ learningRate: lr, epochs }), sizes);
      await expect(
        train(
          opts(first, {
            checkpointDir: partDir,
            workers,
            onEpoch: (e) => {
              if (e.epoch === killAfter) throw new Error('killed');
            },
          }),
        ),
      ).rejects.toThrow('killed');
      first.net.dispose();
      const second = buildBst(cfg({ learningRate: lr, epochs }), sizes);
      const r = await train(opts(second, { checkpointDir: partDir, workers, resume: true }));
      expect(r.resumedAtEpoch).toBe(killAfter + 1);
      // exact equality: the same losses, metrics and early-stopping state
      expect(r.history.map((h) => [h.trainLoss, h.val, h.best])).toEqual(
        rFull.history.map((h) => [h.trainLoss, h.val, h.best]),
      );
      expect([r.bestEpoch, r.bestValue, r.stoppedEarly]).toEqual([
        rFull.bestEpoch,
        rFull.bestValue,
        rFull.stoppedEarly,
      ]);
      // the returned (best) weights, and the last epoch's weights and optimizer state on disk, byte for byte
      const wa = full.net.getWeights().map((w) => Array.from(w.dataSync()));
      const wb = second.net.getWeights().map((w) => Array.from(w.dataSync()));
      expect(wb).toEqual(wa);
      for (const f of ['weights.bin', 'optimizer.bin']) {
        expect([f, bytes(path.join(partDir, 'last'), f).equals(bytes(path.join(fullDir, 'last'), f))]).toEqual([
          f,
          true,
        ]);
      }
      const powers = (dir: string) => {
        const j = JSON.parse(bytes(path.join(dir, 'last'), 'optimizer.json').toString());
        return [j.accBeta1, j.accBeta2, j.weights.length];
      };
      expect(powers(fullDir)[0]).toBeGreaterThan(0); // saved (and read back exactly: the second half's updates match)
      expect(powers(partDir)).toEqual(powers(fullDir));
      const ma = JSON.parse(bytes(path.join(fullDir, 'last'), 'meta.json').toString()),
        mb = JSON.parse(bytes(path.join(partDir, 'last'), 'meta.json').toString());
      expect(mb.state).toEqual(ma.state);
      full.net.dispose();
      second.net.dispose();
    },
  );

  test('Adam powers: saved exactly; a checkpoint without them still restores (recomputed); a bad one is refused by name', async () => {
    const m = buildBst(cfg({ learningRate: 0.003, epochs: 1 }), sizes);
    const opt = makeOptimizer(m.config);
    for (const b of chunkSamples(trainData, BATCH)) trainStep(m, opt, b); // 30 steps: pow(beta, t + 1) != the products
    const dir = path.join(tmpRoot, 'powers');
    await saveCheckpoint(dir, { model: m, optimizer: opt });
    const want = adamPowers(opt)!;
    const restored = async () => {
      const o = makeOptimizer(m.config);
      await restoreOptimizer(o, dir);
      const p = adamPowers(o)!;
      o.dispose();
      return p;
    };
    expect(await restored()).toEqual(want);
    const file = path.join(dir, 'optimizer.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ weights: json.weights })); // as written before the powers were saved
    const old = await restored();
    expect(old).not.toEqual(want);
    expect(old.accBeta1).toBeCloseTo(want.accBeta1, 6);
    expect(old.accBeta2).toBeCloseTo(want.accBeta2, 6);
    fs.writeFileSync(file, JSON.stringify({ ...json, accBeta2: 'x' }));
    await expect(restored()).rejects.toThrow(TrainingError);
    await expect(restored()).rejects.toThrow(/optimizer\.json: accBeta2 must be a number in \(0, 1\], got "x"/);
    opt.dispose();
    m.net.dispose();
  });
});
