/**
 * Entry point of a data-parallel training worker thread (started by DataParallelTrainer through WorkerPool;
 * not imported by the library). It initialises the same backend and kernel fixes as the main thread, builds a
 * replica of the model from (config, sizes) with the main thread's starting weights, rebuilds the main thread's
 * optimizer, and per step: computes the gradients of its shard's loss (lossFunction, the one trainStep
 * minimises), publishes them in the shared exchange, replies, waits for every other rank's gradients, and
 * applies their average with its own optimizer -- the same update every rank applies.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../kernels/backend';
import { buildBst } from '../../model/build';
import { BstModel } from '../../model/build';
import {
  ExchangeBuffers,
  GradsReply,
  spinMsFor,
  OptimizerMessage,
  StepMessage,
  TrainWorkerData,
  checksumOf,
  writeVariable,
} from './protocol';
import { applyAverage, buildOptimizer, shardGradients } from './optimizer';
import { kernelSignature } from './trainer';

const data = workerData as TrainWorkerData;
const port = parentPort!;

function post(m: unknown): void {
  port.postMessage(m);
}

function postError(e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', name: err.name, message: err.message, stack: err.stack });
}

function sameShapes(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((s, i) => s.length === b[i].length && s.every((d, j) => d === b[i][j]));
}

async function setup(): Promise<{ model: BstModel; weights: tf.Variable[]; trainable: tf.Variable[] }> {
  // Ask for what the main thread has: fixes if any kernel carries a bst-lab marker, own kernels if any is native
  // or fused (lib/kernels' fused kernels are new kernel names starting with 'Bst').
  const marked = data.kernels.some((k) => k.includes('='));
  const native = data.kernels.some((k) => k.includes('=native:') || k.startsWith('Bst'));
  const info = await initBackend({
    choice: data.backend,
    kernelFixes: marked,
    nativeKernels: native,
    log: () => undefined,
  });
  if (info.tfName !== data.tfBackend) {
    throw new Error(
      `worker backend is ${info.tfName} (${info.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}), main thread uses ${data.tfBackend}`,
    );
  }
  const mine = kernelSignature(info.tfName);
  const onlyMain = data.kernels.filter((k) => !mine.includes(k));
  const onlyWorker = mine.filter((k) => !data.kernels.includes(k));
  if (onlyMain.length || onlyWorker.length) {
    throw new Error(
      `worker kernels differ from the main thread's: main only [${onlyMain.join(', ')}], worker only [${onlyWorker.join(', ')}]`,
    );
  }
  const model = buildBst(data.config, data.sizes);
  const weights = model.net.weights.map((w) => w.read() as tf.Variable);
  const shapes = weights.map((w) => w.shape);
  if (!sameShapes(shapes, data.weightLayout.shapes)) {
    throw new Error(
      `the worker's model (${shapes.length} weights) does not match the main thread's (${data.weightLayout.shapes.length}): ` +
        `was the model built by buildBst(config, sizes)?`,
    );
  }
  const trainable = data.trainableIndex.map((i) => weights[i]);
  return { model, weights, trainable };
}

async function main(): Promise<void> {
  const { model, weights, trainable } = await setup();
  const wShared = new Float32Array(data.weights);
  const wl = data.weightLayout;
  weights.forEach((w, i) => writeVariable(w, wShared.subarray(wl.offsets[i], wl.offsets[i] + w.size)));
  const exchange = new ExchangeBuffers(data.grads, data.has, data.control, data.ranks, data.gradLayout);
  let optimizer: tf.Optimizer | undefined;
  let applyMs = 0;
  const spinMs = spinMsFor(data.ranks);
  let busy = Promise.resolve();
  let lastSeq = 0;
  const onStep = (m: StepMessage) => {
    if (!optimizer) throw new Error('step before the optimizer message');
    // the exchange's double-buffering holds only while each rank sees every step number in turn
    if (m.seq !== lastSeq + 1)
      throw new Error(`step message ${m.seq} after step ${lastSeq}: the exchange needs consecutive steps`);
    lastSeq = m.seq;
    const t0 = performance.now();
    const checksum = m.check ? checksumOf(weights.map((w) => w.dataSync() as Float32Array)) : undefined;
    let loss = 0;
    let own: (tf.Tensor | undefined)[] = [];
    if (m.shard) {
      try {
        ({ loss, grads: own } = shardGradients(model, trainable, m.shard, m.dropoutStep, exchange, m.seq, data.rank));
      } catch (e) {
        exchange.abandon(m.seq, data.rank); // the ranks waiting for this step stop at once (then the pool fails)
        throw e;
      }
    } else {
      exchange.publish(
        m.seq,
        data.rank,
        trainable.map(() => undefined),
      );
    }
    const reply: GradsReply = {
      type: 'grads',
      loss,
      numTensors: tf.memory().numTensors,
      checksum,
      computeMs: performance.now() - t0,
      applyMs,
    };
    post(reply);
    // Wait for every rank's gradients, then apply the average exactly as the main thread does.
    const t1 = performance.now();
    try {
      if (exchange.waitAll(m.seq) === 'ready')
        applyAverage(optimizer, trainable, exchange, m.seq, m.shardWeights, { rank: data.rank, grads: own });
    } finally {
      tf.dispose(own.filter((g): g is tf.Tensor => !!g));
    }
    applyMs = performance.now() - t1;
  };
  type Incoming = StepMessage | OptimizerMessage | { type: 'close' };
  const onMessage = (m: Incoming) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    if (m.type === 'optimizer') {
      busy = busy
        .then(async () => {
          optimizer?.dispose();
          optimizer = await buildOptimizer(m.spec);
          post({ type: 'optimizer-ready' });
        })
        .catch(postError);
      return;
    }
    busy = busy
      .then(() => {
        onStep(m);
        // The next step usually follows within a millisecond: poll for it rather than sleep in the event loop
        // (waking an idle vCPU costs 1-2.5 ms here; see ExchangeBuffers.waitAll).
        for (;;) {
          const t0 = performance.now();
          let next: { message: Incoming } | undefined;
          for (let polls = 0; !next; polls++) {
            next = receiveMessageOnPort(port) as { message: Incoming } | undefined;
            if (!next && (polls & 63) === 63 && performance.now() - t0 > spinMs) break;
          }
          if (!next) return;
          if (next.message.type !== 'step') {
            onMessage(next.message);
            return;
          }
          onStep(next.message);
        }
      })
      .catch(postError);
  };
  port.on('message', onMessage);
  post({ type: 'ready', numTensors: tf.memory().numTensors, backend: tf.getBackend() });
}

main().catch(postError);
