/**
 * One training run from data to metrics: split, build, train with early stopping on validation, score the
 * test split once at the end. Used by the CLI (`bst train`, `bst benchmark`), the notebooks and scripts.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  Dataset,
  ensureDataset,
  loadMovieLens,
  PreparedData,
  prepareData,
  Protocol,
  releaseSpec,
  resolveDataDir,
  Samples,
  vocabsFromJSON,
  VocabsJSON,
  vocabsToJSON,
} from '../data/index';
import {
  BstConfig,
  BstModel,
  buildBst,
  EvalMetrics,
  evaluate,
  loadCheckpoint,
  ProgressOptions,
  resolveConfig,
} from '../model/index';
import { train, TrainResult } from '../train/index';
import { DataError } from '../util/errors';
import { readJson, writeJsonAtomic } from '../util/files';
import { workersFromEnv } from '../train/parallel/env';
import { inNotebook } from '../viz/display';
import { liveProgress } from '../viz/model';
import {
  checkSameRun,
  newRunId,
  readManifest,
  prepareRunFolder,
  resumeConflicts,
  RUN_FORMAT,
  RunIdentity,
  RunManifest,
  splitFingerprint,
  writeManifest,
} from './run-folder';
import { BstError, OutputError, RunMismatchError, TrainingError } from '../util/errors';

/** How the data is split into targets (recorded with every run so `evaluate` can rebuild the same split). */
export interface SplitOptions {
  protocol: Protocol;
  /** leave-last-k: ratings per user held out for test (and as many for validation). */
  k: number;
  /** legacy-random-windows: window step. */
  step: number;
  /** Seed of the split (legacy shuffle) and, with the model seed (config.seed), of the batch order. */
  seed: number;
}

/** Defaults: the leak-free protocol with one held-out rating per user. */
export const DEFAULT_SPLIT: SplitOptions = { protocol: 'leave-last-k', k: 1, step: 2, seed: 42 };

export interface ExperimentOptions {
  dataset: Dataset;
  split?: Partial<SplitOptions>;
  /** Model and training config overrides (seqLen included). */
  config?: Partial<BstConfig>;
  /** Reuse an already prepared split (must match config.seqLen). */
  data?: PreparedData;
  /** Folder for checkpoints, history.json and metrics.json. None: nothing written. */
  outDir?: string;
  /**
   * Continue the run in outDir (from <outDir>/checkpoints/last): its run.json must exist and agree with the
   * dataset, split and config given here (only epochs and patience may change) and with the data.
   */
  resume?: boolean;
  /**
   * Without `resume`, when outDir already holds a run: 'overwrite' (default) removes its run.json,
   * metrics.json and checkpoints/ before training; 'refuse' throws an OutputError (what `bst train` does
   * unless --overwrite).
   */
  existing?: 'refuse' | 'overwrite';
  /** Epoch lines and split counts; null silences. Default console.log. */
  log?: ((line: string) => void) | null;
  /**
   * Progress bar while training: true, false, or bar options (e.g. lib/viz's liveProgress()). Default: in a
   * notebook one display redrawn in place (liveProgress), elsewhere true (\r on a TTY, a line per 10 % otherwise).
   */
  progress?: boolean | Omit<ProgressOptions, 'total' | 'label'>;
  /** Batch size for scoring. Default 1024. */
  evalBatchSize?: number;
  /** Data-parallel gradient workers incl. the main thread (lib/train/parallel; 1 = single thread). Default: env BST_WORKERS, else 1. */
  workers?: number;
}

/** What a run produced. */
export interface ExperimentResult {
  config: BstConfig;
  split: SplitOptions;
  data: PreparedData;
  model: BstModel;
  training: TrainResult;
  val: EvalMetrics;
  test: EvalMetrics;
  trainSeconds: number;
  /** training samples per second over all epochs (validation passes excluded) */
  trainSamplesPerSec: number;
  /** the record written to metrics.json */
  metrics: RunMetrics;
  /** run id and split fingerprint (also in run.json, metrics.json and the checkpoints) */
  run: RunIdentity;
}

/** The contents of metrics.json. Metric names say exactly what they compute. */
export interface RunMetrics {
  dataset: string;
  split: SplitOptions;
  leaky: boolean;
  counts: PreparedData['counts'];
  config: BstConfig;
  bestEpoch: number;
  epochsRun: number;
  stoppedEarly: boolean;
  trainSeconds: number;
  trainSamplesPerSec: number;
  val: EvalMetrics;
  test: EvalMetrics;
  backend: string;
  versions: Record<string, string>;
  finishedAt: string;
  /** the run's id and split fingerprint, as in run.json and the checkpoints (absent in older runs) */
  run?: RunIdentity;
}

