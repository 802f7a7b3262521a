/**
 * `fitBaselines`: every rating baseline fitted on the BST's training targets, tuned on validation and scored
 * on test. In its own file so that baselines.ts and history-baselines.ts do not import each other (tslab,
 * the notebooks' kernel, loops forever on an import cycle).
 */
import type { Interactions, SplitIndex } from '../data/types';
import { defaultConfig } from '../model/config';
import { ConfigError } from '../util/errors';
import {
  BiasedMF,
  BiasedMFOptions,
  evaluateModel,
  gatherRatings,
  GlobalMean,
  tuneOnValidation,
  Tuned,
  UserItemBias,
} from './baselines';
import { HistoryBlend, ITEM_KNN_MAX_ITEMS, ItemKnn } from './history-baselines';
import { EvalMetrics } from '../model/metrics';
import { MeanStd, summariseSeeds } from '../model/rating-metrics';

/** Hyperparameter grids of `fitBaselines`. */
export interface BaselineGrid {
  /** lambdas tried by UserItemBias (default [1, 2, 5, 10, 25, 50]) */
  biasReg: number[];
  /** factor counts tried by BiasedMF (default [8, 32]) */
  mfFactors: number[];
  /** regularisations tried by BiasedMF (default [0.02, 0.05, 0.1]) */
  mfReg: number[];
  /** history weights w tried by HistoryBlend (default 0, 0.05, ..., 0.6; 0 = the bias model) */
  blendWeight: number[];
  /** neighbour counts tried by ItemKnn (default [10, 20, 40, 80]) */
  knnK: number[];
  /** similarity shrinkages tried by ItemKnn (default [10, 50, 100, 200]) */
  knnShrink: number[];
}

/** Default grids of `fitBaselines`. */
export const BASELINE_GRID_DEFAULTS: BaselineGrid = {
  biasReg: [1, 2, 5, 10, 25, 50],
  mfFactors: [8, 32],
  mfReg: [0.02, 0.05, 0.1],
  blendWeight: Array.from({ length: 13 }, (_, j) => j / 20),
  knnK: [10, 20, 40, 80],
  knnShrink: [10, 50, 100, 200],
};

/** One baseline's outcome in `fitBaselines`. */
export interface BaselineResult {
  name: string;
  /** chosen hyperparameters and fitted summary (model.params()) */
  params: Record<string, number>;
  val: EvalMetrics;
  test: EvalMetrics;
  /** seconds to fit the chosen configuration on the training ratings */
  fitSeconds: number;
  /** seconds for the whole validation grid */
  tuneSeconds: number;
  /** every grid point with its validation RMSE */
  trials: Array<{ params: Record<string, number>; valRmse: number }>;
}

/**
 * Fit the rating baselines on split.train targets, choose their hyperparameters on split.val, and score them on
 * split.test: global mean, user + item bias, biased MF, and the history-aware `HistoryBlend` and `ItemKnn`
 * (lib/eval/history-baselines.ts; they reuse the chosen bias model and read each target's visible history).
 * HistoryBlend tries windows of seqLen-1 (the BST's history) and of the whole visible history. ItemKnn is left out
 * when the items exceed `knnMaxItems` (its dense similarity tables). `mf` overrides BiasedMF's fixed options
 * (lr, epochs, ...); `seed` seeds it.
 */
