/**
 * `bst tune`: a seeded random search over the BST's main knobs, scored on the validation split only (the
 * test split is never read). The trials and the winner go to the output folder (trials.json,
 * tuned-config.json); only on request (`writeDefault`, `bst tune --write-default`) does the winner replace
 * lib/model/tuned-config.json, which the benchmark uses by default, and never when that file records a
 * better validation RMSE on the same dataset and protocol. The whole search is reproducible from one command.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Dataset } from '../data/index';
import { BstConfig, modelWidth, PositionKind, resolveConfig, SequenceOutput } from '../model/index';
import { prepareForRun, runExperiment, SplitOptions } from './experiment';
import { Rng } from '../util/rng';
import { readJson, writeJsonAtomic } from '../util/files';
import { ConfigError, OutputError } from '../util/errors';
import { TUNED_CONFIG_FILE } from './benchmark';

/** The knobs searched and their candidate values. */
export interface SearchSpace {
  embedDim: number[];
  numHeads: number[];
  mlpUnits: number[][];
  dropout: number[];
  learningRate: number[];
  useHistoryRatings: boolean[];
  positionKind: PositionKind[];
  sequenceOutput: SequenceOutput[];
}

export const DEFAULT_SEARCH_SPACE: SearchSpace = {
  embedDim: [16, 32, 64],
  numHeads: [2, 4, 8],
  mlpUnits: [
    [256, 128],
    [512, 256],
    [1024, 512, 256],
  ],
  dropout: [0.1, 0.2, 0.3],
  learningRate: [5e-4, 1e-3, 2e-3],
  // history ratings were worth 0.04-0.05 validation RMSE in the first search (0.977 with, 1.017-1.025 without)
  useHistoryRatings: [true],
  positionKind: ['learned', 'time', 'sinusoidal'],
  sequenceOutput: ['flatten', 'target'],
};

/** Trials of the default search (each trained once per trial seed). */
export const DEFAULT_TRIALS = 24;
/** Model seeds every trial is trained with; its score is the mean over them. */
export const DEFAULT_TRIAL_SEEDS = [1, 2];

export interface TuneOptions {
  dataset: Dataset;
  /** Split used for the search (only its train and validation targets are read). */
  split: SplitOptions;
  /** Fixed settings for every trial (seqLen, epochs, batchSize, ...). */
  base?: Partial<BstConfig>;
  space?: SearchSpace;
  trials: number;
  /** Seed of the search (which configs are drawn). */
  seed: number;
  /** Model seeds each trial is trained with (weights, dropout, batch order; the split stays fixed); the trial's score is their mean. Default [1, 2]. */
  trialSeeds?: number[];
  /** Folder for trials.json (after every trial) and tuned-config.json (the winner). */
  outDir?: string;
  /**
   * Also replace `defaultFile` with the winner, unless that file records a better (lower or equal) validation
   * RMSE on the same dataset, protocol and k: then an OutputError with both numbers. Default false.
   */
  writeDefault?: boolean;
  /** The default config file `writeDefault` replaces. Default lib/model/tuned-config.json. */
  defaultFile?: string;
  command?: string;
  log?: (line: string) => void;
}

export interface TuneTrial {
  trial: number;
  overrides: Partial<BstConfig>;
  /** mean over the trial seeds */
  valRmse: number;
  valMae: number;
  /** each trial seed's validation RMSE, in trialSeeds order */
  valRmsePerSeed: number[];
  /** best epoch (1-based) per trial seed */
  bestEpoch: number[];
  seconds: number;
}

/** What a tuned-config.json records about the search that produced it. */
export interface TuneResultRecord {
  dataset: string;
  protocol: string;
  k: number;
  valRmse: number;
  valMae: number;
  trials: number;
  /** model seeds each trial was trained with (files written before this field: one seed) */
  trialSeeds?: number[];
}

/** The contents of a tuned-config.json. */
export interface TunedConfigFile {
  source: string;
  config: Partial<BstConfig>;
  result?: TuneResultRecord;
}

/**
 * The search result a tuned-config.json records: its `result` field, or for files written before that
 * field, the numbers in its `source` text ("... on ml-100k leave-last-k k=5 (val RMSE 0.9767, MAE ...").
 */