/** Package versions recorded with results. */
export function versions(): Record<string, string> {
  const v: Record<string, string> = { node: process.version, tfjs: tf.version.tfjs };
  try {
    v['bst-lab'] = require('../../package.json').version;
  } catch {
    /* not in a checkout */
  }
  return v;
}

/** Split the data the way a run recorded it (also used by `bst evaluate`). */
export function prepareForRun(
  dataset: Dataset,
  split: SplitOptions,
  seqLen: number,
  extra: { vocabs?: PreparedData['vocabs']; log?: ((l: string) => void) | null } = {},
): PreparedData {
  return prepareData({
    dataset,
    protocol: split.protocol,
    k: split.k,
    step: split.step,
    seed: split.seed,
    seqLen,
    vocabs: extra.vocabs,
    verbose: extra.log === null ? false : (extra.log ?? true),
  });
}

/**
 * Seed of epoch `epoch`'s training batch order. It depends on the split seed and on the model seed
 * (config.seed), so model seeds vary weights, dropout and batch order while the split stays fixed.
 */
export function batchOrderSeed(splitSeed: number, modelSeed: number, epoch: number): number {
  return (Math.imul(splitSeed * 1000 + epoch, 0x9e3779b1) ^ Math.imul(modelSeed + 1, 0x85ebca77)) >>> 0;
}

/** The shuffled training batches of each epoch of a run (see batchOrderSeed). */
export function trainBatchOrder(
  data: PreparedData,
  config: BstConfig,
  split: SplitOptions,
): (epoch: number) => Iterable<Samples> {
  return (epoch) =>
    data.batches('train', {
      batchSize: config.batchSize,
      shuffle: true,
      seed: batchOrderSeed(split.seed, config.seed, epoch),
    });
}

/** Train one BST and score it on validation and (once, at the end) test. */
export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const config = resolveConfig(o.config ?? {});
  const split: SplitOptions = { ...DEFAULT_SPLIT, ...(o.split ?? {}) };
  const log = o.log === undefined ? (s: string) => console.log(s) : o.log;
  // the output folder is checked before any work: writable, and not holding another run (or resuming its own)
  const resumed = o.outDir
    ? prepareRunFolder<SplitOptions>(o.outDir, o.resume ? 'resume' : (o.existing ?? 'overwrite'))
    : undefined;
  if (resumed) {
    const conflicts = resumeConflicts(resumed, { dataset: o.dataset.release, split, config });
    if (conflicts.length)
      throw new OutputError(
        `--resume: ${o.outDir} was trained with other settings (${conflicts.join('; ')}); drop the contradicting flags or train a new run`,
      );
  }
  const data = o.data ?? prepareForRun(o.dataset, split, config.seqLen, { log });
  const fingerprint = splitFingerprint(o.dataset.release, split, config.seqLen, data);
  if (resumed && resumed.run.fingerprint !== fingerprint) {
    throw new RunMismatchError(
      `--resume: the data does not give the split ${o.outDir} was trained on (fingerprint ${fingerprint}, run.json records ${resumed.run.fingerprint}): the ratings files changed`,
    );
  }
  const run: RunIdentity = { id: resumed?.run.id ?? newRunId(), fingerprint };
  if (o.outDir && !resumed) {
    const manifest: RunManifest<SplitOptions> = {
      format: RUN_FORMAT,
      run,
      dataset: o.dataset.release,
      split,
      config,
      dataDir: o.dataset.dir ? path.dirname(path.resolve(o.dataset.dir)) : undefined,
      createdAt: new Date().toISOString(),
    };
    writeManifest(o.outDir, manifest);
  }
  const evalBatch = o.evalBatchSize ?? 1024;
  const model = buildBst(config, data.sizes);
  const checkpointDir = o.outDir ? path.join(o.outDir, 'checkpoints') : undefined;
  const t0 = Date.now();
  const training = await train({
    model,
    trainBatches: trainBatchOrder(data, config, split),
    valBatches: () => data.batches('val', { batchSize: evalBatch }),
    trainSamplesPerEpoch: data.counts.train,
    checkpointDir,
    resume: o.resume,
    vocabularies: { ...vocabsToJSON(data.vocabs), run }, // the run's identity travels with every checkpoint
    log,
    progress: o.progress ?? (inNotebook() ? liveProgress() : true),
    workers: o.workers ?? workersFromEnv(),
  });
  const trainSeconds = (Date.now() - t0) / 1000;
  const fitSeconds = training.history.reduce((a, r) => a + r.seconds, 0);
  const fitSamples = training.history.reduce((a, r) => a + r.samples, 0);
  const val = evaluate(model, data.batches('val', { batchSize: evalBatch }));
  const test = evaluate(model, data.batches('test', { batchSize: evalBatch }));
  const metrics: RunMetrics = {
    dataset: o.dataset.release,
    split,
    leaky: data.counts.leaky,
    counts: data.counts,
    config,
    bestEpoch: training.bestEpoch + 1,
    epochsRun: training.history.length,
    stoppedEarly: training.stoppedEarly,
    trainSeconds,
    trainSamplesPerSec: fitSeconds > 0 ? fitSamples / fitSeconds : 0,
    val,
    test,
    backend: tf.getBackend(),
    versions: versions(),
    finishedAt: new Date().toISOString(),
    run,
  };
  if (o.outDir) {
    fs.mkdirSync(o.outDir, { recursive: true });
    writeJsonAtomic(path.join(o.outDir, 'metrics.json'), metrics);
  }
  return {
    config,
    split,
    data,
    model,
    training,
    val,
    test,
    trainSeconds,
    trainSamplesPerSec: metrics.trainSamplesPerSec,
    metrics,
    run,
  };
}

