/**
 * `bst benchmark`: the BST and the rating baselines trained on the same training targets, chosen on the same
 * validation targets and scored once on the same test targets, over several seeds. Writes a JSON record and
 * a Markdown table. The headline protocol is leave-last-k (leak-free); legacy-random-windows is run only to
 * compare with published numbers and is labelled leaky everywhere it appears.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Dataset, PreparedData } from '../data/index';
import { BaselineResult, fitBaselines } from '../eval/index';
import { MeanStd, meanStd, ratingMetrics, EvalMetrics } from '../model/index';
import { BstConfig, LossKind, meanPredictions, predict, resolveConfig } from '../model/index';
import { prepareForRun, runExperiment, SplitOptions, versions } from './experiment';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/files';

/** Where `bst tune` writes the chosen config (committed; the benchmark's default). */
export const TUNED_CONFIG_FILE = path.join(__dirname, '..', 'model', 'tuned-config.json');

/** The BST config the benchmark uses unless told otherwise: chosen by `bst tune` on validation only. */
export function tunedBstConfig(): BstConfig {
  return resolveConfig(readJson<{ config: Partial<BstConfig> }>(TUNED_CONFIG_FILE).config);
}

/** One protocol of a benchmark. */
export interface BenchmarkProtocol {
  split: SplitOptions;
  /** BST sequence length for this protocol (the legacy protocol's window length is part of the protocol). */
  seqLen?: number;
}

/** The two protocols: leave-last-k with k=5 (headline), and the Keras example's windows (L=4, step 2; leaky). */
export const BENCHMARK_PROTOCOLS: BenchmarkProtocol[] = [
  { split: { protocol: 'leave-last-k', k: 5, step: 2, seed: 42 } },
  { split: { protocol: 'legacy-random-windows', k: 1, step: 2, seed: 42 }, seqLen: 4 },
];

export interface BenchmarkOptions {
  dataset: Dataset;
  protocols?: BenchmarkProtocol[];
  /** Model seeds (the split stays fixed so every model is scored on the same test targets). Default [1, 2, 3]. */
  seeds?: number[];
  /** BST config overrides on top of the tuned config. */
  config?: Partial<BstConfig>;
  /** Training objectives: the BST is trained once per objective per seed. Default: the config's loss. */
  losses?: LossKind[];
  /** Output folder: benchmark.json, benchmark.md and one run folder per BST seed. */
  outDir?: string;
  log?: (line: string) => void;
  progress?: boolean;
}

/** A model's scores over seeds. */
export interface ModelScores {
  name: string;
  leaky: boolean;
  /** BST rows: the training objective */
  loss?: LossKind;
  /** ensemble rows: the seeds whose models' predictions are averaged (perSeed then holds one entry, seed -1) */
  ensembleOf?: number[];
  perSeed: Array<{
    seed: number;
    test: EvalMetrics;
    val: EvalMetrics;
    trainSeconds: number;
    samplesPerSec?: number;
    params?: Record<string, number>;
  }>;
  test: Record<'mae' | 'rmse' | 'aucLiked' | 'within05', MeanStd>;
  trainSeconds: MeanStd;
}

export interface ProtocolResult {
  split: SplitOptions;
  seqLen: number;
  leaky: boolean;
  counts: PreparedData['counts'];
  models: ModelScores[];
}

export interface BenchmarkResult {
  dataset: string;
  seeds: number[];
  /** the BST's training objectives, one BST row and one ensemble row each */
  losses: LossKind[];
  config: BstConfig;
  backend: string;
  versions: Record<string, string>;
  protocols: ProtocolResult[];
  seconds: number;
  finishedAt: string;
}

function summarise(
  name: string,
  leaky: boolean,
  perSeed: ModelScores['perSeed'],
  extra: Pick<ModelScores, 'loss' | 'ensembleOf'> = {},
): ModelScores {
  const pick = (k: keyof EvalMetrics) => meanStd(perSeed.map((s) => s.test[k] ?? NaN));
  return {
    name,
    leaky,
    ...extra,
    perSeed,
    test: { mae: pick('mae'), rmse: pick('rmse'), aucLiked: pick('aucLiked'), within05: pick('within05') },
    trainSeconds: meanStd(perSeed.map((s) => s.trainSeconds)),
  };
}

