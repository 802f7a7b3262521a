/**
 * The own C kernels on the BST's shapes (ML-1M-like, batch 256, L = BENCH_LEN, D 72, 4 heads): matmul GFLOP/s
 * for every product a training step runs, and attention forward/backward time. With BENCH_OLD_WASM=<file> (an
 * older build, e.g. `git show <rev>:lib/kernels/native/bst_kernels_relaxed.wasm > /tmp/old.wasm`) each
 * measurement alternates the old and the current build over the same memory: a paired comparison, robust to
 * this shared machine's swings. Best of BENCH_REPS runs; BENCH_COLD=1 evicts the caches (an 8 MB copy) before
 * every call, as inside a training step. Only kernels whose signature did not change can be compared.
 *
 *   npx tsx bench/native.ts
 *   BENCH_OLD_WASM=/tmp/old.wasm BENCH_COLD=1 npx tsx bench/native.ts
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installKernelFixes, installNativeKernels, nativeFor } from '../lib/kernels';
import { NativeExports, WASM } from '../lib/kernels/native-module';

const L = Number(process.env.BENCH_LEN ?? 8);
const B = Number(process.env.BENCH_BATCH ?? 256);
const D = 72;
const H = 4;
const REPS = Number(process.env.BENCH_REPS ?? 40);
const COLD = process.env.BENCH_COLD === '1';
const OLD = process.env.BENCH_OLD_WASM;

/** [m, k, n, transA, transB]: the products of one training step (forward, and both gradients of each). */
function shapes(): number[][] {
  const T = B * L; // tokens
  const F = L * D; // flattened sequence into the MLP
  return [
    [T, D, D, 0, 0],
    [T, D, D, 0, 1],
    [D, T, D, 1, 0], // q/k/v, out projection, feed-forward: forward, dX, dW
    [B, F, 256, 0, 0],
    [B, 256, F, 0, 1],
    [F, B, 256, 1, 0], // MLP layer 1
    [B, 256, 128, 0, 0],
    [B, 128, 256, 0, 1],
    [256, B, 128, 1, 0], // MLP layer 2
  ];
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  installKernelFixes('wasm');
  installNativeKernels('wasm');
  const nk = nativeFor(tf.backend());
  const cur = nk.k;
  let old: NativeExports | undefined;
  if (OLD) {
    const memory = (nk.backend.wasm as { asm?: { memory?: object } }).asm?.memory;
    old = new WASM.Instance(new WASM.Module(fs.readFileSync(OLD)), { env: { memory } })
      .exports as unknown as NativeExports;
  }
  const flushSrc = tf.zeros([2 << 20]);
  const flushDst = tf.zeros([2 << 20]);
  const P = (t: tf.Tensor) => nk.ptr(t as unknown as tf.TensorInfo);
  const flush = () => {
    if (COLD) cur.bst_copy(P(flushDst), P(flushSrc), 2 << 20);
  };
  /** best ms of REPS calls of each variant, alternating */
  const best = (variants: Record<string, () => void>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (let r = 0; r < REPS; r++) {
      for (const [name, f] of Object.entries(variants)) {
        flush();
        const t0 = performance.now();
        f();
        out[name] = Math.min(out[name] ?? Infinity, performance.now() - t0);
      }
    }
    return out;
  };
  console.log(
    `own C kernels, batch ${B}, L=${L}, D=${D}, ${H} heads; best of ${REPS}, ${COLD ? 'cold' : 'warm'} caches` +
      (old ? `; old build ${OLD} vs current` : ''),
  );
  for (const [m, k, n, ta, tb] of shapes()) {
    const a = tf.randomNormal([m * k]),
      b = tf.randomNormal([k * n]),
      c = tf.zeros([m * n]);
    const scratch = nk.scratch(cur.bst_matmul_scratch(k, n));
    const call = (x: NativeExports) => () => x.bst_matmul(P(c), P(a), P(b), m, k, n, ta, tb, scratch, 0, 0, 0);
    const t = best(old ? { old: call(old), current: call(cur) } : { current: call(cur) });
    const g = (ms: number) => `${((2 * m * k * n) / ms / 1e6).toFixed(1)} GFLOP/s`;
    console.log(
      `  matmul m=${m} k=${k} n=${n}${ta ? ' A^T' : ''}${tb ? ' B^T' : ''}: ${old ? `old ${g(t.old)}, ` : ''}current ${g(t.current)}`,
    );
    tf.dispose([a, b, c]);
  }
  const [q, k, v] = [0, 1, 2].map(() => tf.randomNormal([B, L, D]));
  const mask = tf.ones([B, L]);
  const [ctx, dq, dk, dv] = [0, 1, 2, 3].map(() => tf.zeros([B, L, D]));
  const probs = tf.zeros([B, H, L, L]);
  const scale = 1 / Math.sqrt(D / H);
  const dh = D / H;
  // enough for the current build's forward and backward, and for older builds (session 3: dh * L floats forward,
  // L * L + dh * L backward; before it: none forward, L backward)
  const scratch = nk.scratch(
    Math.max(cur.bst_attention_scratch(L, dh), cur.bst_attention_grad_scratch(L, dh), L * L + dh * L),
  );
  const fwdCall = (x: NativeExports) => () =>
    x.bst_attention(P(ctx), P(probs), P(q), P(k), P(v), P(mask), B, L, D, H, scale, scratch);
  const bwdCall = (x: NativeExports) => () =>
    x.bst_attention_grad(P(dq), P(dk), P(dv), scratch, P(ctx), P(probs), P(q), P(k), P(v), B, L, D, H, scale);
  const fwd = best(old ? { old: fwdCall(old), current: fwdCall(cur) } : { current: fwdCall(cur) });
  const bwd = best(old ? { old: bwdCall(old), current: bwdCall(cur) } : { current: bwdCall(cur) });
  const ms = (t: Record<string, number>) =>
    (old ? `old ${t.old.toFixed(3)} ms, ` : '') + `current ${t.current.toFixed(3)} ms`;
  console.log(`  attention forward: ${ms(fwd)}`);
  console.log(`  attention backward: ${ms(bwd)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
