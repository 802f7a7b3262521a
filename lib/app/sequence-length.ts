/**
 * The sequence-length study of notebook 05: how much history (L - 1 ratings) helps. Every L trains a fresh BST
 * per seed with early stopping on validation (each L picks its own epoch count), the split held fixed and the
 * seed varying weights, dropout and batch order (experiment.ts `batchOrderSeed`). The rating baselines fitted
 * on the same split give reference lines; `sequenceLengthFindings` states what the sweep shows.
 */
import type { Dataset } from '../data/load';
import type { PreparedData } from '../data/prepare';
import { BaselineGrid, BaselineResult, fitBaselines } from '../eval/fit-baselines';
import { meanStd } from '../model/rating-metrics';
import { DEFAULT_SPLIT, prepareForRun, runExperiment, SplitOptions } from './experiment';
import type { BstConfig } from '../model/config';
import { ConfigError } from '../util/errors';
import { cachedJson } from '../viz/cache';
import { lineFigure, LineSeries } from '../viz/charts';
import { progressBar } from '../viz/display';
import { compareError, Findings, HISTORY_BASELINES, MetricValue, strongestBaseline } from '../viz/findings';
import type { Figure } from '../viz/plotly';

/** One (L, seed) run of the sweep. */
export interface SequenceLengthRun {
  L: number;
  seed: number;
  testMAE: number;
  testRMSE: number;
  valRMSE: number;
  /** epochs trained (early stopping) and the best one (1-based), whose weights were scored */
  epochsRun: number;
  bestEpoch: number;
  trainSeconds: number;
  cached: boolean;
}

/** Options of `sweepSequenceLengths`. */
export interface SweepOptions {
  dataset: Dataset;
  seqLens: number[];
  /** model seeds: weights, dropout and batch order (the split stays fixed) */
  seeds: number[];
  /** BstConfig overrides shared by every run (seqLen, seed, epochs and patience are set per run) */
  config?: Partial<BstConfig>;
  /** upper bound of epochs; early stopping on the validation loss ends most runs sooner */
  maxEpochs: number;
  /** epochs without validation improvement before stopping (>= 1) */
  patience: number;
  split?: Partial<SplitOptions>;
  workers?: number;
  /** cache folder (lib/viz cachedJson): finished runs are reused, keyed by their full configuration */
  cacheDir?: string;
  /** progress display (count, time left); default true */
  progress?: boolean;
}

function checkLengths(seqLens: number[], seeds: number[]): void {
  if (seqLens.length === 0 || seqLens.some((L) => !(Number.isInteger(L) && L >= 1)))
    throw new ConfigError(`seqLens must be integers >= 1, got [${seqLens}]`);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s)))
    throw new ConfigError(`seeds must be integers, got [${seeds}]`);
}

/**
 * Train and score one BST per (L, seed) with early stopping on validation; the split is prepared once per L
 * and shared by its seeds. Shows one progress line (runs done, time left, the last result).
 */
export async function sweepSequenceLengths(o: SweepOptions): Promise<SequenceLengthRun[]> {
  checkLengths(o.seqLens, o.seeds);
  if (!(Number.isInteger(o.maxEpochs) && o.maxEpochs >= 1))
    throw new ConfigError(`maxEpochs must be an integer >= 1, got ${o.maxEpochs}`);
  if (!(Number.isInteger(o.patience) && o.patience >= 1))
    throw new ConfigError(`patience must be an integer >= 1 (early stopping per L), got ${o.patience}`);
  const split: SplitOptions = { ...DEFAULT_SPLIT, ...(o.split ?? {}) };
  const total = o.seqLens.length * o.seeds.length;
  const bar = o.progress === false ? null : progressBar({ total, label: `sequence-length sweep (${total} runs)` });
  const runs: SequenceLengthRun[] = [];
  for (const L of o.seqLens) {
    let data: PreparedData | undefined;
    for (const seed of o.seeds) {
      const config: Partial<BstConfig> = {
        ...(o.config ?? {}),
        seqLen: L,
        epochs: o.maxEpochs,
        patience: o.patience,
        seed,
      };
      const key = {
        study: 'sequence-length',
        dataset: o.dataset.release,
        ratings: o.dataset.ratings.numRows(),
        split,
        config,
      };
      const compute = async () => {
        data = data ?? prepareForRun(o.dataset, split, L, { log: null });
        const r = await runExperiment({
          dataset: o.dataset,
          data,
          split,
          config,
          log: null,
          progress: false,
          workers: o.workers,
        });
        return {
          testMAE: r.test.mae!,
          testRMSE: r.test.rmse!,
          valRMSE: r.val.rmse!,
          epochsRun: r.training.history.length,
          bestEpoch: r.training.bestEpoch + 1,
          trainSeconds: r.trainSeconds,
        };
      };
      const got = o.cacheDir ? await cachedJson(o.cacheDir, key, compute) : { value: await compute(), cached: false };
      const run: SequenceLengthRun = { L, seed, ...got.value, cached: got.cached };
      runs.push(run);
      bar?.update(
        runs.length,
        `L=${L} seed=${seed}: test RMSE ${run.testRMSE.toFixed(4)}, ${run.epochsRun} epoch(s)${run.cached ? ' (cached)' : ''}`,
      );
    }
  }
  bar?.finish();
  return runs;
}

