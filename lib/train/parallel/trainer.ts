/**
 * Data-parallel training on worker threads (for the single-threaded wasm and cpu backends). Each step splits
 * the batch into W contiguous shards; the main thread (rank 0) computes shard 0's gradients while W - 1 worker
 * threads (ranks 1 ..) compute the others on replicas of the model. Every rank writes its gradients into shared
 * memory; then every rank averages them (weighted by shard size = the full batch's mean gradient, summed in rank
 * order so the average is bit-identical everywhere) and applies it with its own copy of the optimizer. Replicas
 * start from the main thread's weights and optimizer state, and apply identical updates, so they stay identical
 * without copying weights each step (checkEvery verifies it). The main thread's optimizer state is the one
 * checkpoints save. Dropout masks depend on (step, shard): dropout step = step * W + shard.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Samples } from '../../data/types';
import { BstModel } from '../../model/build';
import { ConfigError } from '../../util/errors';
import {
  ExchangeBuffers,
  GradsReply,
  spinMsFor,
  OptimizerMessage,
  StepMessage,
  TrainWorkerData,
  checksumOf,
  layoutOf,
  readNow,
} from './protocol';
import { applyAverage, optimizerSpec, shardGradients } from './optimizer';
import { WorkerError, WorkerPool } from './pool';
import { samplesBuffers, shardSizes, sliceRows } from './shards';

/** Options of DataParallelTrainer.start. */
export interface DataParallelOptions {
  model: BstModel;
  /** gradient computers including the main thread (2 = the main thread + 1 worker thread); >= 2 */
  workers: number;
  /** the variables the optimizer updates (default: the model's trainable weights, in that order) */
  vars?: tf.Variable[];
  /** every N steps, check that every worker's weights equal the main thread's (checksum); 0 = never (default) */
  checkEvery?: number;
}

/** Our backend names per tfjs backend name; only single-threaded backends gain from worker threads. */
const PARALLEL_BACKENDS: Record<string, string> = { wasm: 'wasm', cpu: 'cpu' };

/** Whether data-parallel worker threads can run on a tfjs backend (wasm, cpu; native backends use every core already). */
export function supportsWorkers(tfBackend: string = tf.getBackend()): boolean {
  return Object.prototype.hasOwnProperty.call(PARALLEL_BACKENDS, tfBackend);
}

/**
 * The kernels registered for a tfjs backend, each with the bst-lab marker of the replacement in effect
 * (lib/kernels: `bstFix` for the fixes, `bstNative` for the own C kernels), sorted. Workers must end up with
 * the same list, so every thread runs the same kernels.
 */
export function kernelSignature(backendName: string): string[] {
  return tf
    .getKernelsForBackend(backendName)
    .map((k) => {
      const m = k as { bstFix?: unknown; bstNative?: unknown };
      const mark = typeof m.bstNative === 'string' ? m.bstNative : typeof m.bstFix === 'string' ? m.bstFix : '';
      return mark ? `${k.kernelName}=${mark}` : k.kernelName;
    })
    .sort();
}

/** Data-parallel steps over worker threads; see the file comment. Create with start(), end with close(). */
export class DataParallelTrainer {
  /** tensors alive in each worker after its previous step (for leak checks) */
  readonly workerTensors: number[];
  /**
   * Cumulative milliseconds per phase of step() in the main thread: sending the shards, its own shard, waiting
   * for the workers' gradients, averaging + optimizer; and in the workers (mean over workers): computing their
   * shard, waiting for the others + averaging + optimizer.
   */
  readonly timings = { publish: 0, main: 0, wait: 0, apply: 0, workerCompute: 0, workerApply: 0, steps: 0 };
  private seq = 0;
  private optimizer?: tf.Optimizer;

  private constructor(
    private readonly model: BstModel,
    private readonly pool: WorkerPool,
    private readonly workers: number,
    private readonly vars: tf.Variable[],
    private readonly weightVars: tf.Variable[],
    private readonly exchange: ExchangeBuffers,
    private readonly checkEvery: number,
  ) {
    this.workerTensors = new Array(workers - 1).fill(0);
  }