function truthOf(data: PreparedData, which: 'val' | 'test'): Float32Array {
  const pos = data.positions(which);
  const out = new Float32Array(pos.length);
  for (let i = 0; i < pos.length; i++) out[i] = data.interactions.rating[pos[i]];
  return out;
}

/** Run the benchmark. */
export async function runBenchmark(o: BenchmarkOptions): Promise<BenchmarkResult> {
  const t0 = Date.now();
  const log = o.log ?? ((l: string) => console.log(l));
  const seeds = o.seeds ?? [1, 2, 3];
  const base = resolveConfig({ ...tunedBstConfig(), ...(o.config ?? {}) });
  const losses = o.losses ?? [base.loss];
  for (const loss of losses) resolveConfig({ ...base, loss }); // an unknown objective fails before any training
  const protocols: ProtocolResult[] = [];
  for (const p of o.protocols ?? BENCHMARK_PROTOCOLS) {
    const seqLen = p.seqLen ?? base.seqLen;
    const data = prepareForRun(o.dataset, p.split, seqLen, { log });
    const leaky = data.counts.leaky;
    const tag = `${p.split.protocol}${p.split.protocol === 'leave-last-k' ? ` k=${p.split.k}` : ` L=${seqLen} step=${p.split.step}`}`;
    log(`benchmark: ${tag}${leaky ? ' (LEAKY: for comparison with published numbers only)' : ''}`);

    const baselineRuns: BaselineResult[][] = seeds.map((seed) =>
      fitBaselines({ interactions: data.interactions, split: data.split, seed, seqLen }),
    );
    const models: ModelScores[] = baselineRuns[0].map((first, j) =>
      summarise(
        first.name,
        leaky,
        baselineRuns.map((run, s) => ({
          seed: seeds[s],
          test: run[j].test,
          val: run[j].val,
          trainSeconds: run[j].fitSeconds + run[j].tuneSeconds,
          params: run[j].params,
        })),
      ),
    );
    for (const m of models) log(`  ${m.name}: test MAE ${fmt(m.test.mae)} RMSE ${fmt(m.test.rmse)}`);

    const truthVal = truthOf(data, 'val');
    const truthTest = truthOf(data, 'test');
    for (const loss of losses) {
      const bstRuns: ModelScores['perSeed'] = [];
      const valPreds: Float32Array[] = [];
      const testPreds: Float32Array[] = [];
      for (const seed of seeds) {
        const r = await runExperiment({
          dataset: o.dataset,
          data,
          split: { ...p.split },
          config: { ...base, seqLen, seed, loss },
          outDir: o.outDir ? path.join(o.outDir, 'runs', `${p.split.protocol}-${loss}-seed${seed}`) : undefined,
          log: null,
          progress: o.progress ?? false,
        });
        valPreds.push(predict(r.model, data.batches('val', { batchSize: 1024 })));
        testPreds.push(predict(r.model, data.batches('test', { batchSize: 1024 })));
        const val = ratingMetrics(valPreds[valPreds.length - 1], truthVal);
        const test = ratingMetrics(testPreds[testPreds.length - 1], truthTest);
        r.model.net.dispose();
        bstRuns.push({ seed, test, val, trainSeconds: r.trainSeconds, samplesPerSec: r.trainSamplesPerSec });
        log(
          `  BST loss ${loss} seed ${seed}: test MAE ${(test.mae ?? NaN).toFixed(4)} RMSE ${(test.rmse ?? NaN).toFixed(4)} (best epoch ${r.metrics.bestEpoch}, ${r.trainSeconds.toFixed(0)} s, ${r.trainSamplesPerSec.toFixed(0)} samples/s)`,
        );
      }
      models.push(summarise(bstName(loss), leaky, bstRuns, { loss }));
      const ens = {
        seed: -1,
        val: ratingMetrics(meanPredictions(valPreds), truthVal),
        test: ratingMetrics(meanPredictions(testPreds), truthTest),
        trainSeconds: bstRuns.reduce((a, r) => a + r.trainSeconds, 0),
      };
      models.push(summarise(ensembleName(loss, seeds.length), leaky, [ens], { loss, ensembleOf: [...seeds] }));
      log(
        `  ${ensembleName(loss, seeds.length)}: test MAE ${(ens.test.mae ?? NaN).toFixed(4)} RMSE ${(ens.test.rmse ?? NaN).toFixed(4)}`,
      );
    }
    protocols.push({ split: p.split, seqLen, leaky, counts: data.counts, models });
  }
  const result: BenchmarkResult = {
    dataset: o.dataset.release,
    seeds,
    losses,
    config: base,
    backend: tf.getBackend(),
    versions: versions(),
    protocols,
    seconds: (Date.now() - t0) / 1000,
    finishedAt: new Date().toISOString(),
  };
  if (o.outDir) {
    writeJsonAtomic(path.join(o.outDir, 'benchmark.json'), result);
    writeFileAtomic(path.join(o.outDir, 'benchmark.md'), benchmarkMarkdown(result));
  }
  return result;
}

