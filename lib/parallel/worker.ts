/**
 * Entry point of a data-parallel training worker thread (started by DataParallelTrainer through WorkerPool;
 * not imported by the library). It initialises the same backend and kernel fixes as the main thread, builds a
 * replica of the model from (config, sizes), and per step: copies the shared weights into the replica,
 * computes the gradients of its shard's loss (lossFunction, the one trainStep minimises) and writes them to its
 * shared gradient buffer.
 */
import { parentPort, workerData } from 'worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { buildBst } from '../model/build';
import { lossFunction, setDropoutStep } from '../model/loss';
import { BstModel } from '../model/build';
import { GradsReply, StepMessage, TrainWorkerData, checksumOf, readNow, writeVariable } from './protocol';
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
  const info = await initBackend({ choice: data.backend, kernelFixes: marked, nativeKernels: native, log: () => undefined });
  if (info.tfName !== data.tfBackend) {
    throw new Error(`worker backend is ${info.tfName} (${info.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}), main thread uses ${data.tfBackend}`);
  }
  const mine = kernelSignature(info.tfName);
  const onlyMain = data.kernels.filter((k) => !mine.includes(k));
  const onlyWorker = mine.filter((k) => !data.kernels.includes(k));
  if (onlyMain.length || onlyWorker.length) {
    throw new Error(`worker kernels differ from the main thread's: main only [${onlyMain.join(', ')}], worker only [${onlyWorker.join(', ')}]`);
  }
  const model = buildBst(data.config, data.sizes);
  const weights = model.net.weights.map((w) => w.read() as tf.Variable);
  const shapes = weights.map((w) => w.shape);
  if (!sameShapes(shapes, data.weightLayout.shapes)) {
    throw new Error(`the worker's model (${shapes.length} weights) does not match the main thread's (${data.weightLayout.shapes.length}): ` +
      `was the model built by buildBst(config, sizes)?`);
  }
  const trainable = data.trainableIndex.map((i) => weights[i]);
  return { model, weights, trainable };
}

async function main(): Promise<void> {
  const { model, weights, trainable } = await setup();
  const wShared = new Float32Array(data.weights);
  const gShared = new Float32Array(data.grads);
  const wl = data.weightLayout;
  const gl = data.gradLayout;
  port.on('message', (m: StepMessage | { type: 'close' }) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    try {
      const t0 = performance.now();
      // Load the weights the main thread wrote for this step (copies: the shared buffer is rewritten next step).
      weights.forEach((w, i) => writeVariable(w, wShared.subarray(wl.offsets[i], wl.offsets[i] + w.size)));
      const checksum = m.check ? checksumOf(weights.map((w) => w.dataSync() as Float32Array)) : undefined;
      const t1 = performance.now();
      setDropoutStep(model, m.dropoutStep);
      const has: number[] = new Array(trainable.length).fill(0);
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFunction(model, m.shard), trainable);
        trainable.forEach((v, i) => {
          const g = grads[v.name];
          if (!g) return;
          gShared.set(readNow(g), gl.offsets[i]);
          has[i] = 1;
        });
        return value.dataSync()[0];
      });
      const reply: GradsReply = {
        type: 'grads', loss, has, numTensors: tf.memory().numTensors, checksum, loadMs: t1 - t0, computeMs: performance.now() - t1,
      };
      post(reply);
    } catch (e) {
      postError(e);
    }
  });
  post({ type: 'ready', numTensors: tf.memory().numTensors, backend: tf.getBackend() });
}

main().catch(postError);