/** A run folder written by `bst train`, loaded back: its metrics, best model, dataset and rebuilt split. */
export interface LoadedRun {
  runDir: string;
  recorded: RunMetrics;
  model: BstModel;
  dataset: Dataset;
  data: PreparedData;
}

/**
 * Load a run folder (metrics.json + checkpoints/best): the best model, and the run's split rebuilt with the
 * checkpoint's vocabularies. The dataset is the run's unless `dataset` names another release; `dataDir`
 * defaults to $BST_DATA_DIR, else the folder run.json recorded, else data/ (missing releases are downloaded).
 * Refuses (RunMismatchError) a checkpoint and metrics.json of different runs, and data that does not give
 * the recorded split (fingerprint).
 */
export async function loadRun(runDir: string, opts: { dataset?: string; dataDir?: string } = {}): Promise<LoadedRun> {
  const dir = path.resolve(runDir);
  const metricsFile = path.join(dir, 'metrics.json');
  if (!fs.existsSync(metricsFile)) {
    if (fs.existsSync(path.join(dir, 'run.json')))
      throw new DataError(
        'the run has not finished (run.json but no metrics.json yet); finish it with `bst train --out <folder> --resume`',
        dir,
      );
    throw new DataError('not a run folder written by `bst train` (no metrics.json)', dir);
  }
  const recorded = readJson<RunMetrics>(metricsFile);
  const ckptDir = path.join(dir, 'checkpoints', 'best');
  const ckpt = await loadCheckpoint(ckptDir).catch((e: unknown) => {
    if (e instanceof BstError || (e as NodeJS.ErrnoException).code) throw e; // already names the file
    throw new TrainingError(
      `${ckptDir}: the checkpoint cannot be loaded (${(e as Error).message}); its files are corrupt or truncated`,
    );
  });
  const ckptRun = (ckpt.meta.vocabularies as { run?: RunIdentity } | undefined)?.run;
  checkSameRun({
    runDir: dir,
    metricsRun: recorded.run,
    ckptRun,
    metricsFinishedAt: recorded.finishedAt,
    ckptSavedAt: ckpt.meta.savedAt,
    ckptDir: ckpt.dir,
  });
  const release = releaseSpec(opts.dataset ?? recorded.dataset).name;
  const recordedDir = readManifest(dir)?.dataDir;
  const dataDir = opts.dataDir
    ? path.resolve(opts.dataDir)
    : recordedDir && !opts.dataset && fs.existsSync(recordedDir) && !process.env.BST_DATA_DIR
      ? recordedDir
      : resolveDataDir();
  const dataset = loadMovieLens({ dir: await ensureDataset({ release, dataDir }), release });
  const vocabs = vocabsFromJSON(ckpt.meta.vocabularies as VocabsJSON);
  const data = prepareForRun(dataset, recorded.split, ckpt.model.config.seqLen, { vocabs, log: null });
  if (recorded.run) {
    const fingerprint = splitFingerprint(dataset.release, recorded.split, ckpt.model.config.seqLen, data);
    if (fingerprint !== recorded.run.fingerprint) {
      throw new RunMismatchError(
        `${dataset.dir ?? release}: this data does not give the split ${metricsFile} was trained and scored on (fingerprint ${fingerprint}, recorded ${recorded.run.fingerprint}); ` +
          `score the run on its own dataset (${recorded.dataset}) and the same ratings files`,
      );
    }
  }
  return { runDir: dir, recorded, model: ckpt.model, dataset, data };
}