/** The benchmark row name of the BST trained on `loss`. */
export function bstName(loss: LossKind): string {
  return `BST (loss ${loss})`;
}

/** The benchmark row name of the seed ensemble of the BST trained on `loss`. */
export function ensembleName(loss: LossKind, members: number): string {
  return `BST ensemble (mean of ${members} seeds, loss ${loss})`;
}

function fmt(m: MeanStd, digits = 4): string {
  return Number.isFinite(m.std) ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}

/**
 * The benchmark as Markdown tables, one per protocol: mean ± sample std over seeds and each seed's value
 * (ensemble rows: one model, the mean of the seeds' predictions, so no spread).
 */
export function benchmarkMarkdown(r: BenchmarkResult): string {
  const out: string[] = [];
  for (const p of r.protocols) {
    const c = p.counts;
    const title =
      p.split.protocol === 'leave-last-k'
        ? `${r.dataset}, leave-last-k (k=${p.split.k}), L=${p.seqLen}: leak-free`
        : `${r.dataset}, legacy random windows (L=${p.seqLen}, step ${p.split.step}, 85/15): LEAKY, for comparison with published numbers only`;
    out.push(`#### ${title}`, '');
    out.push(
      `Targets: ${c.train} train, ${c.val} validation, ${c.test} test (${c.users} users). Mean ± std over seeds ${r.seeds.join(', ')}` +
        ' (a seed varies the weights, dropout and batch order; the split is fixed).',
      '',
    );
    out.push(
      '| model | test MAE | test RMSE | AUC (liked = rating ≥ 4) | within 0.5 | train time (s) | test MAE per seed | test RMSE per seed |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const m of p.models) {
      const perSeed = (k: 'mae' | 'rmse') =>
        m.ensembleOf
          ? `(ensemble of ${m.ensembleOf.join(', ')})`
          : m.perSeed.map((s) => (s.test[k] ?? NaN).toFixed(4)).join(' / ');
      out.push(
        `| ${m.name} | ${fmt(m.test.mae)} | ${fmt(m.test.rmse)} | ${fmt(m.test.aucLiked, 3)} | ${fmt(m.test.within05, 3)} | ${m.trainSeconds.mean.toFixed(1)} | ${perSeed('mae')} | ${perSeed('rmse')} |`,
      );
    }
    out.push('');
  }
  const sps = r.protocols.flatMap((p) =>
    p.models
      .filter((m) => m.loss !== undefined && !m.ensembleOf)
      .flatMap((m) => m.perSeed.map((s) => s.samplesPerSec ?? 0)),
  );
  out.push(
    `Backend ${r.backend}, tfjs ${r.versions.tfjs}, Node ${r.versions.node}; BST training ${Math.round(sps.reduce((a, b) => a + b, 0) / Math.max(1, sps.length))} samples/s; whole benchmark ${(r.seconds / 60).toFixed(1)} min.`,
  );
  return out.join('\n') + '\n';
}