export function tunedResultOf(
  file: TunedConfigFile,
): Pick<TuneResultRecord, 'dataset' | 'protocol' | 'k' | 'valRmse'> | undefined {
  if (file.result) return file.result;
  const m = / on (\S+) (\S+) k=(\d+) \(val RMSE ([\d.]+)/.exec(file.source ?? '');
  return m ? { dataset: m[1], protocol: m[2], k: Number(m[3]), valRmse: Number(m[4]) } : undefined;
}

/** Draw `n` distinct valid configurations from the space (head count must divide the transformer width). */
export function drawConfigs(
  space: SearchSpace,
  base: Partial<BstConfig>,
  n: number,
  seed: number,
): Array<Partial<BstConfig>> {
  const rng = new Rng(seed);
  const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
  const seen = new Set<string>();
  const out: Array<Partial<BstConfig>> = [];
  for (let attempt = 0; out.length < n && attempt < n * 50; attempt++) {
    const o: Partial<BstConfig> = {
      embedDim: pick(space.embedDim),
      numHeads: pick(space.numHeads),
      mlpUnits: pick(space.mlpUnits),
      dropout: pick(space.dropout),
      learningRate: pick(space.learningRate),
      useHistoryRatings: pick(space.useHistoryRatings),
      positionKind: pick(space.positionKind),
      sequenceOutput: pick(space.sequenceOutput),
    };
    const full = resolveConfig({ ...base, ...o });
    if (modelWidth(full) % full.numHeads !== 0) continue;
    const key = JSON.stringify(o);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(o);
  }
  return out;
}

/** Run the search; returns the trials sorted by validation RMSE (best first). */
export async function tune(o: TuneOptions): Promise<TuneTrial[]> {
  const log = o.log ?? ((l: string) => console.log(l));
  const base = o.base ?? {};
  const seqLen = resolveConfig(base).seqLen;
  const data = prepareForRun(o.dataset, o.split, seqLen, { log });
  const configs = drawConfigs(o.space ?? DEFAULT_SEARCH_SPACE, base, o.trials, o.seed);
  const trials: TuneTrial[] = [];
  const seeds = o.trialSeeds ?? DEFAULT_TRIAL_SEEDS;
  if (seeds.length === 0) throw new ConfigError('tune: trialSeeds must name at least one seed');
  for (let t = 0; t < configs.length; t++) {
    const t0 = Date.now();
    const rmse: number[] = [];
    const mae: number[] = [];
    const epochs: number[] = [];
    for (const seed of seeds) {
      const r = await runExperiment({
        dataset: o.dataset,
        data,
        split: o.split,
        config: { ...base, ...configs[t], seed },
        log: null,
        progress: false,
      });
      r.model.net.dispose();
      // the test metrics runExperiment computes are deliberately not read here
      rmse.push(Number.isFinite(r.val.rmse) ? (r.val.rmse as number) : Infinity);
      mae.push(r.val.mae ?? NaN);
      epochs.push(r.metrics.bestEpoch);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const trial: TuneTrial = {
      trial: t,
      overrides: configs[t],
      valRmse: mean(rmse),
      valMae: mean(mae),
      valRmsePerSeed: rmse,
      bestEpoch: epochs,
      seconds: (Date.now() - t0) / 1000,
    };
    trials.push(trial);
    log(
      `tune: trial ${t + 1}/${configs.length} val RMSE ${trial.valRmse.toFixed(4)} [${rmse.map((x) => x.toFixed(4)).join(', ')}] MAE ${trial.valMae.toFixed(4)} (${trial.seconds.toFixed(0)} s) ${JSON.stringify(configs[t])}`,
    );
    if (o.outDir) writeJsonAtomic(path.join(o.outDir, 'trials.json'), trials);
  }
  const sorted = trials.slice().sort((a, b) => a.valRmse - b.valRmse);
  if (sorted.length === 0) return sorted;
  const best = sorted[0];
  const winner: TunedConfigFile = {
    source: `bst tune: best of ${trials.length} trials (each the mean of seeds ${seeds.join(', ')}) by validation RMSE on ${o.dataset.release} ${o.split.protocol} k=${o.split.k} (val RMSE ${best.valRmse.toFixed(4)}, MAE ${best.valMae.toFixed(4)}); reproduce with: ${o.command ?? 'bst tune'}`,
    config: { ...base, ...best.overrides },
    result: {
      dataset: o.dataset.release,
      protocol: o.split.protocol,
      k: o.split.k,
      valRmse: best.valRmse,
      valMae: best.valMae,
      trials: trials.length,
      trialSeeds: seeds,
    },
  };
  if (o.outDir) {
    writeJsonAtomic(path.join(o.outDir, 'tuned-config.json'), winner);
    log(`tune: wrote ${path.join(o.outDir, 'tuned-config.json')}`);
  }
  if (o.writeDefault) {
    const file = o.defaultFile ?? TUNED_CONFIG_FILE;
    const old = fs.existsSync(file) ? tunedResultOf(readJson<TunedConfigFile>(file)) : undefined;
    const r = winner.result!;
    if (old && old.dataset === r.dataset && old.protocol === r.protocol && old.k === r.k && old.valRmse <= r.valRmse) {
      throw new OutputError(
        `${file} records a better result on ${r.dataset} ${r.protocol} k=${r.k}: val RMSE ${old.valRmse.toFixed(4)}, this search ${r.valRmse.toFixed(4)}; ` +
          `not replaced (the winner is in ${o.outDir ? path.join(o.outDir, 'tuned-config.json') : 'the returned trials'})`,
      );
    }
    writeJsonAtomic(file, winner);
    log(
      `tune: wrote ${file}${old ? ` (replacing val RMSE ${old.valRmse.toFixed(4)} on ${old.dataset} ${old.protocol} k=${old.k})` : ''}`,
    );
  }
  return sorted;
}
