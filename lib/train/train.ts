/**
 * Training loop: optimizer from config, early stopping on the validation split (the test split is never
 * seen here), best weights kept, atomic checkpoints and resume, progress bar, per-epoch history.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Samples } from '../data/types';
import { ConfigError, TrainingError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { BstConfig } from '../model/config';
import { BstModel } from '../model/build';
import { EvalMetrics } from '../model/metrics';
import { evaluate } from '../model/predict';
import { ProgressBar, ProgressOptions, formatDuration } from '../model/progress';
import { TrainState, findCheckpoint, restoreOptimizer, restoreWeights, saveCheckpoint } from '../model/checkpoint';
import { lossFunction, setDropoutStep } from '../model/loss';
import { DataParallelTrainer, supportsWorkers } from './parallel/trainer';
import { FusedAdamOptimizer } from '../kernels/fused';
import { WASM_HEAP_LIMIT_BYTES } from '../kernels/native-module';
import { checkTrainingMemory } from '../model/memory';

export { lossFunction, setDropoutStep };

/** One epoch of the returned / saved history. */
export interface EpochRecord {
  /** 0-based epoch index */
  epoch: number;
  /** mean training loss over the epoch's samples (with dropout) */
  trainLoss: number;
  /** validation metrics after the epoch */
  val: EvalMetrics & { loss: number };
  /** wall time of the epoch's training steps (seconds; validation excluded) */
  seconds: number;
  /** wall time of the validation pass (seconds) */
  valSeconds: number;
  /** training samples per second */
  samplesPerSec: number;
  samples: number;
  steps: number;
  /** the validation loss improved on the best so far (this epoch's weights are the best checkpoint) */
  best: boolean;
}

/** Options of train(). */
export interface TrainOptions {
  model: BstModel;
  /** The training batches of an epoch (shuffle them with a seeded lib/util/rng derived from the epoch). */
  trainBatches: (epoch: number) => Iterable<Samples>;
  /** The validation batches (used for early stopping and the best checkpoint). */
  valBatches: () => Iterable<Samples>;
  /** Folder for checkpoints: <dir>/last (resume), <dir>/best, <dir>/history.json. None: nothing written. */
  checkpointDir?: string;
  /** Continue from <checkpointDir>/last when it exists. Default false. */
  resume?: boolean;
  /** JSON-serialisable vocabularies stored with each checkpoint (e.g. movie ids per index). */
  vocabularies?: unknown;
  /** Called after each epoch. */
  onEpoch?: (record: EpochRecord) => void;
  /** Epoch summary lines. Default console.log; null silences. */
  log?: ((line: string) => void) | null;
  /** Progress bar per epoch: true (default), false, or options (write, isTTY, ...). */
  progress?: boolean | Omit<ProgressOptions, 'total' | 'label'>;
  /** Training samples per epoch, for the bar's percentage and ETA (otherwise learnt from the first epoch). */
  trainSamplesPerEpoch?: number;
  /** Test hook: called after each step with its loss; may return a value to use instead (e.g. NaN). */
  onStep?: (step: number, loss: number) => number | void;
  /**
   * Data-parallel training over worker threads (lib/train/parallel; wasm and cpu backends): the number of gradient
   * computers including the main thread, e.g. os.cpus().length (see parseWorkers / workersFromEnv for
   * BST_WORKERS). Each batch is split into that many shards and the shard-size-weighted gradients are averaged,
   * so results equal single-worker training up to float32 summation order (dropout masks differ per shard).
   * Default 1: today's single-threaded path. On native backends (tfjs-node) it is ignored with a log line.
   */
  workers?: number;
  /** With workers > 1: every N steps check that the workers' weights equal the main thread's (0 = never, default). */
  checkWorkersEvery?: number;
}

/** What train() returns. The model holds the best validation weights when training ends. */
export interface TrainResult {
  model: BstModel;
  history: EpochRecord[];
  /** epoch of the best validation loss (-1 if none) and that loss */
  bestEpoch: number;
  bestValue: number;
  /** training stopped because the validation loss did not improve for `patience` epochs */
  stoppedEarly: boolean;
  /** the validation metric early stopping watches (lower is better) */
  monitor: 'loss';
  /** resumed from a checkpoint at this epoch (undefined: fresh run) */
  resumedAtEpoch?: number;
}

/** The optimizer a config asks for. */
export function makeOptimizer(config: BstConfig): tf.Optimizer {
  switch (config.optimizer) {
    case 'adam':
      return new FusedAdamOptimizer(config.learningRate, 0.9, 0.999); // tf.train.adam, one fused kernel per variable where available
    case 'adagrad':
      return tf.train.adagrad(config.learningRate);
    default:
      throw new TrainingError(`unknown optimizer ${JSON.stringify((config as any).optimizer)}`);
  }
}

