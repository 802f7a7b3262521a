/**
 * Real 2-worker training (wasm, the project's path) while busy threads take every core: it must finish, with
 * the worker's weights equal to the main thread's at every step, and repeat the unloaded run exactly. (A rank
 * descheduled between its reply and its wait is what made `bst train --workers 2` hang on a loaded machine.)
 */
import * as os from 'os';
import { Worker } from 'worker_threads';
import { initBackend } from '../../../lib/kernels/backend';
import { buildBst } from '../../../lib/model';
import { syntheticSamples, tinySizes } from '../../../lib/model/testing';
import { chunkSamples } from '../../../lib/data';
import { train, TrainResult } from '../../../lib/train';
import { tinyConfig } from '../../model/helpers';

const sizes = tinySizes();
/** Small batches: many exchange steps per second of training. */
const BATCH = 6;
const ROWS = 120;
const EPOCHS = 2;
const LIMIT_MS = 60_000;

const trainData = syntheticSamples({ n: ROWS, seqLen: 5, sizes, seed: 41, signal: 'previous-rating' });
const valData = syntheticSamples({ n: 30, seqLen: 5, sizes, seed: 42, signal: 'previous-rating' });

/** One busy thread per core until the returned stop() (they spin on a shared flag). */
function cpuLoad(threads = os.cpus().length): () => Promise<void> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const code = `const f = new Int32Array(require('worker_threads').workerData); let x = 0; while (Atomics.load(f, 0) === 0) x = (x * 31 + 7) % 1000003;`;
  const workers = Array.from({ length: threads }, () => new Worker(code, { eval: true, workerData: flag.buffer }));
  return async () => {
    Atomics.store(flag, 0, 1);
    await Promise.all(workers.map((w) => w.terminate()));
  };
}

/** A 2-worker run; onFirstStep is called once the workers run (their start-up is not what is tested). */
async function run(onFirstStep?: () => void): Promise<TrainResult> {
  const m = buildBst(
    tinyConfig({ batchSize: BATCH, epochs: EPOCHS, patience: 0, learningRate: 0.01, dropout: 0.2 }),
    sizes,
  );
  try {
    return await train({
      model: m,
      trainBatches: () => chunkSamples(trainData, BATCH),
      valBatches: () => [valData],
      log: null,
      progress: false,
      workers: 2,
      checkWorkersEvery: 1,
      onStep: (step) => {
        if (step === 0) onFirstStep?.();
      },
    });
  } finally {
    m.net.dispose();
  }
}

test(
  "2-worker training under a concurrent CPU load finishes, in sync, with the unloaded run's results",
  async () => {
    await initBackend({ choice: 'wasm', log: () => undefined });
    const quiet = await run();
    let stop: (() => Promise<void>) | undefined;
    let loaded: TrainResult;
    let timer: NodeJS.Timeout | undefined;
    try {
      loaded = await Promise.race([
        run(() => {
          stop = cpuLoad();
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`2-worker training did not finish within ${LIMIT_MS} ms under load`)),
            LIMIT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await stop?.();
    }
    expect(stop).toBeDefined();
    expect(loaded.history.map((h) => h.steps)).toEqual(new Array(EPOCHS).fill(Math.ceil(ROWS / BATCH)));
    expect(loaded.history.map((h) => [h.trainLoss, h.val])).toEqual(quiet.history.map((h) => [h.trainLoss, h.val]));
  },
  2 * LIMIT_MS,
);
