/**
 * `bst benchmark`: the BST and the rating baselines trained on the same training targets, chosen on the same
 * validation targets and scored once on the same test targets, over several seeds. Writes a JSON record and
 * a Markdown table. The headline protocol is leave-last-k (leak-free); legacy-random-windows is run only to
 * compare with published numbers and is labelled leaky everywhere it appears.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Dataset, PreparedData } from './data/index';
import { BaselineResult, fitBaselines, MeanStd, meanStd, ratingMetrics, RatingMetrics } from './eval/index';
import { BstConfig, predict, resolveConfig } from './model/index';
import { prepareForRun, runExperiment, SplitOptions, versions } from './experiment';
import { readJson, writeFileAtomic, writeJsonAtomic } from './util/files';

/** Where `bst tune` writes the chosen config (committed; the benchmark's default). */
export const TUNED_CONFIG_FILE = path.join(__dirname, 'model', 'tuned-config.json');

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
  /** Output folder: benchmark.json, benchmark.md and one run folder per BST seed. */
  outDir?: string;
  log?: (line: string) => void;
  progress?: boolean;
}

/** A model's scores over seeds. */
export interface ModelScores {
  name: string;
  leaky: boolean;
  perSeed: Array<{ seed: number; test: RatingMetrics; val: RatingMetrics; trainSeconds: number; samplesPerSec?: number; params?: Record<string, number> }>;
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
  config: BstConfig;
  backend: string;
  versions: Record<string, string>;
  protocols: ProtocolResult[];
  seconds: number;
  finishedAt: string;
}

function summarise(name: string, leaky: boolean, perSeed: ModelScores['perSeed']): ModelScores {
  const pick = (k: keyof RatingMetrics) => meanStd(perSeed.map((s) => s.test[k]));
  return {
    name,
    leaky,
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
  const protocols: ProtocolResult[] = [];
  for (const p of o.protocols ?? BENCHMARK_PROTOCOLS) {
    const seqLen = p.seqLen ?? base.seqLen;
    const data = prepareForRun(o.dataset, p.split, seqLen, { log });
    const leaky = data.counts.leaky;
    const tag = `${p.split.protocol}${p.split.protocol === 'leave-last-k' ? ` k=${p.split.k}` : ` L=${seqLen} step=${p.split.step}`}`;
    log(`benchmark: ${tag}${leaky ? ' (LEAKY: for comparison with published numbers only)' : ''}`);

    const baselineRuns: BaselineResult[][] = seeds.map((seed) => fitBaselines({ interactions: data.interactions, split: data.split, seed, seqLen }));
    const models: ModelScores[] = baselineRuns[0].map((first, j) =>
      summarise(first.name, leaky, baselineRuns.map((run, s) => ({
        seed: seeds[s], test: run[j].test, val: run[j].val, trainSeconds: run[j].fitSeconds + run[j].tuneSeconds, params: run[j].params,
      }))),
    );
    for (const m of models) log(`  ${m.name}: test MAE ${fmt(m.test.mae)} RMSE ${fmt(m.test.rmse)}`);

    const truthVal = truthOf(data, 'val');
    const truthTest = truthOf(data, 'test');
    const bstRuns: ModelScores['perSeed'] = [];
    for (const seed of seeds) {
      const r = await runExperiment({
        dataset: o.dataset,
        data,
        split: { ...p.split },
        config: { ...base, seqLen, seed },
        outDir: o.outDir ? path.join(o.outDir, 'runs', `${p.split.protocol}-seed${seed}`) : undefined,
        log: null,
        progress: o.progress ?? false,
      });
      const val = ratingMetrics(predict(r.model, data.batches('val', { batchSize: 1024 })), truthVal);
      const test = ratingMetrics(predict(r.model, data.batches('test', { batchSize: 1024 })), truthTest);
      r.model.net.dispose();
      bstRuns.push({ seed, test, val, trainSeconds: r.trainSeconds, samplesPerSec: r.trainSamplesPerSec });
      log(`  BST seed ${seed}: test MAE ${test.mae.toFixed(4)} RMSE ${test.rmse.toFixed(4)} (best epoch ${r.metrics.bestEpoch}, ${r.trainSeconds.toFixed(0)} s, ${r.trainSamplesPerSec.toFixed(0)} samples/s)`);
    }
    models.push(summarise('BST', leaky, bstRuns));
    protocols.push({ split: p.split, seqLen, leaky, counts: data.counts, models });
  }
  const result: BenchmarkResult = {
    dataset: o.dataset.release,
    seeds,
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

function fmt(m: MeanStd, digits = 4): string {
  return Number.isFinite(m.std) ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}

/** The benchmark as Markdown tables, one per protocol (mean ± sample std over seeds). */
export function benchmarkMarkdown(r: BenchmarkResult): string {
  const out: string[] = [];
  for (const p of r.protocols) {
    const c = p.counts;
    const title = p.split.protocol === 'leave-last-k'
      ? `${r.dataset}, leave-last-k (k=${p.split.k}), L=${p.seqLen}: leak-free`
      : `${r.dataset}, legacy random windows (L=${p.seqLen}, step ${p.split.step}, 85/15): LEAKY, for comparison with published numbers only`;
    out.push(`#### ${title}`, '');
    out.push(`Targets: ${c.train} train, ${c.val} validation, ${c.test} test (${c.users} users). Mean ± std over seeds ${r.seeds.join(', ')}.`, '');
    out.push('| model | test MAE | test RMSE | AUC (liked = rating ≥ 4) | within 0.5 | train time (s) |', '|---|---|---|---|---|---|');
    for (const m of p.models) {
      out.push(`| ${m.name} | ${fmt(m.test.mae)} | ${fmt(m.test.rmse)} | ${fmt(m.test.aucLiked, 3)} | ${fmt(m.test.within05, 3)} | ${m.trainSeconds.mean.toFixed(1)} |`);
    }
    out.push('');
  }
  const sps = r.protocols.flatMap((p) => p.models.filter((m) => m.name === 'BST').flatMap((m) => m.perSeed.map((s) => s.samplesPerSec ?? 0)));
  out.push(`Backend ${r.backend}, tfjs ${r.versions.tfjs}, Node ${r.versions.node}; BST training ${Math.round(sps.reduce((a, b) => a + b, 0) / Math.max(1, sps.length))} samples/s; whole benchmark ${(r.seconds / 60).toFixed(1)} min.`);
  return out.join('\n') + '\n';
}
