/**
 * Training and inference throughput of the BST on synthetic data shaped like MovieLens-1M
 * (item vocab 3,707 x 64, 6,041 users, 1 block with 4 heads, MLP 256-128, batch 256), for L in {4, 8, 20}.
 * Prints training samples/s, inference samples/s and peak RSS per (backend, L). No assertions.
 *
 *   npm run bench:train                       # = npx tsx bench/train.ts
 *   BENCH_BACKENDS=wasm BENCH_LENS=8 BENCH_PROFILE=1 npx tsx bench/train.ts   # + kernel profile of one step
 *   BENCH_FEATURES=items ...                  # item sequence + position only (no user/side features)
 *   BENCH_FIXES=0 ...                         # stock kernels (wasm then fails: no UnsortedSegmentSum)
 *   BENCH_FFN_MULT=1 ...                      # feed-forward width 1x instead of 4x the transformer width
 *
 * Target: >= 2,600 training samples/s at L=8 on wasm (the prototype's number, docs/TOOLCHAIN.md).
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernelFixes, uninstallKernelFixes } from '../lib/kernels';
import { buildBst, BstConfig, makeOptimizer, syntheticSamples, trainStep, forward } from '../lib/model';
import { FeatureSizes, Samples } from '../lib/data/types';

/** ML-1M-like vocabularies (counts + 1 padding slot). */
const ML1M_SIZES: FeatureSizes = {
  numUsers: 6041,
  numItems: 3707,
  numGenres: 18,
  numYears: 82,
  numGenders: 3,
  numAges: 8,
  numOccupations: 22,
  numZips: 3440,
};

const env = (k: string, d: string) => process.env[k] ?? d;
const BACKENDS = env('BENCH_BACKENDS', 'wasm,cpu').split(',').map((s) => s.trim()).filter(Boolean);
const LENS = env('BENCH_LENS', '4,8,20').split(',').map(Number);
const BATCH = Number(env('BENCH_BATCH', '256'));
const FEATURES = env('BENCH_FEATURES', 'full'); // 'full' | 'items'
const FIXES = env('BENCH_FIXES', '1') !== '0';
const PROFILE = env('BENCH_PROFILE', '0') === '1';
/** timed training steps per backend (cpu is ~20x slower: few steps) */
const STEPS: Record<string, number> = { wasm: Number(env('BENCH_STEPS', '30')), cpu: Number(env('BENCH_CPU_STEPS', '3')) };
const FFN_MULT = Number(env('BENCH_FFN_MULT', '4')); // feed-forward width = FFN_MULT x transformer width
const TARGET = 2600;

function benchConfig(L: number): Partial<BstConfig> {
  const side = FEATURES !== 'items';
  return {
    seqLen: L,
    embedDim: 64,
    posDim: 8,
    ratingDim: 8,
    numHeads: 4,
    numBlocks: 1,
    ffnMult: FFN_MULT,
    mlpUnits: [256, 128],
    batchSize: BATCH,
    useHistoryRatings: side,
    useUserId: side,
    useDemographics: side,
    useGenres: side,
    useYear: side,
    seed: 1,
  };
}

/** This process's CPU time (user + system) in seconds. With other processes on the cores, samples per CPU-second
 * approximates what an idle machine gives (wasm runs on one thread). */
function cpuSec(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Peak resident set size so far (VmHWM from /proc, else the largest sampled rss), in MB. */
let sampledPeak = 0;
function sampleRss(): void {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
}
function peakRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return sampledPeak / 2 ** 20;
}

