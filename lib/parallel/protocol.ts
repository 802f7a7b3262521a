/** Messages and shared-memory layout between the data-parallel trainer (main thread) and its workers. */
import * as tf from '@tensorflow/tfjs';
import { FeatureSizes, Samples } from '../data/types';
import { BstConfig } from '../model/config';

/** Where each weight lives in a shared Float32Array: offsets and shapes, in model.net.weights order. */
export interface WeightLayout {
  shapes: number[][];
  offsets: number[];
  /** total float count */
  total: number;
}

/** workerData of a training worker. */
export interface TrainWorkerData {
  [key: string]: unknown;
  config: BstConfig;
  sizes: FeatureSizes;
  /** our backend name to initialise ('wasm', 'cpu') and the tfjs name it must end up as */
  backend: string;
  tfBackend: string;
  /** the main thread's kernelSignature (trainer.ts): the worker must end up with the same kernels */
  kernels: string[];
  /** all weights (model.net.weights order), written by the main thread before each step */
  weights: SharedArrayBuffer;
  weightLayout: WeightLayout;
  /** this worker's gradients of the trainable weights (model.net.trainableWeights order) */
  grads: SharedArrayBuffer;
  gradLayout: WeightLayout;
  /** indices into model.net.weights of the trainable weights */
  trainableIndex: number[];
}

/** Main -> worker: compute the gradients of a shard at the weights now in the shared buffer. */
export interface StepMessage {
  type: 'step';
  /** the dropout step for this shard (unique per step and shard) */
  dropoutStep: number;
  shard: Samples;
  /** also return a checksum of the weights the worker holds */
  check: boolean;
}

/** Worker -> main after a step: the gradients are in the worker's grads buffer. */
export interface GradsReply {
  type: 'grads';
  loss: number;
  /** per trainable weight: 1 when the loss reached it (a gradient was written), else 0 */
  has: number[];
  /** tensors alive in the worker after the step (leak check) */
  numTensors: number;
  checksum?: number;
  /** milliseconds the worker spent loading the weights and computing the gradients */
  loadMs: number;
  computeMs: number;
}

/** Layout of the given shapes packed one after another. */
export function layoutOf(shapes: number[][]): WeightLayout {
  const offsets: number[] = [];
  let total = 0;
  for (const s of shapes) {
    offsets.push(total);
    total += s.reduce((a, b) => a * b, 1);
  }
  return { shapes: shapes.map((s) => s.slice()), offsets, total };
}

/** A cheap order-sensitive checksum (FNV-1a over the float bit patterns) of arrays of float32 values. */
export function checksumOf(arrays: Float32Array[]): number {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < u.length; i++) h = Math.imul(h ^ u[i], 0x01000193);
  }
  return h >>> 0;
}

/** What the wasm backend offers for reading and writing tensor data in place (tfjs-backend-wasm 4.22). */
interface HeapBackend {
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array;
  refCount(dataId: object): number;
}

function heapBackend(): HeapBackend | undefined {
  const b = tf.backend() as unknown as Partial<HeapBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.refCount === 'function' ? (b as HeapBackend) : undefined;
}

/**
 * A float32 tensor's values without a copy where the backend allows it (wasm: a view of its heap, valid only until
 * the next tensor allocation -- use it at once), else dataSync().
 */
export function readNow(t: tf.Tensor): Float32Array {
  const b = heapBackend();
  return b ? b.typedArrayFromHeap(t as unknown as { dataId: object; shape: number[]; dtype: string }) : (t.dataSync() as Float32Array);
}

/** v's values := src, in place when v owns its data alone on wasm (no allocation), else by assign. */
export function writeVariable(v: tf.Variable, src: Float32Array): void {
  const b = heapBackend();
  const info = v as unknown as { dataId: object; shape: number[]; dtype: string };
  if (b && b.refCount(info.dataId) === 1) {
    b.typedArrayFromHeap(info).set(src);
    return;
  }
  tf.tidy(() => v.assign(tf.tensor(src.slice(), v.shape, 'float32')));
}