export function fitBaselines(opts: {
  interactions: Interactions;
  split: SplitIndex;
  seed?: number;
  grid?: Partial<BaselineGrid>;
  mf?: Partial<BiasedMFOptions>;
  /** the BST's sequence length L (default defaultConfig().seqLen): HistoryBlend tries a window of L-1 */
  seqLen?: number;
  /** default ITEM_KNN_MAX_ITEMS */
  knnMaxItems?: number;
}): BaselineResult[] {
  const { interactions, split } = opts;
  const seed = opts.seed ?? 0;
  const grid = { ...BASELINE_GRID_DEFAULTS, ...opts.grid };
  if (split.test.length === 0) throw new ConfigError('fitBaselines: split has no test targets');
  const train = gatherRatings(interactions, split.train);
  const val = gatherRatings(interactions, split.val);
  const test = gatherRatings(interactions, split.test);

  const results: BaselineResult[] = [];
  const record = <P extends object>(tuned: Tuned<P>) => {
    results.push({
      name: tuned.model.name,
      params: tuned.model.params(),
      val: tuned.val,
      test: evaluateModel(tuned.model, test),
      fitSeconds: tuned.fitSeconds,
      tuneSeconds: tuned.tuneSeconds,
      trials: tuned.trials.map((t) => ({
        params: { ...t.params, ...t.fitted } as Record<string, number>,
        valRmse: t.val.rmse ?? NaN,
      })),
    });
  };
  record(tuneOnValidation({ grid: [{}], make: () => new GlobalMean(), train, val }));
  const bias = tuneOnValidation({
    grid: grid.biasReg.map((reg) => ({ reg })),
    make: (p) => new UserItemBias(p),
    train,
    val,
  });
  record(bias);
  const mfGrid: Array<{ factors: number; reg: number }> = [];
  for (const factors of grid.mfFactors) for (const reg of grid.mfReg) mfGrid.push({ factors, reg });
  record(tuneOnValidation({ grid: mfGrid, make: (p) => new BiasedMF({ ...opts.mf, ...p, seed }), train, val }));

  const base = bias.model as UserItemBias;
  const L = opts.seqLen ?? defaultConfig().seqLen;
  if (!(Number.isInteger(L) && L >= 1)) throw new ConfigError(`fitBaselines: seqLen must be an integer >= 1, got ${L}`);
  const windows = L > 1 ? [L - 1, 0] : [0];
  const blendGrid: Array<{ weight: number; window: number }> = [];
  for (const window of windows) for (const weight of grid.blendWeight) blendGrid.push({ weight, window });
  record(
    tuneOnValidation({ grid: blendGrid, make: (p) => new HistoryBlend({ ...p, interactions, base }), train, val }),
  );
  let numItems = 0;
  for (let k = 0; k < train.item.length; k++) if (train.item[k] + 1 > numItems) numItems = train.item[k] + 1;
  if (numItems <= (opts.knnMaxItems ?? ITEM_KNN_MAX_ITEMS)) {
    const t = Date.now();
    const shared = new ItemKnn({ interactions, base }).fit(train).fitted(); // similarities, shared by the grid
    const simSeconds = (Date.now() - t) / 1000;
    const knnGrid: Array<{ k: number; shrink: number }> = [];
    for (const k of grid.knnK) for (const shrink of grid.knnShrink) knnGrid.push({ k, shrink });
    record(
      tuneOnValidation({ grid: knnGrid, make: (p) => new ItemKnn({ ...p, interactions, ...shared }), train, val }),
    );
    results[results.length - 1].fitSeconds += simSeconds;
    results[results.length - 1].tuneSeconds += simSeconds;
  }
  return results;
}

/** Mean and sample std over seeds of each baseline's validation and test metrics. */
export interface BaselineSummary {
  name: string;
  seeds: number;
  val: Record<string, MeanStd>;
  test: Record<string, MeanStd>;
}

/**
 * Summarise `fitBaselines` runs over seeds (one result array per seed): per baseline, the mean and sample
 * standard deviation of every validation and test metric. Every run must list the same baselines in order.
 */
export function summariseBaselineSeeds(runs: BaselineResult[][]): BaselineSummary[] {
  if (runs.length === 0) throw new ConfigError('summariseBaselineSeeds: no runs');
  const names = runs[0].map((r) => r.name);
  runs.forEach((run, s) => {
    const got = run.map((r) => r.name);
    if (got.join(',') !== names.join(',')) {
      throw new ConfigError(`summariseBaselineSeeds: run ${s} has baselines [${got}] but run 0 has [${names}]`);
    }
  });
  return names.map((name, j) => ({
    name,
    seeds: runs.length,
    val: summariseSeeds(runs.map((run) => run[j].val)),
    test: summariseSeeds(runs.map((run) => run[j].test)),
  }));
}