/** Kernel counts and time of one training step, largest first. */
async function profileStep(run: () => void): Promise<void> {
  const info = await tf.profile(() => {
    run();
  });
  const agg = new Map<string, { n: number; ms: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const a = agg.get(k.name) ?? { n: 0, ms: 0 };
    a.n += 1;
    a.ms += Number(k.kernelTimeMs) || 0;
    total += Number(k.kernelTimeMs) || 0;
    agg.set(k.name, a);
  }
  const rows = [...agg.entries()].sort((x, y) => y[1].ms - x[1].ms);
  console.log(`    profile of one step: ${info.kernels.length} kernels, ${total.toFixed(1)} ms in kernels`);
  for (const [name, a] of rows.slice(0, 15)) {
    console.log(`      ${name.padEnd(24)} x${String(a.n).padStart(4)}  ${a.ms.toFixed(2).padStart(8)} ms`);
  }
  const mm = info.kernels
    .filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul')
    .sort((x, y) => Number(y.kernelTimeMs) - Number(x.kernelTimeMs));
  console.log(`    largest matmuls (inputs; transpose flags are not recorded by tf.profile):`);
  for (const k of mm.slice(0, 10)) {
    console.log(`      ${k.name.padEnd(12)} ${k.inputShapes.map((sh) => `[${sh}]`).join(' x ').padEnd(40)} ${Number(k.kernelTimeMs).toFixed(2).padStart(7)} ms`);
  }
}

async function benchOne(backendName: string, L: number): Promise<void> {
  const model = buildBst(benchConfig(L), ML1M_SIZES);
  const optimizer = makeOptimizer(model.config);
  const vars = model.net.trainableWeights.map((w) => w.read() as tf.Variable);
  const batches: Samples[] = Array.from({ length: 4 }, (_, i) => syntheticSamples({ n: BATCH, seqLen: L, sizes: ML1M_SIZES, seed: 10 + i }));
  const steps = STEPS[backendName] ?? 3;
  for (let i = 0; i < 2; i++) trainStep(model, optimizer, batches[i % batches.length], vars); // warm-up (+ Adam slots)
  sampleRss();
  const c0 = cpuSec();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    trainStep(model, optimizer, batches[i % batches.length], vars);
    sampleRss();
  }
  const trainSec = (performance.now() - t0) / 1000;
  const trainCpu = cpuSec() - c0;
  const infer = () => tf.tidy(() => forward(model, batches[0], false).dataSync());
  infer();
  const inferSteps = Math.max(3, steps);
  const c1 = cpuSec();
  const t1 = performance.now();
  for (let i = 0; i < inferSteps; i++) {
    infer();
    sampleRss();
  }
  const inferSec = (performance.now() - t1) / 1000;
  const inferCpu = cpuSec() - c1;
  const trainRate = (steps * BATCH) / trainSec;
  const params = model.net.countParams();
  console.log(
    `  ${backendName.padEnd(5)} L=${String(L).padEnd(3)} params ${params.toLocaleString('en-US').padStart(9)}  ` +
      `train ${trainRate.toFixed(0).padStart(6)} samples/s (${((trainSec * 1000) / steps).toFixed(1)} ms/step, ${steps} steps; ` +
      `${((steps * BATCH) / trainCpu).toFixed(0)} per CPU-s)  ` +
      `infer ${((inferSteps * BATCH) / inferSec).toFixed(0).padStart(6)} samples/s (${((inferSteps * BATCH) / inferCpu).toFixed(0)} per CPU-s)  ` +
      `peak RSS ${peakRssMb().toFixed(0)} MB  tensors ${tf.memory().numTensors}`,
  );
  const cpuRate = (steps * BATCH) / trainCpu;
  if (PROFILE || (backendName === 'wasm' && L === 8 && Math.max(trainRate, cpuRate) < TARGET)) {
    if (!PROFILE) console.log(`    below the ${TARGET} samples/s target at L=8: profiling one step`);
    await profileStep(() => trainStep(model, optimizer, batches[0], vars));
  }
  optimizer.dispose();
  model.net.dispose();
}

async function main(): Promise<void> {
  console.log(
    `BST training benchmark: ML-1M-like sizes, features=${FEATURES}, ffnMult ${FFN_MULT}, batch ${BATCH}, kernel fixes ${FIXES ? 'on' : 'off'}, ` +
      `node ${process.version}`,
  );
  for (const b of BACKENDS) {
    await tf.setBackend(b);
    await tf.ready();
    const fixes = FIXES ? installKernelFixes(b) : (uninstallKernelFixes(b), []);
    console.log(`backend ${b}: fixes [${fixes.join(', ')}]`);
    for (const L of b === 'cpu' ? LENS.filter((l) => l === 8).concat(LENS.includes(8) ? [] : LENS.slice(0, 1)) : LENS) {
      try {
        await benchOne(b, L);
      } catch (e) {
        console.log(`  ${b} L=${L}: failed: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