/** Per L: mean and sample std over seeds. */
export interface SequenceLengthSummary {
  L: number;
  seeds: number;
  testRMSE: number;
  testRMSEStd: number;
  testMAE: number;
  testMAEStd: number;
  epochs: number;
  /** runs that early stopping ended before their epoch budget (the others were still improving at the cap) */
  stoppedEarly: number;
  trainSeconds: number;
}

/** Mean and sample std (NaN with one seed) of each L's runs, in order of first appearance. */
export function summariseByL(runs: SequenceLengthRun[]): SequenceLengthSummary[] {
  const Ls = [...new Set(runs.map((r) => r.L))];
  return Ls.map((L) => {
    const rs = runs.filter((r) => r.L === L);
    const rmse = meanStd(rs.map((r) => r.testRMSE));
    const mae = meanStd(rs.map((r) => r.testMAE));
    return {
      L,
      seeds: rs.length,
      testRMSE: rmse.mean,
      testRMSEStd: rmse.std,
      testMAE: mae.mean,
      testMAEStd: mae.std,
      epochs: meanStd(rs.map((r) => r.epochsRun)).mean,
      stoppedEarly: rs.filter((r) => r.bestEpoch < r.epochsRun).length,
      trainSeconds: meanStd(rs.map((r) => r.trainSeconds)).mean,
    };
  });
}

/** A horizontal reference line: a baseline's test error on the same split. */
export interface ReferenceLine {
  name: string;
  testRMSE: number;
  testMAE: number;
}

/**
 * The reference lines of the study: `user-item-bias` (no history) and the history-aware baseline with the
 * lowest validation RMSE, fitted on the split of the longest L (the test targets are the same for every L
 * under leave-last-k; HistoryBlend tries a window of L - 1 and the whole history).
 */
export function sequenceLengthReferences(o: {
  dataset: Dataset;
  seqLen: number;
  split?: Partial<SplitOptions>;
  seed?: number;
  grid?: Partial<BaselineGrid>;
}): { lines: ReferenceLine[]; baselines: BaselineResult[] } {
  const split: SplitOptions = { ...DEFAULT_SPLIT, ...(o.split ?? {}) };
  const data = prepareForRun(o.dataset, split, o.seqLen, { log: null });
  const baselines = fitBaselines({
    interactions: data.interactions,
    split: data.split,
    seed: o.seed ?? split.seed,
    seqLen: o.seqLen,
    grid: o.grid,
  });
  const picks = [strongestBaseline(baselines, ['user-item-bias']), strongestBaseline(baselines, HISTORY_BASELINES)];
  return {
    lines: picks.map((b) => ({ name: b.name, testRMSE: b.test.rmse ?? NaN, testMAE: b.test.mae ?? NaN })),
    baselines,
  };
}

