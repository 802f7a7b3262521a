/**
 * Time per op before/after each kernel fix of lib/kernels, on shapes like the prototype BST
 * (item vocab 3,700 x 64, batch 256 x L 8, 4 heads of 16). Prints numbers only.
 *
 *   npx tsx bench/kernels.ts            # wasm and cpu
 *   BENCH_BACKENDS=wasm npx tsx bench/kernels.ts
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernelFixes, uninstallKernelFixes } from '../lib/kernels';

const VOCAB = Number(process.env.BENCH_VOCAB ?? 3700);
const DIM = Number(process.env.BENCH_DIM ?? 64);
const BATCH = Number(process.env.BENCH_BATCH ?? 256);
const LEN = Number(process.env.BENCH_LEN ?? 8);
const HEADS = 4;
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 1500); // per measurement

/** This process's CPU time (user + system) in ms: robust to other processes sharing the cores. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Time of one call. */
interface Timing {
  wall: number;
  cpu: number;
}

/** Mean wall and CPU ms per call of fn (tensors it returns are disposed), after one warm-up, within a time budget. */
function timeIt(fn: () => tf.Tensor | tf.Tensor[]): Timing {
  const run = () => tf.dispose(fn());
  const w0 = performance.now();
  run();
  const once = performance.now() - w0;
  const reps = Math.max(1, Math.min(200, Math.floor(BUDGET_MS / Math.max(once, 0.01))));
  const c0 = cpuMs();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run();
  return { wall: (performance.now() - t0) / reps, cpu: (cpuMs() - c0) / reps };
}

interface Op {
  name: string;
  fix: string;
  fn: () => tf.Tensor | tf.Tensor[];
  /** skip "before" on this backend (stock kernel missing or far too slow to time) */
  skipStock?: (backend: string) => string | undefined;
}

function ops(): { list: Op[]; dispose: () => void } {
  const ids = tf.randomUniform([BATCH, LEN], 0, VOCAB, 'int32'); // [B, L]
  const table = tf.randomNormal([VOCAB, DIM]); // [V, D]
  const dy = tf.randomNormal([BATCH, LEN, DIM]); // [B, L, D]
  const x = tf.randomNormal([BATCH * LEN, DIM]); // [B*L, D]
  const xT = tf.randomNormal([DIM, BATCH * LEN]); // [D, B*L]
  const w = tf.randomNormal([DIM, DIM]); // [D, D]
  const bias = tf.randomNormal([DIM]); // [D]
  const q = tf.randomNormal([BATCH, HEADS, LEN, DIM / HEADS]); // [B, H, L, Dh]
  const kT = tf.randomNormal([BATCH, HEADS, DIM / HEADS, LEN]); // [B, H, Dh, L]
  const x3 = tf.randomNormal([BATCH, LEN, DIM]); // [B, L, D]
  const flat = ids.reshape([-1]); // [B*L]
  const h = tf.randomNormal([BATCH * LEN, 4 * DIM]); // [B*L, F] feed-forward activations
  const g = dy.reshape([-1, DIM]); // [B*L, D]
  const list: Op[] = [
    {
      name: `unsortedSegmentSum [${BATCH * LEN},${DIM}] -> [${VOCAB},${DIM}]`,
      fix: 'UnsortedSegmentSum',
      fn: () => tf.unsortedSegmentSum(g, flat as tf.Tensor1D, VOCAB),
      skipStock: (b) => (b === 'wasm' ? 'no stock kernel' : undefined),
    },
    { name: `gather([${VOCAB},${DIM}], [${BATCH},${LEN}])`, fix: 'GatherV2', fn: () => tf.gather(table, ids) },
    {
      name: `embedding fwd+grad gather([${VOCAB},${DIM}], [${BATCH},${LEN}])`,
      fix: 'UnsortedSegmentSum',
      fn: () => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), dy)))(table),
      skipStock: (b) => (b === 'wasm' ? 'no stock kernel' : undefined),
    },
    { name: `matMul [${BATCH * LEN},${DIM}]x[${DIM},${DIM}] NN`, fix: 'BatchMatMul', fn: () => tf.matMul(x, w) },
    {
      name: `matMul [${BATCH * LEN},${DIM}]x[${DIM},${DIM}]^T NT (dX)`,
      fix: 'BatchMatMul',
      fn: () => tf.matMul(x, w, false, true),
    },
    {
      name: `matMul [${DIM},${BATCH * LEN}]^T x[${DIM},${DIM}] TN`,
      fix: 'BatchMatMul',
      fn: () => tf.matMul(xT, w, true, false),
    },
    {
      name: `matMul [${BATCH * LEN},${DIM}]^T x[${BATCH * LEN},${DIM}] TN (dW)`,
      fix: 'BatchMatMul',
      fn: () => tf.matMul(x, x, true, false),
    },
    {
      name: `matMul [${DIM},${BATCH * LEN}]^T x[${DIM},${DIM}]^T TT`,
      fix: 'BatchMatMul',
      fn: () => tf.matMul(xT, w, true, true),
    },
    { name: `attention [${q.shape}]x[${kT.shape}] NN`, fix: 'BatchMatMul', fn: () => tf.matMul(q, kT) },
    { name: `attention [${q.shape}]x[${q.shape}]^T NT`, fix: 'BatchMatMul', fn: () => tf.matMul(q, q, false, true) },
    { name: `attention [${q.shape}]^T x[${q.shape}] TN`, fix: 'BatchMatMul', fn: () => tf.matMul(q, q, true, false) },
    {
      name: `fused dense [${BATCH * LEN},${DIM}]x[${DIM},${DIM}]+b relu`,
      fix: '_FusedMatMul',
      fn: () => tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias, activation: 'relu' }),
    },
    {
      name: `fused batched [${x3.shape}]x[${DIM},${DIM}]+b relu`,
      fix: '_FusedMatMul',
      fn: () => tf.fused.matMul({ a: x3 as unknown as tf.Tensor2D, b: w as tf.Tensor2D, bias, activation: 'relu' }),
    },
    {
      name: `dense fwd+grad [${BATCH * LEN},${DIM}]x[${DIM},${DIM}]`,
      fix: 'BatchMatMul',
      fn: () =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: 'relu' })),
        )([x, w]),
    },
    { name: `sum over axis 0 [${h.shape}] (bias grad)`, fix: 'Sum', fn: () => tf.sum(h, 0) },
  ];
  return { list, dispose: () => tf.dispose([ids, table, dy, x, xT, w, bias, q, kT, x3, flat, g, h]) };
}

