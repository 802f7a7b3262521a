/**
 * Data-parallel training on worker threads (for the single-threaded wasm and cpu backends). Each step splits
 * the batch into W contiguous shards; the main thread computes shard 0's gradients while W - 1 worker threads
 * compute the others on replicas of the model; the gradients are averaged weighted by shard size (= the full
 * batch's mean gradient) and the main thread's optimizer applies them. Before every step the main thread
 * writes its weights into one SharedArrayBuffer that every replica copies, so all replicas hold exactly the
 * main thread's parameters; the optimizer state (and so checkpoints and resume) lives in the main thread only.
 * Dropout masks depend on (step, shard): dropout step = step * W + shard.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Samples } from '../data/types';
import { BstModel } from '../model/build';
import { lossFunction, setDropoutStep } from '../model/loss';
import { ConfigError } from '../util/errors';
import { GradsReply, StepMessage, TrainWorkerData, WeightLayout, checksumOf, layoutOf, readNow } from './protocol';
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
  /** tensors alive in each worker after its last step (for leak checks) */
  readonly workerTensors: number[];
  /**
   * Cumulative milliseconds per phase of step(): publishing the weights, shard 0 here, waiting for the workers,
   * averaging + optimizer; and in the workers (mean over workers): loading the weights, computing their shard.
   */
  readonly timings = { publish: 0, main: 0, wait: 0, apply: 0, workerLoad: 0, workerCompute: 0, steps: 0 };
  private steps = 0;
  /** per trainable weight: the weighted gradient sum of the current step (reused every step) */
  private readonly sums: Float32Array[];

  private constructor(
    private readonly model: BstModel,
    private readonly pool: WorkerPool,
    private readonly workers: number,
    private readonly vars: tf.Variable[],
    private readonly weightVars: tf.Variable[],
    private readonly wShared: Float32Array,
    private readonly wLayout: WeightLayout,
    private readonly gShared: Float32Array[],
    private readonly gLayout: WeightLayout,
    private readonly checkEvery: number,
  ) {
    this.workerTensors = new Array(workers - 1).fill(0);
    this.sums = vars.map((v) => new Float32Array(v.size));
  }

  /** Start W - 1 worker threads with replicas of the model on the main thread's backend and kernel fixes. */
  static async start(o: DataParallelOptions): Promise<DataParallelTrainer> {
    const W = o.workers;
    if (!(Number.isInteger(W) && W >= 2)) throw new ConfigError(`DataParallelTrainer: workers must be an integer >= 2, got ${W}`);
    const tfBackend = tf.getBackend();
    const backend = PARALLEL_BACKENDS[tfBackend];
    if (!supportsWorkers(tfBackend)) {
      throw new ConfigError(`workers=${W}: data-parallel worker threads need the wasm or cpu backend, ` +
        `not ${tfBackend} (native backends already use every core); use workers=1`);
    }
    const { model } = o;
    const weightVars = model.net.weights.map((w) => w.read() as tf.Variable);
    const vars = o.vars ?? model.net.trainableWeights.map((w) => w.read() as tf.Variable);
    const trainableIndex = vars.map((v) => weightVars.indexOf(v));
    const missing = trainableIndex.indexOf(-1);
    if (missing >= 0) throw new ConfigError(`DataParallelTrainer: variable ${vars[missing].name} is not a weight of the model`);
    for (const v of weightVars) {
      if (v.dtype !== 'float32') throw new ConfigError(`DataParallelTrainer: weight ${v.name} is ${v.dtype}; only float32 weights are shared`);
    }
    const wLayout = layoutOf(weightVars.map((v) => v.shape));
    const gLayout = layoutOf(vars.map((v) => v.shape));
    const weights = new SharedArrayBuffer(wLayout.total * 4);
    const grads = Array.from({ length: W - 1 }, () => new SharedArrayBuffer(gLayout.total * 4));
    const kernels = kernelSignature(tfBackend);
    const { pool } = await WorkerPool.start({
      script: path.join(__dirname, 'worker.ts'),
      count: W - 1,
      label: 'training worker',
      workerData: (i): TrainWorkerData => ({
        config: model.config, sizes: model.sizes, backend, tfBackend, kernels,
        weights, weightLayout: wLayout, grads: grads[i], gradLayout: gLayout, trainableIndex,
      }),
    });
    return new DataParallelTrainer(model, pool, W, vars, weightVars, new Float32Array(weights), wLayout,
      grads.map((g) => new Float32Array(g)), gLayout, Math.max(0, Math.floor(o.checkEvery ?? 0)));
  }

  /**
   * One optimizer step on a batch split over the workers; returns the batch's loss before the update (the
   * shard losses weighted by shard size). `step` is the global step (it seeds the shards' dropout masks).
   */
  async step(optimizer: tf.Optimizer, samples: Samples, step: number): Promise<number> {
    const W = this.workers;
    const sizes = shardSizes(samples.n, W);
    const check = this.checkEvery > 0 && this.steps % this.checkEvery === 0;
    this.steps++;
    const t = this.timings;
    let t0 = performance.now();
    const lap = (k: 'publish' | 'main' | 'wait' | 'apply') => { const now = performance.now(); t[k] += now - t0; t0 = now; };
    // 1. Publish the current weights (all replicas copy them before computing).
    this.weightVars.forEach((v, i) => this.wShared.set(readNow(v), this.wLayout.offsets[i])); // views, no copies
    const mainChecksum = check ? checksumOf(this.weightVars.map((v) => v.dataSync() as Float32Array)) : 0;
    // 2. Shards 1.. go to the workers; shard 0 stays here.
    const replies: Promise<GradsReply>[] = [];
    let start = sizes[0];
    for (let k = 1; k < sizes.length; k++) {
      const shard = sliceRows(samples, start, start + sizes[k]);
      start += sizes[k];
      const msg: StepMessage = { type: 'step', dropoutStep: step * W + k, shard, check };
      replies.push(this.pool.request(k - 1, msg, samplesBuffers(shard)) as Promise<unknown> as Promise<GradsReply>);
    }
    lap('publish');
    // 3. Shard 0 on the main thread, scaled into the sum buffers.
    const weightOf = (k: number) => sizes[k] / samples.n;
    const has = new Array<boolean>(this.vars.length).fill(false);
    /** sums[i] (+)= w * src[off ..]: the first contribution assigns, later ones add */
    const accumulate = (i: number, w: number, src: Float32Array, off: number) => {
      const s = this.sums[i];
      if (has[i]) for (let j = 0; j < s.length; j++) s[j] += w * src[off + j];
      else for (let j = 0; j < s.length; j++) s[j] = w * src[off + j];
      has[i] = true;
    };
    let loss = 0;
    {
      const shard0 = sizes.length > 1 ? sliceRows(samples, 0, sizes[0]) : samples;
      setDropoutStep(this.model, step * W);
      const w0 = weightOf(0);
      loss += w0 * tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFunction(this.model, shard0), this.vars);
        this.vars.forEach((v, i) => {
          const g = grads[v.name];
          if (!g) return;
          accumulate(i, w0, readNow(g), 0); // a view, used before any allocation
        });
        return value.dataSync()[0];
      });
    }
    lap('main');
    // 4. Add the workers' gradients in shard order.
    const got = await Promise.all(replies);
    lap('wait');
    got.forEach((r, idx) => {
      const k = idx + 1;
      const wk = weightOf(k);
      if (check && r.checksum !== mainChecksum) {
        throw new WorkerError(`training worker ${idx + 1}: weights differ from the main thread's at step ${step} ` +
          `(checksum ${r.checksum} vs ${mainChecksum})`, idx);
      }
      this.workerTensors[idx] = r.numTensors;
      t.workerLoad += r.loadMs / got.length;
      t.workerCompute += r.computeMs / got.length;
      const g = this.gShared[idx];
      this.vars.forEach((_, i) => {
        if (r.has[i]) accumulate(i, wk, g, this.gLayout.offsets[i]);
      });
      loss += wk * r.loss;
    });
    // 5. Apply the averaged gradients (same variable names as optimizer.minimize would use).
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      this.vars.forEach((v, i) => {
        if (has[i]) named[v.name] = tf.tensor(this.sums[i], v.shape, 'float32');
      });
      optimizer.applyGradients(named);
    });
    lap('apply');
    t.steps++;
    return loss;
  }

  /** Stop the worker threads (idempotent). */
  close(): Promise<void> {
    return this.pool.close();
  }
}