  /** Start W - 1 worker threads with replicas of the model on the main thread's backend and kernel fixes. */
  static async start(o: DataParallelOptions): Promise<DataParallelTrainer> {
    const W = o.workers;
    if (!(Number.isInteger(W) && W >= 2))
      throw new ConfigError(`DataParallelTrainer: workers must be an integer >= 2, got ${W}`);
    const tfBackend = tf.getBackend();
    const backend = PARALLEL_BACKENDS[tfBackend];
    if (!supportsWorkers(tfBackend)) {
      throw new ConfigError(
        `workers=${W}: data-parallel worker threads need the wasm or cpu backend, ` +
          `not ${tfBackend} (native backends already use every core); use workers=1`,
      );
    }
    const { model } = o;
    const weightVars = model.net.weights.map((w) => w.read() as tf.Variable);
    const vars = o.vars ?? model.net.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainableIndex = vars.map((v) => weightVars.indexOf(v));
    const missing = trainableIndex.indexOf(-1);
    if (missing >= 0)
      throw new ConfigError(`DataParallelTrainer: variable ${vars[missing].name} is not a weight of the model`);
    for (const v of weightVars) {
      if (v.dtype !== 'float32')
        throw new ConfigError(`DataParallelTrainer: weight ${v.name} is ${v.dtype}; only float32 weights are shared`);
    }
    const wLayout = layoutOf(weightVars.map((v) => v.shape));
    const gLayout = layoutOf(vars.map((v) => v.shape));
    // the starting weights, copied once by every worker
    const weights = new SharedArrayBuffer(wLayout.total * 4);
    const wShared = new Float32Array(weights);
    weightVars.forEach((v, i) => wShared.set(readNow(v), wLayout.offsets[i]));
    const shared = ExchangeBuffers.allocate(W, gLayout);
    const kernels = kernelSignature(tfBackend);
    const { pool } = await WorkerPool.start({
      script: path.join(__dirname, 'worker.ts'),
      count: W - 1,
      label: 'training worker',
      workerData: (i): TrainWorkerData => ({
        config: model.config,
        sizes: model.sizes,
        backend,
        tfBackend,
        kernels,
        rank: i + 1,
        ranks: W,
        weights,
        weightLayout: wLayout,
        grads: shared.grads,
        gradLayout: gLayout,
        has: shared.has,
        control: shared.control,
        trainableIndex,
      }),
    });
    const exchange = new ExchangeBuffers(shared.grads, shared.has, shared.control, W, gLayout);
    return new DataParallelTrainer(
      model,
      pool,
      W,
      vars,
      weightVars,
      exchange,
      Math.max(0, Math.floor(o.checkEvery ?? 0)),
    );
  }