async function benchBackend(backendName: string): Promise<void> {
  await tf.setBackend(backendName);
  await tf.ready();
  const { list, dispose } = ops();
  console.log(
    `\n## backend ${backendName}   (ms per op, wall | this process's CPU; before = stock kernels, after = installKernelFixes)`,
  );
  console.log(
    `${'op'.padEnd(60)} ${'before wall'.padStart(15)} ${'after wall'.padStart(10)} ${'before cpu'.padStart(10)} ${'after cpu'.padStart(10)} ${'cpu speed-up'.padStart(12)}`,
  );
  for (const op of list) {
    uninstallKernelFixes(backendName);
    let before: Timing | string;
    const skip = op.skipStock?.(backendName);
    if (skip) before = skip;
    else if (backendName === 'cpu' && op.fix === 'UnsortedSegmentSum' && process.env.BENCH_CPU_STOCK_SEGMENT !== '1') {
      before = 'skipped'; // the stock cpu kernel takes ~70 s here; BENCH_CPU_STOCK_SEGMENT=1 to time it
    } else before = timeIt(op.fn);
    installKernelFixes(backendName);
    const after = timeIt(op.fn);
    const fmt = (v: Timing | string, k: keyof Timing) => (typeof v === 'string' ? v : v[k].toFixed(2));
    const speed = typeof before === 'string' ? '-' : `${(before.cpu / after.cpu).toFixed(1)}x`;
    console.log(
      `${op.name.padEnd(60)} ${fmt(before, 'wall').padStart(15)} ${fmt(after, 'wall').padStart(10)} ` +
        `${(typeof before === 'string' ? '' : fmt(before, 'cpu')).padStart(10)} ${fmt(after, 'cpu').padStart(10)} ${speed.padStart(12)}`,
    );
  }
  dispose();
}

async function main(): Promise<void> {
  const backends = (process.env.BENCH_BACKENDS ?? 'wasm,cpu')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  console.log(
    `kernel fixes benchmark: vocab ${VOCAB} x ${DIM}, batch ${BATCH} x L ${LEN}, ${HEADS} heads; node ${process.version}`,
  );
  for (const b of backends) await benchBackend(b);
  for (const b of backends) installKernelFixes(b);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