/** Test RMSE (mean ± std over seeds) against L, with each reference as a dashed horizontal line. */
export function sequenceLengthFigure(
  byL: SequenceLengthSummary[],
  refs: ReferenceLine[],
  opts: { title?: string } = {},
): Figure {
  const xs = byL.map((r) => r.L);
  const zero = (v: number) => (Number.isFinite(v) ? v : 0);
  const series: LineSeries[] = [
    {
      name: `BST test RMSE (mean ± std over ${Math.min(...byL.map((r) => r.seeds))}+ seeds)`,
      x: xs,
      y: byL.map((r) => r.testRMSE),
      error: byL.map((r) => zero(r.testRMSEStd)),
    },
    ...refs.map((ref, j) => ({
      name: `${ref.name} (test RMSE)`,
      x: [Math.min(...xs), Math.max(...xs)],
      y: [ref.testRMSE, ref.testRMSE],
      mode: 'lines',
      dash: j === 0 ? 'dash' : 'dot',
    })),
  ];
  return lineFigure(series, {
    title: opts.title ?? 'Test RMSE against sequence length L (lower is better)',
    yTitle: 'test RMSE',
    layout: { xaxis: { title: { text: 'L (1 = no history)' }, tickvals: xs } },
  });
}

/** 05's conclusion: the best L, whether its gain over the shortest L exceeds seed noise, and the baselines. */
export function sequenceLengthFindings(byL: SequenceLengthSummary[], refs: ReferenceLine[], dataset: string): Findings {
  if (byL.length === 0) throw new ConfigError('sequenceLengthFindings: no runs');
  const shortest = byL.reduce((a, b) => (b.L < a.L ? b : a));
  const best = byL.reduce((a, b) => (b.testRMSE < a.testRMSE ? b : a));
  const sd = (v: number) => (Number.isFinite(v) ? v : 0);
  const noise = Math.sqrt(sd(best.testRMSEStd) ** 2 + sd(shortest.testRMSEStd) ** 2);
  const gain = shortest.testRMSE - best.testRMSE;
  const beyondNoise = best !== shortest && gain > noise;
  const epochs = byL.map((r) => r.epochs);
  const runs = byL.reduce((a, r) => a + r.seeds, 0);
  const stopped = byL.reduce((a, r) => a + r.stoppedEarly, 0);
  const capped = byL.filter((r) => r.stoppedEarly < r.seeds).map((r) => r.L);
  const bullets = [
    best === shortest
      ? `**No history length beat L = ${shortest.L}** on ${dataset}: its mean test RMSE ${shortest.testRMSE.toFixed(4)} is the lowest of L = ${byL.map((r) => r.L).join(', ')}.`
      : `**Best L = ${best.L}**: mean test RMSE ${best.testRMSE.toFixed(4)} ± ${sd(best.testRMSEStd).toFixed(4)} against ${shortest.testRMSE.toFixed(4)} ± ${sd(shortest.testRMSEStd).toFixed(4)} at L = ${shortest.L}, ` +
        (beyondNoise
          ? `a gain of ${gain.toFixed(4)}, larger than the seed-to-seed spread (${noise.toFixed(4)}).`
          : `a gain of ${gain.toFixed(4)} that is **within** the seed-to-seed spread (${noise.toFixed(4)}): not a reliable difference.`),
    `**Early stopping** ended ${stopped} of ${runs} runs before their epoch budget (${Math.min(...epochs).toFixed(1)} to ${Math.max(...epochs).toFixed(1)} epochs on average per L)` +
      (capped.length
        ? `; runs at L = ${capped.join(', ')} were still improving at the cap, so a larger \`maxEpochs\` may lower their error further.`
        : ', so each L trained to its own best epoch.'),
    ...refs.map(
      (ref) =>
        `Against \`${ref.name}\` on the same test targets, the best L ${compareError(best.testRMSE, ref.testRMSE).text} in RMSE.`,
    ),
  ];
  const metrics: Record<string, MetricValue> = {
    bestL: best.L,
    bestTestRmse: best.testRMSE,
    shortestL: shortest.L,
    shortestTestRmse: shortest.testRMSE,
    gainOverShortest: gain,
    gainBeyondNoise: beyondNoise,
    seeds: Math.min(...byL.map((r) => r.seeds)),
    stoppedEarlyShare: stopped / runs,
    lengths: byL.length,
  };
  for (const ref of refs) metrics[`${ref.name}.testRmse`] = ref.testRMSE;
  return { notebook: '05_sequence_length', dataset, bullets, metrics };
}