  /**
   * One optimizer step on a batch split over the workers; returns the batch's loss before the update (the
   * shard losses weighted by shard size). `step` is the global step (it seeds the shards' dropout masks).
   * The first call hands `optimizer` (class, config and state) to the workers; later calls must pass the same
   * optimizer, and nothing else may change the model's weights or the optimizer while the trainer runs.
   */
  async step(optimizer: tf.Optimizer, samples: Samples, step: number): Promise<number> {
    await this.bind(optimizer);
    const W = this.workers;
    const seq = this.seq + 1; // taken below, once every worker is sent it
    const sizes = shardSizes(samples.n, W);
    const shardWeights = Array.from({ length: W }, (_, k) => (k < sizes.length ? sizes[k] / samples.n : 0));
    const check = this.checkEvery > 0 && (seq - 1) % this.checkEvery === 0;
    const t = this.timings;
    let t0 = performance.now();
    const lap = (k: 'publish' | 'main' | 'wait' | 'apply') => {
      const now = performance.now();
      t[k] += now - t0;
      t0 = now;
    };
    const mainChecksum = check ? checksumOf(this.weightVars.map((v) => v.dataSync() as Float32Array)) : 0;
    // 1. Shards 1.. go to the workers (a rank past the last shard gets none and only applies the average). Every
    //    message is built before any is sent, so each worker sees every step number in turn, and the main thread
    //    publishes or abandons each: the exchange's double-buffering relies on it (see ExchangeBuffers).
    const msgs: StepMessage[] = [];
    let start = sizes[0] ?? 0;
    for (let k = 1; k < W; k++) {
      const shard = k < sizes.length ? sliceRows(samples, start, start + sizes[k]) : null;
      if (shard) start += sizes[k];
      msgs.push({ type: 'step', seq, dropoutStep: step * W + k, shard, shardWeights, check });
    }
    this.seq = seq;
    const replies: Promise<GradsReply>[] = [];
    try {
      msgs.forEach((msg, k) => {
        replies.push(
          this.pool.request(
            k,
            msg,
            msg.shard ? samplesBuffers(msg.shard) : [],
          ) as Promise<unknown> as Promise<GradsReply>,
        );
      });
    } catch (e) {
      await this.close(); // some workers have step seq and others not: no later step could be exchanged safely
      throw e;
    }
    lap('publish');
    // 2. Shard 0 here, written to the exchange. If it fails, the step is abandoned on every rank.
    let loss = 0;
    let own: (tf.Tensor | undefined)[] = [];
    try {
      const shard0 = sizes.length > 1 ? sliceRows(samples, 0, sizes[0]) : samples;
      const r = shardGradients(this.model, this.vars, shard0, step * W, this.exchange, seq, 0);
      own = r.grads; // kept for the average
      loss += shardWeights[0] * r.loss;
    } catch (e) {
      this.exchange.abandon(seq, 0);
      await Promise.all(replies.map((r) => r.catch(() => undefined)));
      throw e;
    }
    lap('main');
    try {
      // 3. Wait for the workers' gradients: poll the exchange for a while (no event-loop round trip, no sleeping
      //    vCPU to wake), then fall back to their replies (a worker error arrives as a rejected reply).
      // 4. Average and apply, as every worker does (same variable names as optimizer.minimize would use). When
      //    the exchange is ready before the replies, apply first: the replies arrive meanwhile.
      const spin = spinMsFor(W);
      const ready = spin > 0 && this.exchange.waitAll(seq, { sleep: false, timeoutMs: spin * 4 }) === 'ready';
      const apply = () => applyAverage(optimizer, this.vars, this.exchange, seq, shardWeights, { rank: 0, grads: own });
      lap('wait');
      if (ready) {
        try {
          apply();
        } catch (e) {
          await Promise.all(replies.map((r) => r.catch(() => undefined))); // no reply left unhandled
          throw e;
        }
        lap('apply');
      }
      const got = await Promise.all(replies); // the checksums they carry are of the weights before this step
      lap('wait');
      got.forEach((r, idx) => {
        if (check && r.checksum !== mainChecksum) {
          throw new WorkerError(
            `training worker ${idx + 1}: weights differ from the main thread's at step ${step} ` +
              `(checksum ${r.checksum} vs ${mainChecksum})`,
            idx,
          );
        }
        this.workerTensors[idx] = r.numTensors;
        t.workerCompute += r.computeMs / got.length;
        t.workerApply += r.applyMs / got.length;
        loss += shardWeights[idx + 1] * r.loss;
      });
      if (!ready) apply();
    } finally {
      tf.dispose(own.filter((g): g is tf.Tensor => !!g)); // this thread's gradients, kept for the average
    }
    lap('apply');
    t.steps++;
    return loss;
  }

  /** Hand the optimizer to the workers before the first step; refuse a different one later. */
  private async bind(optimizer: tf.Optimizer): Promise<void> {
    if (this.optimizer === optimizer) return;
    if (this.optimizer) {
      throw new ConfigError(
        'DataParallelTrainer.step: a different optimizer than in the first step; the workers replicate ' +
          'the first one (start a new trainer for a new optimizer)',
      );
    }
    const msg: OptimizerMessage = { type: 'optimizer', spec: await optimizerSpec(optimizer) };
    await Promise.all(Array.from({ length: this.workers - 1 }, (_, k) => this.pool.request(k, msg)));
    this.optimizer = optimizer;
  }

  /** Stop the worker threads (idempotent). */
  close(): Promise<void> {
    this.exchange.close();
    return this.pool.close();
  }
}