/**
 * One optimizer step on a batch; returns the loss before the update (dropout on). All intermediate tensors
 * are disposed.
 */
export function trainStep(model: BstModel, optimizer: tf.Optimizer, samples: Samples, vars?: tf.Variable[]): number {
  const varList = vars ?? model.net.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = tf.tidy(() => optimizer.minimize(lossFunction(model, samples), true, varList) as tf.Scalar);
  const v = loss.dataSync()[0];
  loss.dispose();
  return v;
}

function snapshot(model: BstModel): tf.Tensor[] {
  return tf.tidy(() => model.net.getWeights().map((w) => tf.clone(w)));
}

/**
 * Train with early stopping on the validation loss. Writes <checkpointDir>/best (best validation loss),
 * <checkpointDir>/last (every epoch, with optimizer slots, for resume) and history.json. A NaN or infinite
 * loss throws a TrainingError; checkpoints on disk stay at the last good epoch and the model is reset to
 * the best weights seen.
 */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const { model } = o;
  const c = model.config;
  // refuse up front a config whose training cannot fit in the wasm heap (it would fail mid-epoch)
  if (tf.getBackend() === 'wasm')
    checkTrainingMemory(c, model.sizes, { limitBytes: WASM_HEAP_LIMIT_BYTES, what: 'wasm heap limit' });
  const log = o.log === undefined ? (s: string) => console.log(s) : o.log;
  const optimizer = makeOptimizer(c);
  const vars = model.net.trainableWeights.map((w) => w.read() as tf.Variable);
  const lastDir = o.checkpointDir ? path.join(o.checkpointDir, 'last') : undefined;
  const bestDir = o.checkpointDir ? path.join(o.checkpointDir, 'best') : undefined;
  let state: TrainState = { epoch: 0, step: 0, bestValue: Infinity, bestEpoch: -1, badEpochs: 0 };
  let history: EpochRecord[] = [];
  let best: tf.Tensor[] | undefined;
  let resumedAtEpoch: number | undefined;

  if (o.resume && lastDir && findCheckpoint(lastDir)) {
    const meta = restoreWeights(model, lastDir);
    if (!meta.state) throw new TrainingError(`${lastDir}: checkpoint has no training state`);
    if (JSON.stringify(meta.config) !== JSON.stringify(c)) {
      log?.(`resume: note: the checkpoint's config differs from the model's config; continuing with the model's`);
    }
    await restoreOptimizer(optimizer, lastDir);
    state = { ...meta.state };
    history = (meta.history ?? []) as EpochRecord[];
    resumedAtEpoch = state.epoch;
    if (bestDir && findCheckpoint(bestDir)) {
      const current = snapshot(model);
      restoreWeights(model, bestDir);
      best = snapshot(model);
      model.net.setWeights(current);
      tf.dispose(current);
    }
    log?.(
      `resumed from ${lastDir} after epoch ${state.epoch} (step ${state.step}, best val loss ${state.bestValue.toFixed(4)} at epoch ${state.bestEpoch})`,
    );
  }

  const restoreBest = () => {
    if (best) model.net.setWeights(best);
  };
  let workers = o.workers ?? 1;
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new ConfigError(`TrainOptions.workers must be an integer >= 1, got ${workers}`);
  if (workers > 1 && !supportsWorkers()) {
    log?.(`workers=${workers} ignored: the ${tf.getBackend()} backend already uses every core; training on one thread`);
    workers = 1;
  }
  /** the worker threads, started before the first epoch that runs (none when workers = 1) */
  let parallel: DataParallelTrainer | undefined;
  let samplesPerEpoch = o.trainSamplesPerEpoch;
  let stoppedEarly = false;
  try {
    if (state.badEpochs >= c.patience && state.epoch > 0 && c.patience > 0) stoppedEarly = true;
    for (let epoch = state.epoch; epoch < c.epochs && !stoppedEarly; epoch++) {
      const batches = o.trainBatches(epoch);
      if (samplesPerEpoch === undefined && Array.isArray(batches))
        samplesPerEpoch = (batches as Samples[]).reduce((a, b) => a + b.n, 0);
      // worker threads start before the first epoch's clock (their start-up is not training time)
      if (workers > 1 && !parallel) {
        parallel = await DataParallelTrainer.start({ model, workers, vars, checkEvery: o.checkWorkersEvery });
        log?.(`data-parallel training on ${workers} workers (the main thread + ${workers - 1} worker threads)`);
      }
      const bar =
        o.progress === false
          ? undefined
          : new ProgressBar({
              ...(typeof o.progress === 'object' ? o.progress : {}),
              total: samplesPerEpoch,
              label: `epoch ${epoch + 1}/${c.epochs}`,
            });
      const t0 = Date.now();
      let seen = 0,
        lossSum = 0,
        steps = 0;
      let lastYield = t0;
      for (const b of batches) {
        if (b.n === 0) continue;
        let loss: number;
        if (parallel) {
          loss = await parallel.step(optimizer, b, state.step);
        } else {
          setDropoutStep(model, state.step);
          loss = trainStep(model, optimizer, b, vars);
        }
        const over = o.onStep?.(state.step, loss);
        if (typeof over === 'number') loss = over;
        if (!Number.isFinite(loss)) {
          bar?.finish('diverged');
          restoreBest();
          throw new TrainingError(
            `training loss is ${loss} at epoch ${epoch + 1}, step ${state.step + 1}` +
              (lastDir && findCheckpoint(lastDir)
                ? `; the last good checkpoint (epoch ${state.epoch}) is in ${lastDir}`
                : '') +
              ` (try a lower learningRate than ${c.learningRate})`,
          );
        }
        lossSum += loss * b.n;
        seen += b.n;
        steps++;
        state.step++;
        bar?.update(seen, `loss ${(lossSum / seen).toFixed(4)}`);
        if (bar && Date.now() - lastYield >= 200) {
          // let the event loop deliver the bar (a notebook kernel sends displays from it)
          await new Promise((r) => setImmediate(r));
          lastYield = Date.now();
        }
      }
      const seconds = (Date.now() - t0) / 1000;
      bar?.finish(`loss ${(lossSum / Math.max(1, seen)).toFixed(4)}`);
      if (samplesPerEpoch === undefined) samplesPerEpoch = seen;
      const tv = Date.now();
      const val = evaluate(model, o.valBatches());
      const valSeconds = (Date.now() - tv) / 1000;
      if (!Number.isFinite(val.loss)) {
        restoreBest();
        throw new TrainingError(
          `validation loss is ${val.loss} after epoch ${epoch + 1}` +
            (lastDir ? `; the last good checkpoint is in ${lastDir}` : ''),
        );
      }
      const improved = val.loss < state.bestValue;
      if (improved) {
        state.bestValue = val.loss;
        state.bestEpoch = epoch;
        state.badEpochs = 0;
        if (best) tf.dispose(best);
        best = snapshot(model);
      } else state.badEpochs++;
      state.epoch = epoch + 1;
      const rec: EpochRecord = {
        epoch,
        trainLoss: seen ? lossSum / seen : NaN,
        val,
        seconds,
        valSeconds,
        samplesPerSec: seconds > 0 ? seen / seconds : 0,
        samples: seen,
        steps,
        best: improved,
      };
      history.push(rec);
      if (o.checkpointDir) {
        if (improved) await saveCheckpoint(bestDir!, { model, vocabularies: o.vocabularies, history, state });
        await saveCheckpoint(lastDir!, { model, vocabularies: o.vocabularies, history, state, optimizer });
        writeJsonAtomic(path.join(o.checkpointDir, 'history.json'), history);
      }
      log?.(formatEpoch(rec, c));
      o.onEpoch?.(rec);
      if (c.patience > 0 && state.badEpochs >= c.patience) {
        stoppedEarly = true;
        log?.(
          `early stop: no validation improvement for ${c.patience} epoch(s); best epoch ${state.bestEpoch + 1} (val loss ${state.bestValue.toFixed(4)})`,
        );
      }
    }
    restoreBest();
  } finally {
    if (best) tf.dispose(best);
    optimizer.dispose();
    await parallel?.close();
  }
  return {
    model,
    history,
    bestEpoch: state.bestEpoch,
    bestValue: state.bestValue,
    stoppedEarly,
    monitor: 'loss',
    resumedAtEpoch,
  };
}

/** One summary line for an epoch. */
export function formatEpoch(r: EpochRecord, c: BstConfig): string {
  const v = r.val;
  const metrics =
    c.task === 'rating'
      ? `val mse ${v.mse!.toFixed(4)} rmse ${v.rmse!.toFixed(4)} mae ${v.mae!.toFixed(4)}`
      : `val logloss ${v.logLoss!.toFixed(4)} auc ${v.auc!.toFixed(4)} acc ${v.accuracy!.toFixed(4)}`;
  return `epoch ${r.epoch + 1}: train loss ${r.trainLoss.toFixed(4)} | ${metrics} | ${formatDuration(r.seconds)} ${Math.round(r.samplesPerSec)} samples/s${r.best ? ' *' : ''}`;
}

/** Read <checkpointDir>/history.json (empty when absent). */
export function readHistory(checkpointDir: string): EpochRecord[] {
  const f = path.join(checkpointDir, 'history.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as EpochRecord[]) : [];
}
